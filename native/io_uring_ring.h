// The mmap'd submission and completion rings of one io_uring instance, through the raw
// syscalls (io_uring_setup(2), io_uring_enter(2)) and <linux/io_uring.h>: no liburing. This
// file knows the ring layout and the memory ordering it needs; io_uring.cc decides what to
// submit and what a completion means. Built on Linux only (HAVE_IO_URING).
#pragma once

#include <linux/io_uring.h>

#include <cstddef>
#include <cstdint>

#include "timeout.h"

namespace iomux {

// Older uapi headers (before 5.11 / 5.13) lack these; the kernel is probed at run time anyway.
#ifndef IORING_ENTER_EXT_ARG
#define IORING_ENTER_EXT_ARG (1U << 3)
#endif
#ifndef IORING_FEAT_EXT_ARG
#define IORING_FEAT_EXT_ARG (1U << 8)
#endif
#ifndef IORING_POLL_ADD_MULTI
#define IORING_POLL_ADD_MULTI (1U << 0)
#endif
#ifndef IORING_FEAT_CQE_SKIP
#define IORING_FEAT_CQE_SKIP (1U << 11)
#endif
#ifndef IOSQE_CQE_SKIP_SUCCESS
#define IOSQE_CQE_SKIP_SUCCESS (1U << 6)
#endif
#ifndef IORING_CQE_F_MORE
#define IORING_CQE_F_MORE (1U << 1)
#endif

// How many entries a ring may ask for: io_uring_setup(2) refuses more than 32768 SQ entries.
constexpr uint32_t kMaxRingEntries = 32768;

class UringRing {
 public:
  UringRing() = default;
  UringRing(const UringRing&) = delete;
  UringRing& operator=(const UringRing&) = delete;
  ~UringRing() { Unmap(); }

  // io_uring_setup with `entries` SQ entries (the kernel rounds up to a power of two and makes
  // twice as many CQ entries), the fd made close-on-exec, and the three rings mapped. Returns
  // the new fd (the caller owns it), or -1 with errno set and nothing left open or mapped.
  int Setup(uint32_t entries);
  // Unmaps the rings (the fd is the owner's to close). Idempotent.
  void Unmap();

  // The next free SQE, zeroed, or nullptr when the SQ is full (Submit() first).
  io_uring_sqe* NextSqe();
  // SQEs queued by NextSqe() that the kernel has not consumed yet.
  uint32_t Pending() const;
  // io_uring_enter(fd, to_submit, min_complete, flags, arg): submits to_submit of the queued
  // SQEs and, with IORING_ENTER_GETEVENTS, waits until min_complete CQEs are there. `left`
  // (nullptr: no limit) bounds the wait through IORING_ENTER_EXT_ARG where the kernel has it.
  // Returns what the syscall returns (-1, errno).
  int Enter(int fd, uint32_t to_submit, uint32_t min_complete, uint32_t flags,
            const struct timespec* left);

  // Completions: the CQE at the head, or nullptr when the CQ is empty; Advance(n) hands n
  // entries back to the kernel.
  const io_uring_cqe* Peek(uint32_t i) const;
  uint32_t Ready() const;
  void Advance(uint32_t n);
  // The kernel holds completions it had no room for (IORING_SQ_CQ_OVERFLOW): an enter with
  // GETEVENTS moves them into the CQ once there is room (IORING_FEAT_NODROP, Linux 5.5).
  bool Overflowed() const;
  bool ExtArg() const { return (features_ & IORING_FEAT_EXT_ARG) != 0; }
  // The kernel can leave out the completion of a request that succeeded (Linux 5.17+).
  bool CqeSkip() const { return (features_ & IORING_FEAT_CQE_SKIP) != 0; }
  // Waits as on kernels before 5.11, with an IORING_OP_TIMEOUT request (to test that path).
  void DisableExtArg() { features_ &= ~IORING_FEAT_EXT_ARG; }
  uint32_t sq_entries() const { return sq_entries_; }
  uint32_t cq_entries() const { return cq_entries_; }

 private:
  void* sq_ring_ = nullptr;
  size_t sq_ring_size_ = 0;
  void* cq_ring_ = nullptr;  // the same mapping as sq_ring_ with IORING_FEAT_SINGLE_MMAP
  size_t cq_ring_size_ = 0;
  io_uring_sqe* sqes_ = nullptr;
  size_t sqes_size_ = 0;
  unsigned* sq_head_ = nullptr;
  unsigned* sq_tail_ = nullptr;
  unsigned* sq_flags_ = nullptr;
  unsigned* sq_array_ = nullptr;
  unsigned sq_mask_ = 0;
  unsigned* cq_head_ = nullptr;
  unsigned* cq_tail_ = nullptr;
  unsigned cq_mask_ = 0;
  io_uring_cqe* cqes_ = nullptr;
  uint32_t sq_entries_ = 0;
  uint32_t cq_entries_ = 0;
  uint32_t features_ = 0;
  unsigned local_tail_ = 0;  // SQEs filled so far; published to the kernel by Enter()
};

// io_uring_setup on a 1-entry ring, closed at once: 0 when io_uring works here, else the errno
// (ENOSYS: no io_uring in the kernel or a seccomp filter; EPERM: kernel.io_uring_disabled or
// a seccomp filter).
int ProbeIoUring();

}  // namespace iomux
