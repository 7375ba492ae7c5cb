/*
 * Echo load generator: C connections to host:port, of which A run ping-pong (send S bytes,
 * wait for all S to come back, check every byte, send the next); the others stay idle.
 * One thread, epoll, non-blocking connects. After W warm-up seconds it counts messages for
 * D seconds and reads the CPU time (utime + stime) of the server pids given with -p at the
 * window's start and end, and its own (loadgenCores: CPU seconds per second). Prints one JSON line. Exits 1 on a connect failure or a wrong byte.
 *
 *   cc -O2 -o loadgen loadgen.c
 *   ./loadgen -h 127.0.0.1 -P 8000 -c 200 -a 100 -s 64 -w 1 -d 3 [-n] [-p pid,pid,...]
 *   -n sets TCP_NODELAY on the client sockets.
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

#define MAX_PIDS 64

struct conn {
  int fd;
  int active;
  uint32_t seq;   /* message number, part of the byte pattern */
  size_t sent;    /* bytes of the current message written */
  size_t got;     /* bytes of the current message read back */
};

static size_t msg_size;

static uint8_t pattern(int id, uint32_t seq, size_t j) {
  return (uint8_t)(id * 131u + seq * 7u + j);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sum of utime + stime (clock ticks) over the pids: fields 14 and 15 of /proc/<pid>/stat. */
static long long cpu_ticks(const int* pids, int npids) {
  long long total = 0;
  for (int i = 0; i < npids; i++) {
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", pids[i]);
    FILE* f = fopen(path, "r");
    if (!f) continue;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = 0;
    char* p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p) continue;
    unsigned long ut = 0, st = 0;
    /* after ')': state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
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

static void fail(const char* what, int id) {
  fprintf(stderr, "loadgen: %s (connection %d): %s\n", what, id, strerror(errno));
  exit(1);
}

/* Writes what is left of the current message, until done or EAGAIN. */
static void pump_write(struct conn* c, int id) {
  uint8_t buf[65536];
  while (c->sent < msg_size) {
    size_t len = msg_size - c->sent;
    if (len > sizeof(buf)) len = sizeof(buf);
    for (size_t j = 0; j < len; j++) buf[j] = pattern(id, c->seq, c->sent + j);
    ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN) return;
      fail("send", id);
    }
    c->sent += (size_t)n;
  }
}

/* Reads and checks echoed bytes; returns the number of messages completed. */
static int pump_read(struct conn* c, int id) {
  uint8_t buf[65536];
  int done = 0;
  for (;;) {
    ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
    if (n < 0) {
      if (errno == EAGAIN) return done;
      fail("recv", id);
    }
    if (n == 0) {
      errno = ECONNRESET;
      fail("server closed", id);
    }
    for (ssize_t j = 0; j < n; j++) {
      if (c->got >= c->sent || buf[j] != pattern(id, c->seq, c->got)) {
        fprintf(stderr, "loadgen: wrong or unexpected byte on connection %d, message %u, offset %zu\n", id, c->seq, c->got);
        exit(1);
      }
      c->got++;
      if (c->got == msg_size) {
        done++;
        c->seq++;
        c->sent = c->got = 0;
        if (j + 1 < n) {
          fprintf(stderr, "loadgen: bytes past the end of message on connection %d\n", id);
          exit(1);
        }
        pump_write(c, id);
      }
    }
  }
}

int main(int argc, char** argv) {
  const char* host = "127.0.0.1";
  int port = 0, nconn = 100, nactive = 100, nodelay = 0, npids = 0;
  double warmup = 1, duration = 3;
  int pids[MAX_PIDS];
  msg_size = 64;
  int opt;
  while ((opt = getopt(argc, argv, "h:P:c:a:s:w:d:np:")) != -1) {
    switch (opt) {
      case 'h': host = optarg; break;
      case 'P': port = atoi(optarg); break;
      case 'c': nconn = atoi(optarg); break;
      case 'a': nactive = atoi(optarg); break;
      case 's': msg_size = (size_t)atol(optarg); break;
      case 'w': warmup = atof(optarg); break;
      case 'd': duration = atof(optarg); break;
      case 'n': nodelay = 1; break;
      case 'p':
        for (char* t = strtok(optarg, ","); t && npids < MAX_PIDS; t = strtok(NULL, ",")) pids[npids++] = atoi(t);
        break;
      default: fprintf(stderr, "usage: see the comment at the top of loadgen.c\n"); return 2;
    }
  }
  if (port <= 0 || nconn < 1 || nactive > nconn || msg_size < 1) {
    fprintf(stderr, "loadgen: need -P port, -c >= 1, -a <= -c, -s >= 1\n");
    return 2;
  }
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) { fprintf(stderr, "loadgen: bad host\n"); return 2; }

  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct conn* conns = calloc((size_t)nconn, sizeof(*conns));
  /* Connect all, a batch at a time so the listen backlog never overflows. */
  for (int i = 0; i < nconn; i++) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) fail("socket", i);
    if (nodelay) {
      int on = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    }
    if (connect(fd, (struct sockaddr*)&addr, sizeof(addr)) < 0 && errno != EINPROGRESS) fail("connect", i);
    conns[i].fd = fd;
    conns[i].active = i < nactive;
    struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  int connected = 0;
  struct epoll_event evs[256];
  while (connected < nconn) {
    int n = epoll_wait(ep, evs, 256, 10000);
    if (n <= 0) { errno = ETIMEDOUT; fail("connect wait", -1); }
    for (int k = 0; k < n; k++) {
      int i = (int)evs[k].data.u32;
      int err = 0;
      socklen_t len = sizeof(err);
      getsockopt(conns[i].fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err) { errno = err; fail("connect", i); }
      struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
      epoll_ctl(ep, EPOLL_CTL_MOD, conns[i].fd, &ev);
      connected++;
    }
  }
  for (int i = 0; i < nactive; i++) pump_write(&conns[i], i);

  double start = now(), window = start + warmup, end = window + duration;
  long long msgs = 0, ticks0 = 0;
  double self0 = 0;
  int measuring = 0;
  for (;;) {
    double t = now();
    if (!measuring && t >= window) {
      measuring = 1;
      msgs = 0;
      ticks0 = cpu_ticks(pids, npids);
      self0 = self_cpu_us();
      window = t;
    }
    if (t >= end) break;
    int n = epoll_wait(ep, evs, 256, 100);
    if (n < 0 && errno != EINTR) fail("epoll_wait", -1);
    for (int k = 0; k < n; k++) {
      int i = (int)evs[k].data.u32;
      if (!conns[i].active) { errno = EPROTO; fail("data on an idle connection", i); }
      msgs += pump_read(&conns[i], i);
    }
  }
  double secs = now() - window;
  long long ticks = cpu_ticks(pids, npids) - ticks0;
  double cpu_us = ticks * 1e6 / (double)sysconf(_SC_CLK_TCK);
  double self_us = self_cpu_us() - self0;
  printf("{\"connections\":%d,\"active\":%d,\"size\":%zu,\"nodelay\":%d,\"seconds\":%.3f,\"msgs\":%lld,"
         "\"msgsPerSec\":%.1f,\"serverCpuUs\":%.0f,\"cpuUsPerMsg\":%.3f,\"rttUs\":%.1f,\"loadgenCores\":%.2f}\n",
         nconn, nactive, msg_size, nodelay, secs, msgs, msgs / secs, cpu_us, msgs ? cpu_us / msgs : 0,
         msgs ? nactive * secs * 1e6 / msgs : 0, self_us / (secs * 1e6));
  for (int i = 0; i < nconn; i++) close(conns[i].fd);
  return 0;
}
