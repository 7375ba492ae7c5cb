/*
 * The echo load generator (the bench's echo scenario and scripts/servers/bench.ts): C connections
 * to an echo server on 127.0.0.1 of which A ping-pong S-byte messages (one in flight each), every
 * echoed byte checked. One thread, epoll, TCP_NODELAY, non-blocking connects (at most 256 pending
 * at once, so the server's backlog never drops one).
 *
 * usage: loadgen PORT C A S WARMUP_MS MEASURE_MS [PID,PID,...]
 * Prints "connected" once all C connections are up, "start" when measuring begins and "end"
 * when it ends (the echo bench reads the server's CPU time at those two lines), then one JSON line:
 *   {"msgs":M,"seconds":T,"p50Us":X,"p99Us":Y,"msgsPerSec":R,"rttUs":L,"loadgenCores":G
 *    [,"serverCpuUs":U,"cpuUsPerMsg":V]}
 * rttUs is A * seconds / msgs (Little's law); loadgenCores its own CPU seconds per second. With
 * PIDs, serverCpuUs is their utime + stime over the window (/proc/<pid>/stat), cpuUsPerMsg that
 * per message. Exits 2 when an echoed byte differs from the one sent, 1 on a socket error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  int fd;
  int active;
  long seq;       /* messages completed on this connection */
  int sent, got;  /* bytes of the current message */
  int64_t t0;
} conn;

static int S;
static unsigned char *msgbuf, *rbuf;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#define MAX_PIDS 64

/* Sum of utime + stime (clock ticks) over the pids: fields 14 and 15 of /proc/<pid>/stat. */
static long long cpu_ticks(const int *pids, int npids) {
  long long total = 0;
  for (int i = 0; i < npids; i++) {
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", pids[i]);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p) continue;
    unsigned long ut = 0, st = 0;
    /* after ')': state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2) total += ut + st;
  }
  return total;
}

/* This process's own CPU time (user + system), in µs. */
static double self_cpu_us(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static void die(const char *what) {
  fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
  exit(1);
}


static conn *conns;

static unsigned char expected(int i, long seq, int j) { return (unsigned char)(i * 31 + seq * 7 + j); }

/* Writes what is left of the current message; 0 when it is all out, 1 when the socket is full. */
static int pump_write(int i) {
  conn *c = &conns[i];
  for (int j = c->sent; j < S; j++) msgbuf[j] = expected(i, c->seq, j);
  while (c->sent < S) {
    ssize_t w = write(c->fd, msgbuf + c->sent, (size_t)(S - c->sent));
    if (w < 0) {
      if (errno == EAGAIN) return 1;
      die("write");
    }
    c->sent += (int)w;
  }
  return 0;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc != 7 && argc != 8) {
    fprintf(stderr, "usage: loadgen PORT C A S WARMUP_MS MEASURE_MS [PID,PID,...]\n");
    return 64;
  }
  int pids[MAX_PIDS], npids = 0;
  if (argc == 8) {
    for (char *t = strtok(argv[7], ","); t && npids < MAX_PIDS; t = strtok(NULL, ",")) pids[npids++] = atoi(t);
  }
  int port = atoi(argv[1]), C = atoi(argv[2]), A = atoi(argv[3]);
  S = atoi(argv[4]);
  double warm_ms = atof(argv[5]), measure_ms = atof(argv[6]);
  if (A > C) A = C;
  conns = calloc((size_t)C, sizeof(conn));
  msgbuf = malloc((size_t)S);
  rbuf = malloc(65536);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  struct sockaddr_in sa = {0};
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct epoll_event evs[512];

  /* Connect: at most 256 in progress at once. */
  int opened = 0, done = 0, pending = 0;
  while (done < C) {
    while (opened < C && pending < 256) {
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) die("socket");
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) die("connect");
      conns[opened].fd = fd;
      struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)opened};
      if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
      opened++;
      pending++;
    }
    int n = epoll_wait(ep, evs, 512, 10000);
    if (n <= 0) die("connect wait");
    for (int e = 0; e < n; e++) {
      conn *c = &conns[evs[e].data.u32];
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err) {
        errno = err;
        die("connect");
      }
      struct epoll_event ev = {.events = EPOLLIN, .data.u32 = evs[e].data.u32};
      epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
      pending--;
      done++;
    }
  }
  printf("connected\n");
  fflush(stdout);

  size_t cap = 1 << 21, nrtt = 0;
  int64_t *rtt = malloc(sizeof(int64_t) * cap);
  for (int i = 0; i < A; i++) {
    conns[i].active = 1;
    conns[i].t0 = now_ns();
    if (pump_write(i)) {
      struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)i};
      epoll_ctl(ep, EPOLL_CTL_MOD, conns[i].fd, &ev);
    }
  }
  int64_t start = now_ns() + (int64_t)(warm_ms * 1e6), end = start + (int64_t)(measure_ms * 1e6);
  int measuring = 0;
  long msgs = 0;
  long long ticks0 = 0;
  double self0 = 0;
  for (;;) {
    int64_t t = now_ns();
    if (!measuring && t >= start) {
      measuring = 1;
      printf("start\n");
      fflush(stdout);
      ticks0 = cpu_ticks(pids, npids);
      self0 = self_cpu_us();
      start = now_ns();
      end = start + (int64_t)(measure_ms * 1e6);
    } else if (measuring && t >= end) {
      break;
    }
    int n = epoll_wait(ep, evs, 512, 100);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int e = 0; e < n; e++) {
      int i = (int)evs[e].data.u32;
      conn *c = &conns[i];
      if (evs[e].events & EPOLLOUT) {
        if (!pump_write(i)) {
          struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
          epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        }
      }
      if (!(evs[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
      ssize_t r = read(c->fd, rbuf, 65536);
      if (r == 0) {
        fprintf(stderr, "loadgen: the server closed connection %d\n", i);
        return 1;
      }
      if (r < 0) {
        if (errno == EAGAIN) continue;
        die("read");
      }
      if (!c->active || c->got + r > c->sent) {
        fprintf(stderr, "loadgen: %zd unexpected bytes on connection %d\n", r, i);
        return 2;
      }
      for (ssize_t j = 0; j < r; j++) {
        if (rbuf[j] != expected(i, c->seq, c->got + (int)j)) {
          fprintf(stderr, "loadgen: connection %d message %ld byte %d: got %u, sent %u\n", i, c->seq, c->got + (int)j,
                  rbuf[j], expected(i, c->seq, c->got + (int)j));
          return 2;
        }
      }
      c->got += (int)r;
      if (c->got < S) continue;
      int64_t t1 = now_ns();
      if (measuring) {
        msgs++;
        if (nrtt < cap) rtt[nrtt++] = t1 - c->t0;
      }
      c->seq++;
      c->sent = c->got = 0;
      c->t0 = t1;
      if (pump_write(i)) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
      }
    }
  }
  double secs = (double)(now_ns() - start) / 1e9;
  double server_us = (double)(cpu_ticks(pids, npids) - ticks0) * 1e6 / (double)sysconf(_SC_CLK_TCK);
  double self_us = self_cpu_us() - self0;
  printf("end\n");
  fflush(stdout);
  qsort(rtt, nrtt, sizeof(int64_t), cmp_i64);
  double p50 = nrtt ? (double)rtt[nrtt / 2] / 1e3 : -1, p99 = nrtt ? (double)rtt[(size_t)((double)nrtt * 0.99)] / 1e3 : -1;
  printf("{\"msgs\":%ld,\"seconds\":%.6f,\"p50Us\":%.2f,\"p99Us\":%.2f,\"msgsPerSec\":%.1f,\"rttUs\":%.1f,"
         "\"loadgenCores\":%.2f",
         msgs, secs, p50, p99, msgs / secs, msgs ? A * secs * 1e6 / (double)msgs : 0, self_us / (secs * 1e6));
  if (npids) printf(",\"serverCpuUs\":%.0f,\"cpuUsPerMsg\":%.3f", server_us, msgs ? server_us / (double)msgs : 0);
  printf("}\n");
  fflush(stdout);
  for (int i = 0; i < C; i++) close(conns[i].fd);
  return 0;
}
