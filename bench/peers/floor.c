/*
 * The C floor of the iomux benchmark: the same call loop as the bench scenarios, written
 * directly against select(2), poll(2) and epoll_wait(2), so the gap between iomux and the
 * kernel's own cost can be read off one table.
 *
 * The bench compiles this file with `cc -O2` into a temporary directory and runs it with the
 * workload's sockets inherited at the same fd numbers the bench process uses.
 *
 * usage: floor MODE TIMEOUTS TIME_MS MAX_SAMPLES FDS K
 *        floor serve   (reads "MODE TIMEOUTS TIME_MS MAX_SAMPLES FDS K" lines from stdin, answers
 *                       each with its JSON lines and then "done", so one process serves a fixture)
 *   MODE      select | poll | epoll (one wait per call)
 *             churn-poll | churn-epoll (register + unregister of one more fd per call)
 *   TIMEOUTS  comma-separated ms, e.g. "0,1000" (each must return at once: fds are ready)
 *   TIME_MS   measuring time per timeout, after a short warm-up
 *   FDS       the watched fds in array order, as ranges: "300-1299,1400"
 *   K         how many of the last fds in FDS are active (readable); the others must be idle
 * With IOMUX_FLOOR_THREAD=1 in the environment it first starts one idle thread, so that the
 * process is multi-threaded like every Node process: Linux then takes an atomic reference on
 * each fd that poll(2)/select(2) look at (fdget() has a fast path only for a file table that
 * no other thread shares), and the C floor pays what iomux pays there.
 * Prints one JSON line per timeout: {"timeoutMs":T,"samples":[ns,...]}. Exits 2 when a call
 * reports anything other than exactly the K active fds, so a broken workload never passes as
 * a fast one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/epoll.h>
#endif

typedef struct {
  int *fds;      /* watched fds, active ones last */
  int n;         /* number of watched fds */
  int k;         /* the last k are active */
  int maxfd;
  uint8_t *is_active; /* indexed by fd */
  int *ready;    /* the fds one call reported */
} workload;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what) {
  fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* Every call must see exactly the K active fds; anything else means the workload is wrong. */
static void check(const workload *w, int nready) {
  if (nready != w->k) {
    fprintf(stderr, "floor: %d fds ready, expected %d\n", nready, w->k);
    exit(2);
  }
  for (int i = 0; i < nready; i++) {
    int fd = w->ready[i];
    if (fd < 0 || fd > w->maxfd || !w->is_active[fd]) {
      fprintf(stderr, "floor: fd %d reported ready but it is idle\n", fd);
      exit(2);
    }
  }
}

static void parse_fds(workload *w, const char *spec) {
  int cap = 1024;
  w->fds = malloc(sizeof(int) * cap);
  w->n = 0;
  const char *p = spec;
  while (*p) {
    char *end;
    long a = strtol(p, &end, 10), b = a;
    if (*end == '-') b = strtol(end + 1, &end, 10);
    for (long fd = a; fd <= b; fd++) {
      if (w->n == cap) w->fds = realloc(w->fds, sizeof(int) * (cap *= 2));
      w->fds[w->n++] = (int)fd;
    }
    p = *end == ',' ? end + 1 : end;
  }
  w->maxfd = -1;
  for (int i = 0; i < w->n; i++)
    if (w->fds[i] > w->maxfd) w->maxfd = w->fds[i];
  w->is_active = calloc((size_t)w->maxfd + 1, 1);
  for (int i = w->n - w->k; i < w->n; i++) w->is_active[w->fds[i]] = 1;
  w->ready = malloc(sizeof(int) * (size_t)(w->n + 1));
}

/* select(2): the fd set is rebuilt on every call, as any select() caller must. The set is a
 * heap bitmap sized to the highest fd (Linux takes any nfds), which is what iomux does with
 * allowLargeFds; below FD_SETSIZE it is the same work as FD_ZERO + FD_SET. */
typedef struct { workload *w; unsigned long *set; size_t words; } select_state;

static int call_select(select_state *s, int timeout_ms) {
  workload *w = s->w;
  const size_t bits = 8 * sizeof(unsigned long);
  memset(s->set, 0, s->words * sizeof(unsigned long));
  for (int i = 0; i < w->n; i++) s->set[w->fds[i] / bits] |= 1UL << (w->fds[i] % bits);
  struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  int r = select(w->maxfd + 1, (fd_set *)s->set, NULL, NULL, &tv);
  if (r < 0) die("select");
  int nready = 0;
  for (int i = 0; i < w->n; i++)
    if (s->set[w->fds[i] / bits] & (1UL << (w->fds[i] % bits))) w->ready[nready++] = w->fds[i];
  return nready;
}

/* poll(2): the pollfd array is built once and reused; the kernel rewrites revents. */
typedef struct { workload *w; struct pollfd *pfds; } poll_state;

static int call_poll(poll_state *s, int timeout_ms) {
  workload *w = s->w;
  int r = poll(s->pfds, (nfds_t)w->n, timeout_ms);
  if (r < 0) die("poll");
  int nready = 0;
  for (int i = 0; i < w->n && nready < r; i++)
    if (s->pfds[i].revents) w->ready[nready++] = s->pfds[i].fd;
  return nready;
}

#ifdef __linux__
typedef struct { workload *w; int ep; struct epoll_event *evs; int maxevents; } epoll_state;

static int call_epoll(epoll_state *s, int timeout_ms) {
  int r = epoll_wait(s->ep, s->evs, s->maxevents, timeout_ms);
  if (r < 0) die("epoll_wait");
  for (int i = 0; i < r; i++) s->w->ready[i] = s->evs[i].data.fd;
  return r;
}
#endif

/* Registration churn for poll: what a poll-based loop does to add and drop one fd: append to
 * the array, then find it through an fd -> index table and swap the last entry into its place. */
typedef struct { workload *w; struct pollfd *pfds; int *index; int used; int extra; } churn_poll_state;

static int call_churn_poll(churn_poll_state *s) {
  int fd = s->extra;
  s->pfds[s->used] = (struct pollfd){fd, POLLIN, 0};
  s->index[fd] = s->used++;
  int at = s->index[fd];
  s->pfds[at] = s->pfds[--s->used];
  s->index[s->pfds[at].fd] = at;
  s->index[fd] = -1;
  return s->used;
}

static void *idle_thread(void *arg) {
  (void)arg;
  for (;;) pause();
  return NULL;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

/* One measurement: args are MODE TIMEOUTS TIME_MS MAX_SAMPLES FDS K. */
static int run(char **args) {
  const char *mode = args[0];
  double time_ms = atof(args[2]);
  long max_samples = atol(args[3]);
  if (max_samples < 1) max_samples = 1;
  workload w;
  w.k = atoi(args[5]);
  parse_fds(&w, args[4]);
  int64_t *samples = malloc(sizeof(int64_t) * (size_t)max_samples);

  select_state ss = {&w, NULL, 0};
  poll_state ps = {&w, NULL};
  churn_poll_state cps = {&w, NULL, NULL, 0, -1};
#ifdef __linux__
  epoll_state es = {&w, -1, NULL, 0};
#endif
  int kind;
  if (!strcmp(mode, "select")) {
    kind = 0;
    ss.words = (size_t)w.maxfd / (8 * sizeof(unsigned long)) + 1;
    if (ss.words * 8 * sizeof(unsigned long) < FD_SETSIZE)
      ss.words = FD_SETSIZE / (8 * sizeof(unsigned long));
    ss.set = calloc(ss.words, sizeof(unsigned long));
  } else if (!strcmp(mode, "poll")) {
    kind = 1;
    ps.pfds = calloc((size_t)w.n, sizeof(struct pollfd));
    for (int i = 0; i < w.n; i++) ps.pfds[i] = (struct pollfd){w.fds[i], POLLIN, 0};
#ifdef __linux__
  } else if (!strcmp(mode, "epoll") || !strcmp(mode, "churn-epoll")) {
    kind = mode[0] == 'e' ? 2 : 4;
    es.ep = epoll_create1(EPOLL_CLOEXEC);
    if (es.ep < 0) die("epoll_create1");
    int nreg = kind == 2 ? w.n : w.n - 1; /* churn: the last fd is the one added and dropped */
    for (int i = 0; i < nreg; i++) {
      struct epoll_event ev = {.events = EPOLLIN, .data.fd = w.fds[i]};
      if (epoll_ctl(es.ep, EPOLL_CTL_ADD, w.fds[i], &ev) < 0) die("epoll_ctl");
    }
    es.maxevents = w.n < 1024 ? 1024 : w.n;
    es.evs = calloc((size_t)es.maxevents, sizeof(struct epoll_event));
#endif
  } else if (!strcmp(mode, "churn-poll")) {
    kind = 3;
    cps.pfds = calloc((size_t)w.n + 1, sizeof(struct pollfd));
    cps.index = malloc(sizeof(int) * ((size_t)w.maxfd + 1));
    for (int i = 0; i <= w.maxfd; i++) cps.index[i] = -1;
    for (int i = 0; i < w.n - 1; i++) {
      cps.pfds[cps.used] = (struct pollfd){w.fds[i], POLLIN, 0};
      cps.index[w.fds[i]] = cps.used++;
    }
    cps.extra = w.fds[w.n - 1];
  } else {
    fprintf(stderr, "floor: unknown mode %s\n", mode);
    return 64;
  }

  char *tsave = NULL;
  for (char *t = strtok_r(args[1], ",", &tsave); t; t = strtok_r(NULL, ",", &tsave)) {
    int timeout_ms = atoi(t);
    long count = 0;
    int64_t warm_end = now_ns() + (int64_t)(time_ms * 1e6 / 5), end = 0;
    for (int warming = 1;; ) {
      int64_t t0 = now_ns();
      int nready = 0;
      switch (kind) {
        case 0: nready = call_select(&ss, timeout_ms); break;
        case 1: nready = call_poll(&ps, timeout_ms); break;
#ifdef __linux__
        case 2: nready = call_epoll(&es, timeout_ms); break;
        case 4: {
          struct epoll_event ev = {.events = EPOLLIN, .data.fd = w.fds[w.n - 1]};
          if (epoll_ctl(es.ep, EPOLL_CTL_ADD, w.fds[w.n - 1], &ev) < 0) die("epoll_ctl ADD");
          if (epoll_ctl(es.ep, EPOLL_CTL_DEL, w.fds[w.n - 1], &ev) < 0) die("epoll_ctl DEL");
          break;
        }
#endif
        case 3: nready = call_churn_poll(&cps); break;
      }
      int64_t t1 = now_ns();
      if (kind <= 2) check(&w, nready);
      if (warming) {
        if (t1 >= warm_end) { warming = 0; end = t1 + (int64_t)(time_ms * 1e6); }
        continue;
      }
      samples[count++] = t1 - t0;
      if (t1 >= end || count >= max_samples) break;
    }
    /* Sorting here keeps the output small to parse and changes no statistic. */
    qsort(samples, (size_t)count, sizeof(int64_t), cmp_i64);
    printf("{\"timeoutMs\":%d,\"samples\":[", timeout_ms);
    for (long i = 0; i < count; i++) printf(i ? ",%lld" : "%lld", (long long)samples[i]);
    printf("]}\n");
    fflush(stdout);
  }
#ifdef __linux__
  if (es.ep >= 0) close(es.ep);
  free(es.evs);
#endif
  free(ss.set);
  free(ps.pfds);
  free(cps.pfds);
  free(cps.index);
  free(samples);
  free(w.fds);
  free(w.is_active);
  free(w.ready);
  return 0;
}

int main(int argc, char **argv) {
  const char *threaded = getenv("IOMUX_FLOOR_THREAD");
  if (threaded && *threaded && strcmp(threaded, "0") != 0) {
    pthread_t t;
    if (pthread_create(&t, NULL, idle_thread, NULL) != 0) die("pthread_create");
  }
  if (argc == 7) return run(argv + 1);
  if (argc != 2 || strcmp(argv[1], "serve") != 0) {
    fprintf(stderr, "usage: floor MODE TIMEOUTS TIME_MS MAX_SAMPLES FDS K | floor serve\n");
    return 64;
  }
  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, stdin) > 0) {
    char *args[6], *save = NULL;
    int n = 0;
    for (char *tok = strtok_r(line, " \n", &save); tok && n < 6; tok = strtok_r(NULL, " \n", &save))
      args[n++] = tok;
    if (n != 6) {
      fprintf(stderr, "floor: a request needs 6 fields, got %d\n", n);
      return 64;
    }
    int rc = run(args);
    if (rc != 0) return rc;
    printf("done\n");
    fflush(stdout);
  }
  free(line);
  return 0;
}
