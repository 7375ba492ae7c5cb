/*
 * The C floor's io_uring calls (see io_uring.h): one ring, one-shot poll requests whose
 * user_data is the fd, and the wait and churn loops the bench times. Built on Linux only; on
 * other systems this file is empty and floor.c has no io_uring mode.
 *
 * Multishot poll is edge-like (measured on Linux 6.18: one completion per wakeup of the socket,
 * none on later waits while its byte stays unread; IORING_POLL_ADD_LEVEL with MULTI is refused
 * with EINVAL). So a wait that must report a socket that stays readable, as epoll_wait and
 * poll do, uses one-shot polls and re-arms what it reported last time: the new request polls
 * the socket at once and completes in the same io_uring_enter. That is what iomux's IoUring
 * does in level mode (new IoUring(entries, true)) and IoUringSelector on top of it, and the
 * ring is set up as the addon sets it up (no setup flags, CQ twice the SQ).
 */
#ifdef __linux__
#define _GNU_SOURCE
#include "io_uring.h"

#include <errno.h>
#include <linux/io_uring.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* user_data of the requests that are not polls (removals): their completions carry no
 * readiness and are skipped. A poll's user_data is gen << 32 | fd, a new generation per
 * request, as the addon makes it (to tell a stale completion from a current one). That matters
 * for speed: POLL_REMOVE looks the request up in a hash of its user_data, and a new user_data
 * lands in another bucket each time (cold in cache), where a fixed one would stay hot: with
 * 9000 polls in flight on a 4096-entry ring, 2.2 µs per add + remove pair against 0.72 µs
 * with user_data = fd, in one run. */
#define NOT_A_POLL (1ULL << 63)
#define FD_OF(ud) ((int)(uint32_t)(ud))
/* Older uapi headers lack these (Linux 5.17); the kernel's features say whether it has them. */
#ifndef IOSQE_CQE_SKIP_SUCCESS
#define IOSQE_CQE_SKIP_SUCCESS (1U << 6)
#endif
#ifndef IORING_FEAT_CQE_SKIP
#define IORING_FEAT_CQE_SKIP (1U << 11)
#endif

struct uring_floor {
  int fd;
  unsigned sq_entries, cq_entries, sq_tail, features;
  unsigned *sq_head, *sq_ktail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
  struct io_uring_sqe *sqes;
  struct io_uring_cqe *cqes;
  void *sq_map, *sqe_map;
  size_t sq_map_len, sqe_map_len;
  int *rearm; /* the fds the previous wait reported */
  int nrearm, max_ready;
  uint32_t gen; /* the next request's generation, 1 .. 2^31 - 1 */
};

static void fail(const char *what) {
  fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
  exit(1);
}

static int setup(unsigned entries, struct io_uring_params *p) {
  return (int)syscall(__NR_io_uring_setup, entries, p);
}

/* Submits what is queued; waits for min_complete completions, up to timeout_ms when > 0. */
static int enter(uring_floor *u, unsigned min_complete, int timeout_ms) {
  unsigned submit = u->sq_tail - *u->sq_ktail;
  __atomic_store_n(u->sq_ktail, u->sq_tail, __ATOMIC_RELEASE);
  unsigned flags = IORING_ENTER_GETEVENTS;
  struct __kernel_timespec ts = {timeout_ms / 1000, (long long)(timeout_ms % 1000) * 1000000};
  struct io_uring_getevents_arg arg = {.ts = (uint64_t)(uintptr_t)&ts};
  void *argp = NULL;
  size_t argsz = 0;
  if (min_complete > 0) {
    flags |= IORING_ENTER_EXT_ARG;
    argp = &arg;
    argsz = sizeof arg;
  }
  for (;;) {
    long r = syscall(__NR_io_uring_enter, u->fd, submit, min_complete, flags, argp, argsz);
    if (r >= 0) return (int)r;
    if (errno == ETIME) return 0;
    if (errno != EINTR) fail("io_uring_enter");
    submit = 0; /* the SQEs were consumed before the wait was interrupted */
  }
}

static struct io_uring_sqe *next_sqe(uring_floor *u) {
  if (u->sq_tail - __atomic_load_n(u->sq_head, __ATOMIC_ACQUIRE) == u->sq_entries) enter(u, 0, 0);
  unsigned i = u->sq_tail++ & *u->sq_mask;
  u->sq_array[i] = i;
  struct io_uring_sqe *s = &u->sqes[i];
  memset(s, 0, sizeof *s);
  return s;
}

/* A one-shot POLL_ADD (POLLIN) of fd; returns its user_data. */
static uint64_t poll_add(uring_floor *u, int fd) {
  struct io_uring_sqe *s = next_sqe(u);
  s->opcode = IORING_OP_POLL_ADD;
  s->fd = fd;
  s->poll32_events = POLLIN;
  s->user_data = (uint64_t)u->gen << 32 | (uint32_t)fd;
  u->gen = u->gen == 0x7fffffff ? 1 : u->gen + 1;
  return s->user_data;
}

/* The POLL_REMOVE of the poll request whose user_data is ud; a removal that succeeds posts no
 * completion of its own where the kernel can skip it, as in the addon. */
static void poll_remove(uring_floor *u, uint64_t ud) {
  struct io_uring_sqe *s = next_sqe(u);
  s->opcode = IORING_OP_POLL_REMOVE;
  s->fd = -1;
  s->addr = ud;
  s->user_data = NOT_A_POLL;
  if (u->features & IORING_FEAT_CQE_SKIP) s->flags |= IOSQE_CQE_SKIP_SUCCESS;
}

/* Reaps every completion; the fds of readiness completions go to ready (when not NULL). */
static int reap(uring_floor *u, int *ready) {
  unsigned head = *u->cq_head, tail = __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE);
  int n = 0;
  for (; head != tail; head++) {
    const struct io_uring_cqe *c = &u->cqes[head & *u->cq_mask];
    if (ready && !(c->user_data & NOT_A_POLL) && c->res > 0 && n < u->max_ready) ready[n++] = FD_OF(c->user_data);
  }
  __atomic_store_n(u->cq_head, head, __ATOMIC_RELEASE);
  return n;
}

const char *uring_unavailable(void) {
  static char why[160];
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  int fd = setup(4, &p);
  if (fd >= 0) {
    close(fd);
    return NULL;
  }
  snprintf(why, sizeof why, "io_uring_setup: %s", strerror(errno));
  return why;
}

unsigned uring_entries(int max_ready, int registered) {
  unsigned want = 256, p = 1;
  if (2 * (unsigned)max_ready > want) want = 2 * (unsigned)max_ready;
  unsigned for_hash = (unsigned)registered / 2 < 4096 ? (unsigned)registered / 2 : 4096;
  if (for_hash > want) want = for_hash;
  while (p < want) p <<= 1;
  return p > 32768 ? 32768 : p;
}

/* Maps the rings; with IORING_FEAT_SINGLE_MMAP (Linux 5.4+) SQ and CQ rings share one map. */
static int map_rings(uring_floor *u, const struct io_uring_params *p) {
  size_t sq = p->sq_off.array + p->sq_entries * sizeof(unsigned);
  size_t cq = p->cq_off.cqes + p->cq_entries * sizeof(struct io_uring_cqe);
  if (!(p->features & IORING_FEAT_SINGLE_MMAP)) {
    errno = ENOSYS;
    return -1;
  }
  u->sq_map_len = sq > cq ? sq : cq;
  u->sq_map = mmap(NULL, u->sq_map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_SQ_RING);
  if (u->sq_map == MAP_FAILED) return -1;
  u->sqe_map_len = p->sq_entries * sizeof(struct io_uring_sqe);
  u->sqe_map = mmap(NULL, u->sqe_map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_SQES);
  if (u->sqe_map == MAP_FAILED) return -1;
  char *m = u->sq_map;
  u->sq_head = (unsigned *)(m + p->sq_off.head);
  u->sq_ktail = (unsigned *)(m + p->sq_off.tail);
  u->sq_mask = (unsigned *)(m + p->sq_off.ring_mask);
  u->sq_array = (unsigned *)(m + p->sq_off.array);
  u->cq_head = (unsigned *)(m + p->cq_off.head);
  u->cq_tail = (unsigned *)(m + p->cq_off.tail);
  u->cq_mask = (unsigned *)(m + p->cq_off.ring_mask);
  u->cqes = (struct io_uring_cqe *)(m + p->cq_off.cqes);
  u->sqes = u->sqe_map;
  u->sq_entries = p->sq_entries;
  u->cq_entries = p->cq_entries;
  u->sq_tail = *u->sq_ktail;
  u->features = p->features;
  return 0;
}

uring_floor *uring_open(const int *fds, int registered, int max_ready) {
  uring_floor *u = calloc(1, sizeof *u);
  /* The SQ holds one call's re-arms (or churn pairs) at once; the kernel makes the CQ twice
   * as large. The bench gives iomux's IoUring the same size (bench/io-uring-backend.ts). */
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  u->fd = setup(uring_entries(max_ready, registered), &p);
  if (u->fd < 0 || map_rings(u, &p) < 0) {
    int err = errno;
    uring_close(u);
    errno = err;
    return NULL;
  }
  u->max_ready = max_ready;
  u->gen = 1;
  u->rearm = malloc(sizeof(int) * (size_t)(max_ready + 1));
  for (int i = 0; i < registered; i++) {
    poll_add(u, fds[i]);
    /* Reap as the registrations go, so that ready fds' completions cannot fill the CQ. */
    if (u->sq_tail - *u->sq_ktail == u->sq_entries) {
      enter(u, 0, 0);
      u->nrearm += reap(u, u->rearm + u->nrearm);
    }
  }
  enter(u, 0, 0);
  u->nrearm += reap(u, u->rearm + u->nrearm);
  return u;
}

int uring_wait(uring_floor *u, int timeout_ms, int *ready) {
  for (int i = 0; i < u->nrearm; i++) poll_add(u, u->rearm[i]);
  enter(u, timeout_ms > 0 ? 1 : 0, timeout_ms);
  int n = reap(u, ready);
  memcpy(u->rearm, ready, sizeof(int) * (size_t)n);
  u->nrearm = n;
  return n;
}

void uring_churn(uring_floor *u, int fd, int pairs) {
  for (int i = 0; i < pairs; i++) {
    poll_remove(u, poll_add(u, fd));
  }
  enter(u, 0, 0);
  reap(u, NULL);
}

void uring_close(uring_floor *u) {
  if (!u) return;
  if (u->sqe_map && u->sqe_map != MAP_FAILED) munmap(u->sqe_map, u->sqe_map_len);
  if (u->sq_map && u->sq_map != MAP_FAILED) munmap(u->sq_map, u->sq_map_len);
  if (u->fd >= 0) close(u->fd);
  free(u->rearm);
  free(u);
}
#endif
