/*
 * The C floor of the iomux benchmark: the same call loop as the bench scenarios, written
 * directly against select(2), poll(2), epoll_wait(2) and kevent(2), so the gap between iomux
 * and the kernel's own cost can be read off one table.
 *
 * The bench compiles this file with `cc -O2` into a temporary directory and runs it with the
 * workload's sockets inherited at the same fd numbers the bench process uses.
 *
 * usage: floor MODE TIMEOUTS TIME_MS MAX_SAMPLES FDS K CALLS BATCH_MS
 *        floor serve   (reads such 8-field lines from stdin, answers each with its JSON lines
 *                       and then "done", so one process serves a fixture)
 *        floor probe   (prints "io_uring ok", or "io_uring: " and why it cannot be used here)
 *   MODE      select | poll | epoll | kqueue | io_uring (one wait per call; io_uring: a
 *             level-triggered wait on one-shot polls, see io_uring.c)
 *             churn-poll | churn-epoll (register + unregister of one more fd per call)
 *             churn-io_uring:B (B such pairs queued, then one io_uring_enter; figures per pair)
 *   TIMEOUTS  comma-separated ms, e.g. "0,1000" (each must return at once: fds are ready)
 *   TIME_MS   measuring time per timeout, after a short warm-up
 *   FDS       the watched fds in array order, as ranges: "300-1299,1400"
 *   K         how many of the last fds in FDS are active (readable); the others must be idle
 *   CALLS     calls per timed batch, one per timeout ("0" = calibrate to about BATCH_MS)
 *   BATCH_MS  the batch length that calibration aims at
 * Calls are timed in batches, as the bench times iomux: k calls between two clock reads, one
 * sample (ns per call) per batch, and every call checked.
 * With IOMUX_FLOOR_THREAD=1 in the environment it first starts one idle thread, so that the
 * process is multi-threaded like every Node process: Linux then takes an atomic reference on
 * each fd that poll(2)/select(2)/epoll_wait(2) look at (fdget() has a fast path only for a file
 * table that no other thread shares), and the C floor pays what iomux pays there.
 * Prints one JSON line per timeout: {"timeoutMs":T,"calls":k,"samples":[ns,...]}. Exits 2 when
 * a call reports anything other than exactly the K active fds, so a broken workload never
 * passes as a fast one.
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

#include "io_uring.h"
#endif
#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
#define HAVE_KQUEUE 1
#include <sys/event.h>
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

#ifdef HAVE_KQUEUE
typedef struct { workload *w; int kq; struct kevent *evs; int maxevents; } kqueue_state;

static int call_kqueue(kqueue_state *s, int timeout_ms) {
  struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000};
  int r = kevent(s->kq, NULL, 0, s->evs, s->maxevents, &ts);
  if (r < 0) die("kevent");
  for (int i = 0; i < r; i++) s->w->ready[i] = (int)s->evs[i].ident;
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

/* Everything one measurement needs, so that one call is one switch. */
typedef struct {
  int kind; /* 0 select, 1 poll, 2 epoll, 3 churn-poll, 4 churn-epoll, 5 kqueue, 6 io_uring, 7 churn-io_uring */
  int pairs; /* churn-io_uring: pairs per call (the figures are per pair) */
  workload *w;
  select_state ss;
  poll_state ps;
  churn_poll_state cps;
#ifdef __linux__
  epoll_state es;
  uring_floor *uring;
#endif
#ifdef HAVE_KQUEUE
  kqueue_state ks;
#endif
} bench_state;

/* One call, checked (the wait modes must report exactly the K active fds). */
static void one_call(bench_state *b, int timeout_ms) {
  int nready = 0;
  switch (b->kind) {
    case 0: nready = call_select(&b->ss, timeout_ms); break;
    case 1: nready = call_poll(&b->ps, timeout_ms); break;
#ifdef __linux__
    case 2: nready = call_epoll(&b->es, timeout_ms); break;
    case 6: nready = uring_wait(b->uring, timeout_ms, b->w->ready); break;
    case 7: uring_churn(b->uring, b->w->fds[b->w->n - 1], b->pairs); return;
    case 4: {
      workload *w = b->w;
      struct epoll_event ev = {.events = EPOLLIN, .data.fd = w->fds[w->n - 1]};
      if (epoll_ctl(b->es.ep, EPOLL_CTL_ADD, w->fds[w->n - 1], &ev) < 0) die("epoll_ctl ADD");
      if (epoll_ctl(b->es.ep, EPOLL_CTL_DEL, w->fds[w->n - 1], &ev) < 0) die("epoll_ctl DEL");
      return;
    }
#endif
#ifdef HAVE_KQUEUE
    case 5: nready = call_kqueue(&b->ks, timeout_ms); break;
#endif
    case 3: call_churn_poll(&b->cps); return;
  }
  check(b->w, nready);
}

/* k calls between two clock reads; returns the elapsed ns. */
static int64_t batch(bench_state *b, int timeout_ms, long k) {
  int64_t t0 = now_ns();
  for (long i = 0; i < k; i++) one_call(b, timeout_ms);
  return now_ns() - t0;
}

/* The k that makes one batch last about batch_ns (at least 1); the faster of two tries of each
 * k counts, so that one pause cannot shrink k. */
static long calibrate(bench_state *b, int timeout_ms, double batch_ns) {
  for (long k = 1;; k *= 2) {
    int64_t dt = batch(b, timeout_ms, k), again = batch(b, timeout_ms, k);
    if (again < dt) dt = again;
    if (dt >= batch_ns / 4 || k >= (1L << 24)) {
      long want = (long)((double)k * batch_ns / (double)(dt > 0 ? dt : 1) + 0.5);
      return want < 1 ? 1 : want;
    }
  }
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* One measurement: args are MODE TIMEOUTS TIME_MS MAX_SAMPLES FDS K CALLS BATCH_MS. */
static int run(char **args) {
  const char *mode = args[0];
  double time_ms = atof(args[2]);
  long max_samples = atol(args[3]);
  if (max_samples < 3) max_samples = 3;
  double batch_ns = atof(args[7]) * 1e6;
  workload w;
  w.k = atoi(args[5]);
  parse_fds(&w, args[4]);
  double *samples = malloc(sizeof(double) * (size_t)max_samples);

  bench_state b;
  memset(&b, 0, sizeof b);
  b.w = &w;
  b.ss.w = b.ps.w = b.cps.w = &w;
  b.cps.extra = -1;
#ifdef __linux__
  b.es.w = &w;
  b.es.ep = -1;
#endif
#ifdef HAVE_KQUEUE
  b.ks.w = &w;
  b.ks.kq = -1;
#endif
  if (!strcmp(mode, "select")) {
    b.kind = 0;
    b.ss.words = (size_t)w.maxfd / (8 * sizeof(unsigned long)) + 1;
    if (b.ss.words * 8 * sizeof(unsigned long) < FD_SETSIZE)
      b.ss.words = FD_SETSIZE / (8 * sizeof(unsigned long));
    b.ss.set = calloc(b.ss.words, sizeof(unsigned long));
  } else if (!strcmp(mode, "poll")) {
    b.kind = 1;
    b.ps.pfds = calloc((size_t)w.n, sizeof(struct pollfd));
    for (int i = 0; i < w.n; i++) b.ps.pfds[i] = (struct pollfd){w.fds[i], POLLIN, 0};
#ifdef __linux__
  } else if (!strcmp(mode, "epoll") || !strcmp(mode, "churn-epoll")) {
    b.kind = mode[0] == 'e' ? 2 : 4;
    b.es.ep = epoll_create1(EPOLL_CLOEXEC);
    if (b.es.ep < 0) die("epoll_create1");
    int nreg = b.kind == 2 ? w.n : w.n - 1; /* churn: the last fd is the one added and dropped */
    for (int i = 0; i < nreg; i++) {
      struct epoll_event ev = {.events = EPOLLIN, .data.fd = w.fds[i]};
      if (epoll_ctl(b.es.ep, EPOLL_CTL_ADD, w.fds[i], &ev) < 0) die("epoll_ctl");
    }
    b.es.maxevents = w.n < 1024 ? 1024 : w.n;
    b.es.evs = calloc((size_t)b.es.maxevents, sizeof(struct epoll_event));
  } else if (!strcmp(mode, "io_uring") || !strncmp(mode, "churn-io_uring", 14)) {
    b.kind = mode[0] == 'i' ? 6 : 7;
    b.pairs = b.kind == 7 && mode[14] == ':' ? atoi(mode + 15) : 1;
    if (b.pairs < 1) b.pairs = 1;
    /* churn: the last fd is the one added and dropped */
    b.uring = b.kind == 6 ? uring_open(w.fds, w.n, w.k) : uring_open(w.fds, w.n - 1, b.pairs);
    if (!b.uring) die("io_uring setup");
#endif
#ifdef HAVE_KQUEUE
  } else if (!strcmp(mode, "kqueue")) {
    b.kind = 5;
    b.ks.kq = kqueue();
    if (b.ks.kq < 0) die("kqueue");
    for (int i = 0; i < w.n; i++) {
      struct kevent ch;
      EV_SET(&ch, w.fds[i], EVFILT_READ, EV_ADD, 0, 0, NULL);
      if (kevent(b.ks.kq, &ch, 1, NULL, 0, NULL) < 0) die("kevent EV_ADD");
    }
    b.ks.maxevents = w.n < 1024 ? 1024 : w.n;
    b.ks.evs = calloc((size_t)b.ks.maxevents, sizeof(struct kevent));
#endif
  } else if (!strcmp(mode, "churn-poll")) {
    b.kind = 3;
    b.cps.pfds = calloc((size_t)w.n + 1, sizeof(struct pollfd));
    b.cps.index = malloc(sizeof(int) * ((size_t)w.maxfd + 1));
    for (int i = 0; i <= w.maxfd; i++) b.cps.index[i] = -1;
    for (int i = 0; i < w.n - 1; i++) {
      b.cps.pfds[b.cps.used] = (struct pollfd){w.fds[i], POLLIN, 0};
      b.cps.index[w.fds[i]] = b.cps.used++;
    }
    b.cps.extra = w.fds[w.n - 1];
  } else {
    fprintf(stderr, "floor: unknown mode %s\n", mode);
    return 64;
  }

  char *tsave = NULL, *csave = NULL;
  char *c = strtok_r(args[6], ",", &csave);
  for (char *t = strtok_r(args[1], ",", &tsave); t; t = strtok_r(NULL, ",", &tsave)) {
    int timeout_ms = atoi(t);
    long k = c ? atol(c) : 0;
    if (c) c = strtok_r(NULL, ",", &csave);
    if (k < 1) k = calibrate(&b, timeout_ms, batch_ns);
    /* Warm-up: a fifth of the measuring time, unrecorded. */
    for (int64_t warm_end = now_ns() + (int64_t)(time_ms * 1e6 / 5); now_ns() < warm_end;) batch(&b, timeout_ms, k);
    long count = 0;
    for (int64_t end = now_ns() + (int64_t)(time_ms * 1e6);;) {
      samples[count++] = (double)batch(&b, timeout_ms, k) / (double)k / (b.pairs > 1 ? b.pairs : 1);
      if ((now_ns() >= end && count >= 3) || count >= max_samples) break;
    }
    /* Sorting here keeps the output small to parse and changes no statistic. */
    qsort(samples, (size_t)count, sizeof(double), cmp_double);
    printf("{\"timeoutMs\":%d,\"calls\":%ld,\"samples\":[", timeout_ms, k);
    for (long i = 0; i < count; i++) printf(i ? ",%.1f" : "%.1f", samples[i]);
    printf("]}\n");
    fflush(stdout);
  }
#ifdef __linux__
  if (b.es.ep >= 0) close(b.es.ep);
  free(b.es.evs);
  uring_close(b.uring);
#endif
#ifdef HAVE_KQUEUE
  if (b.ks.kq >= 0) close(b.ks.kq);
  free(b.ks.evs);
#endif
  free(b.ss.set);
  free(b.ps.pfds);
  free(b.cps.pfds);
  free(b.cps.index);
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
  if (argc == 9) return run(argv + 1);
  if (argc == 2 && strcmp(argv[1], "probe") == 0) {
#ifdef __linux__
    const char *why = uring_unavailable();
#else
    const char *why = "not Linux";
#endif
    printf(why ? "io_uring: %s\n" : "io_uring ok\n", why);
    return 0;
  }
  if (argc != 2 || strcmp(argv[1], "serve") != 0) {
    fprintf(stderr, "usage: floor MODE TIMEOUTS TIME_MS MAX_SAMPLES FDS K CALLS BATCH_MS | floor serve\n");
    return 64;
  }
  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, stdin) > 0) {
    char *args[8], *save = NULL;
    int n = 0;
    for (char *tok = strtok_r(line, " \n", &save); tok && n < 8; tok = strtok_r(NULL, " \n", &save))
      args[n++] = tok;
    if (n != 8) {
      fprintf(stderr, "floor: a request needs 8 fields, got %d\n", n);
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
