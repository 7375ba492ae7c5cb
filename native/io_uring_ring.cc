// UringRing (see io_uring_ring.h): the ring memory of one io_uring instance.
#include "io_uring_ring.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/time_types.h>  // struct __kernel_timespec, what EXT_ARG takes on every ABI
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

namespace iomux {

static int SysSetup(uint32_t entries, io_uring_params* p) {
  return static_cast<int>(syscall(__NR_io_uring_setup, entries, p));
}

int ProbeIoUring() {
  io_uring_params p;
  memset(&p, 0, sizeof p);
  int fd = SysSetup(1, &p);
  if (fd < 0) return errno;
  close(fd);
  return 0;
}

static void* MapRing(int fd, size_t size, off_t offset) {
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, offset);
  return p == MAP_FAILED ? nullptr : p;
}

template <class T>
static T* At(void* base, uint32_t offset) {
  return reinterpret_cast<T*>(static_cast<char*>(base) + offset);
}

int UringRing::Setup(uint32_t entries) {
  io_uring_params p;
  memset(&p, 0, sizeof p);
  int fd = SysSetup(entries, &p);
  if (fd < 0) return -1;
  // There is no IORING_SETUP_CLOEXEC: the kernel makes the fd with O_CLOEXEC since 5.5
  // (io_uring_install_fd), and this makes sure of it on any kernel.
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  features_ = p.features;
  sq_entries_ = p.sq_entries;
  cq_entries_ = p.cq_entries;
  sq_ring_size_ = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  cq_ring_size_ = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
  bool single = (p.features & IORING_FEAT_SINGLE_MMAP) != 0;
  if (single && cq_ring_size_ > sq_ring_size_) sq_ring_size_ = cq_ring_size_;
  sq_ring_ = MapRing(fd, sq_ring_size_, IORING_OFF_SQ_RING);
  cq_ring_ = single ? sq_ring_ : MapRing(fd, cq_ring_size_, IORING_OFF_CQ_RING);
  sqes_size_ = p.sq_entries * sizeof(io_uring_sqe);
  void* sqes = MapRing(fd, sqes_size_, IORING_OFF_SQES);
  if (sq_ring_ == nullptr || cq_ring_ == nullptr || sqes == nullptr) {
    int err = errno;
    if (sqes != nullptr) munmap(sqes, sqes_size_);
    Unmap();
    close(fd);
    errno = err;
    return -1;
  }
  sqes_ = static_cast<io_uring_sqe*>(sqes);
  sq_head_ = At<unsigned>(sq_ring_, p.sq_off.head);
  sq_tail_ = At<unsigned>(sq_ring_, p.sq_off.tail);
  sq_flags_ = At<unsigned>(sq_ring_, p.sq_off.flags);
  sq_array_ = At<unsigned>(sq_ring_, p.sq_off.array);
  sq_mask_ = *At<unsigned>(sq_ring_, p.sq_off.ring_mask);
  cq_head_ = At<unsigned>(cq_ring_, p.cq_off.head);
  cq_tail_ = At<unsigned>(cq_ring_, p.cq_off.tail);
  cq_mask_ = *At<unsigned>(cq_ring_, p.cq_off.ring_mask);
  cqes_ = At<io_uring_cqe>(cq_ring_, p.cq_off.cqes);
  local_tail_ = *sq_tail_;
  return fd;
}

void UringRing::Unmap() {
  if (sqes_ != nullptr) munmap(sqes_, sqes_size_);
  if (cq_ring_ != nullptr && cq_ring_ != sq_ring_) munmap(cq_ring_, cq_ring_size_);
  if (sq_ring_ != nullptr) munmap(sq_ring_, sq_ring_size_);
  sqes_ = nullptr;
  cq_ring_ = nullptr;
  sq_ring_ = nullptr;
}

io_uring_sqe* UringRing::NextSqe() {
  unsigned head = __atomic_load_n(sq_head_, __ATOMIC_ACQUIRE);
  if (local_tail_ - head >= sq_entries_) return nullptr;
  unsigned index = local_tail_ & sq_mask_;
  io_uring_sqe* sqe = &sqes_[index];
  memset(sqe, 0, sizeof *sqe);
  sq_array_[index] = index;
  local_tail_++;
  return sqe;
}

uint32_t UringRing::Pending() const {
  return local_tail_ - __atomic_load_n(sq_head_, __ATOMIC_ACQUIRE);
}

int UringRing::Enter(int fd, uint32_t to_submit, uint32_t min_complete, uint32_t flags,
                     const struct timespec* left) {
  // Publish the filled SQEs: the kernel reads the tail with acquire semantics, and consumes
  // only to_submit of them (there is no SQPOLL thread).
  __atomic_store_n(sq_tail_, local_tail_, __ATOMIC_RELEASE);
  if (left == nullptr || !ExtArg()) {
    return static_cast<int>(syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, nullptr, 0));
  }
  struct __kernel_timespec ts;
  ts.tv_sec = left->tv_sec;
  ts.tv_nsec = left->tv_nsec;
  io_uring_getevents_arg arg;
  memset(&arg, 0, sizeof arg);
  arg.sigmask_sz = _NSIG / 8;
  arg.ts = reinterpret_cast<uint64_t>(&ts);
  return static_cast<int>(syscall(__NR_io_uring_enter, fd, to_submit, min_complete,
                                  flags | IORING_ENTER_EXT_ARG, &arg, sizeof arg));
}

uint32_t UringRing::Ready() const {
  return __atomic_load_n(cq_tail_, __ATOMIC_ACQUIRE) - *cq_head_;
}

const io_uring_cqe* UringRing::Peek(uint32_t i) const {
  return &cqes_[(*cq_head_ + i) & cq_mask_];
}

void UringRing::Advance(uint32_t n) {
  if (n != 0) __atomic_store_n(cq_head_, *cq_head_ + n, __ATOMIC_RELEASE);
}

bool UringRing::Overflowed() const {
  return (__atomic_load_n(sq_flags_, __ATOMIC_RELAXED) & IORING_SQ_CQ_OVERFLOW) != 0;
}

}  // namespace iomux
