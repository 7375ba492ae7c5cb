/*
 * The io_uring part of the C floor (bench/peers/io_uring.c, linked into floor): raw
 * io_uring_setup/io_uring_enter syscalls and mmap'd rings, no liburing, as the addon does it.
 */
#ifndef IOMUX_BENCH_IO_URING_H
#define IOMUX_BENCH_IO_URING_H

typedef struct uring_floor uring_floor;

/* NULL when an io_uring ring can be set up here; otherwise why not (e.g. "io_uring_setup:
 * Operation not permitted", as under Docker's default seccomp profile). */
const char *uring_unavailable(void);

/* SQ entries of a ring whose calls queue up to 2 * max_ready SQEs with `registered` polls in
 * flight: a power of two, 256 at least, 32768 at most (the bench gives iomux's IoUring the same).
 * It also grows to registered / 2 (up to 4096) because POLL_REMOVE finds its request in the
 * kernel's cancel hash, which has CQ entries / 32 buckets (2 to 256): with the minimum ring and
 * 9000 polls, one add + remove pair measured 7.2 µs, against 1.2 µs with 4096 entries. */
unsigned uring_entries(int max_ready, int registered);

/* A ring with a one-shot IORING_OP_POLL_ADD (POLLIN) on each of fds[0..registered), submitted
 * in SQ-sized batches; the completions of fds that are ready at once are the first call's
 * re-arm list. max_ready bounds the fds one call may report. NULL on failure (errno kept). */
uring_floor *uring_open(const int *fds, int registered, int max_ready);

/* One level-triggered wait: queues a one-shot POLL_ADD for every fd the previous call
 * reported (its request completed), submits them with the wait in one io_uring_enter
 * (IORING_ENTER_GETEVENTS; a timeout > 0 waits for one completion, the timeout given through
 * IORING_ENTER_EXT_ARG), and collects the fds of the POLLIN completions into ready. Returns their number; exits on a syscall error. */
int uring_wait(uring_floor *u, int timeout_ms, int *ready);

/* Registration churn: `pairs` times a POLL_ADD of fd and its POLL_REMOVE, queued, then
 * submitted in one io_uring_enter (IORING_ENTER_GETEVENTS, no wait) and every completion
 * reaped: iomux's register + unregister + wait(0). */
void uring_churn(uring_floor *u, int fd, int pairs);

void uring_close(uring_floor *u);

#endif
