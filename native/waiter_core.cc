#include "waiter_core.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/eventfd.h>
#endif

#include <algorithm>
#include <cstring>

namespace iomux {

// select bitmaps bigger than this (per set) are freed after the wait instead of kept.
constexpr size_t kKeptSetBytes = 8 * 1024;

// The wake-up fd ends a wait (cancel, close, teardown); EINTR never does: the thread blocks the
// asynchronous signals, so a stray one is simply retried.
static bool StopOnWake(void*, bool eintr) { return !eintr; }

// A wake-up fd pair, CLOEXEC and non-blocking: an eventfd on Linux (one fd), else a pipe.
static int MakeWakeFds(int* r, int* w, const char** syscall) {
#if defined(__linux__)
  *syscall = "eventfd";
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return errno;
  *r = *w = fd;
  return 0;
#else
  *syscall = "pipe";
  int fds[2];
  if (pipe(fds) != 0) return errno;
  for (int fd : fds) {
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 || fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
      int err = errno;
      close(fds[0]);
      close(fds[1]);
      *syscall = "fcntl";
      return err;
    }
  }
  *r = fds[0];
  *w = fds[1];
  return 0;
#endif
}

WaiterCore* WaiterCore::Create(napi_env env, DoneFn done, void* owner, int* err,
                               const char** syscall) {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    *err = EINVAL;
    *syscall = "napi_get_uv_event_loop";
    return nullptr;
  }
  WaiterCore* core = new WaiterCore();
  core->done_ = done;
  core->owner_ = owner;
  // uv_async_init on a live loop cannot fail on Unix; it is never closed before this returns.
  uv_async_init(loop, &core->async_, OnAsync);
  core->async_.data = core;
  // An idle Waiter must not keep the process alive.
  uv_unref(reinterpret_cast<uv_handle_t*>(&core->async_));
  napi_add_async_cleanup_hook(env, OnEnvTeardown, core, &core->hook_);
  return core;
}

WaiterCore::~WaiterCore() {
  if (wake_r_ >= 0) close(wake_r_);
  if (wake_w_ >= 0 && wake_w_ != wake_r_) close(wake_w_);
}

int WaiterCore::Start(WaitKind kind, bool large, bool timing, double timeout_ms,
                      const int32_t* recs, size_t count, const char** syscall) {
  kind_ = kind;
  large_ = large;
  timing_ = timing;
  deadline_ = MakeDeadline(timeout_ms);
  recs_.assign(recs, recs + 2 * count);
  revents_.assign(count, 0);
  if (wake_r_ < 0) {
    int err = MakeWakeFds(&wake_r_, &wake_w_, syscall);
    if (err != 0) return err;
  }
  // A cancel() that came after the last wait had already finished left a byte behind.
  DrainWake();
  if (!thread_started_) {
    *syscall = "pthread_create";
    int err = StartThread();
    if (err != 0) return err;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ready_ = true;
    result_ready_ = false;
  }
  cv_.notify_one();
  return 0;
}

int WaiterCore::StartThread() {
  // The thread blocks the asynchronous signals, so that a process-directed signal goes to
  // Node's own threads (libuv's handlers) instead of interrupting this one. Faults stay
  // unblocked: blocking a synchronous SIGSEGV would kill the process without a handler.
  sigset_t all, old;
  sigfillset(&all);
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT}) sigdelset(&all, sig);
  // The thread only runs one syscall at a time on heap buffers: a small stack is plenty,
  // and keeps many selectors (one thread each) light on address space.
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, std::max<size_t>(PTHREAD_STACK_MIN, 256 * 1024));
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int err = pthread_create(&thread_, &attr, ThreadMain, this);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  pthread_attr_destroy(&attr);
  if (err == 0) thread_started_ = true;
  return err;
}

void* WaiterCore::ThreadMain(void* arg) {
  static_cast<WaiterCore*>(arg)->Loop();
  return nullptr;
}

void WaiterCore::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return quit_ || job_ready_; });
    if (quit_) return;
    job_ready_ = false;
    lock.unlock();
    int err = 0;
    WaitCounts counts;
    int n = Run(&err, &counts);
    lock.lock();
    result_n_ = n;
    result_err_ = err;
    result_counts_ = counts;
    result_ready_ = true;
    // Coalesced sends are fine: there is at most one result in flight.
    uv_async_send(&async_);
  }
}

int WaiterCore::Run(int* err, WaitCounts* counts) {
  return kind_ == WaitKind::kPoll ? RunPoll(err, counts) : RunSelect(err, counts);
}

int WaiterCore::RunPoll(int* err, WaitCounts* counts) {
  size_t count = revents_.size();
  pfds_.resize(count + 1);
  for (size_t i = 0; i < count; i++) {
    pfds_[i] = pollfd{recs_[2 * i], static_cast<short>(recs_[2 * i + 1]), 0};
  }
  WaitExtra wake{wake_r_, StopOnWake, nullptr};
  WaitCounting counting{static_cast<double>(count + 1),
                        static_cast<double>((count + 1) * sizeof(struct pollfd)), timing_, counts};
  int r = PollOnce(pfds_.data(), count, deadline_, wake, counting, err);
  if (r == -1) return kWaitFailed;
  if (r == kWaitStopped) {
    DrainWake();
    return kWaitCancelled;
  }
  for (size_t i = 0; i < count; i++) revents_[i] = pfds_[i].revents;
  return r;
}

// SelectOnce's fill: the request bitmaps, copied afresh before each try.
static void CopyRequest(const FdSets& sets, void* ctx) {
  const std::vector<FdWord>* in = static_cast<const std::vector<FdWord>*>(ctx);
  std::copy(in->begin(), in->end(), sets.base);
}

int WaiterCore::RunSelect(int* err, WaitCounts* counts) {
  size_t count = revents_.size();
  int maxfd = wake_r_;
  for (size_t i = 0; i < count; i++) maxfd = std::max(maxfd, recs_[2 * i]);
  // Never shorter than an fd_set, so the libc and the kernel may read a whole one.
  // Every fd is below RLIMIT_NOFILE (checked by Waiter::ReadRecords), so maxfd + 1 fits an int.
  size_t words = std::max(FdWordsFor(maxfd), kFdSetWords);
  sets_in_.assign(3 * words, 0);
  FdWord* in = sets_in_.data();
  // As select.cc counts: one per fd in each set (an fd in two sets counts twice), wake fd included.
  double in_sets = 1;
  for (size_t i = 0; i < count; i++) {
    int fd = recs_[2 * i], events = recs_[2 * i + 1];
    if (events & POLLIN) SetFdBit(in, fd), in_sets++;
    if (events & POLLOUT) SetFdBit(in + words, fd), in_sets++;
    if (events & POLLPRI) SetFdBit(in + 2 * words, fd), in_sets++;
  }
  sets_.resize(3 * words);
  FdSets sets{sets_.data(), words};
  WaitExtra wake{wake_r_, StopOnWake, nullptr};
  // What the kernel copies in: nfds bits of each set in whole words.
  WaitCounting counting{in_sets, static_cast<double>(3 * FdWordsFor(maxfd) * sizeof(FdWord)),
                        timing_, counts};
  int r = SelectOnce(sets, maxfd + 1, CopyRequest, &sets_in_, deadline_, wake, counting, err);
  if (r == -1) return kWaitFailed;
  if (r == kWaitStopped) {
    DrainWake();
    r = kWaitCancelled;
  } else {
    const FdWord* out = sets_.data();
    for (size_t i = 0; i < count; i++) {
      int fd = recs_[2 * i];
      revents_[i] = (HasFdBit(out, fd) ? POLLIN : 0) | (HasFdBit(out + words, fd) ? POLLOUT : 0) |
                    (HasFdBit(out + 2 * words, fd) ? POLLPRI : 0);
    }
  }
  // Bitmaps for high fds are not kept past the wait that needed them.
  if (words * sizeof(FdWord) > kKeptSetBytes) {
    std::vector<FdWord>().swap(sets_in_);
    std::vector<FdWord>().swap(sets_);
  }
  return r;
}

void WaiterCore::Wake() {
#if defined(__linux__)
  uint64_t one = 1;
  ssize_t n;
  do n = write(wake_w_, &one, sizeof one);
  while (n < 0 && errno == EINTR);
#else
  char byte = 1;
  ssize_t n;
  do n = write(wake_w_, &byte, 1);
  while (n < 0 && errno == EINTR);
#endif
  // EAGAIN means a wake-up is already pending, which is all that is needed.
}

void WaiterCore::DrainWake() {
  char buf[64];
  ssize_t n;
  do n = read(wake_r_, buf, sizeof buf);
  while (n > 0 || (n < 0 && errno == EINTR));
}

void WaiterCore::Cancel() {
  if (wake_w_ >= 0) Wake();
}

bool WaiterCore::TakeResult(int* n, int* err, WaitCounts* counts) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!result_ready_) return false;
  result_ready_ = false;
  *n = result_n_;
  *err = result_err_;
  *counts = result_counts_;
  return true;
}

size_t WaiterCore::WriteRecords(int32_t* out, size_t max_records) const {
  size_t written = 0;
  for (size_t i = 0; i < revents_.size() && written < max_records; i++) {
    if (revents_[i] == 0) continue;
    out[2 * written] = recs_[2 * i];
    out[2 * written + 1] = revents_[i];
    written++;
  }
  return written;
}

void WaiterCore::SetActive(bool active) {
  if (shut_down_) return;
  uv_handle_t* h = reinterpret_cast<uv_handle_t*>(&async_);
  if (active) {
    uv_ref(h);
  } else {
    uv_unref(h);
  }
}

void WaiterCore::OnAsync(uv_async_t* handle) {
  WaiterCore* core = static_cast<WaiterCore*>(handle->data);
  if (core->owner_ != nullptr && !core->shut_down_) core->done_(core->owner_);
}

void WaiterCore::StopThread() {
  if (thread_started_) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      quit_ = true;
    }
    cv_.notify_one();
    Wake();  // Ends a wait in progress at once.
    pthread_join(thread_, nullptr);
    thread_started_ = false;
    std::lock_guard<std::mutex> lock(mu_);
    quit_ = false;
    job_ready_ = false;
  }
  if (wake_r_ >= 0) close(wake_r_);
  if (wake_w_ >= 0 && wake_w_ != wake_r_) close(wake_w_);
  wake_r_ = wake_w_ = -1;
  // Buffers sized by a big wait are not kept for an idle core.
  std::vector<int32_t>().swap(recs_);
  std::vector<int32_t>().swap(revents_);
  std::vector<struct pollfd>().swap(pfds_);
  std::vector<FdWord>().swap(sets_in_);
  std::vector<FdWord>().swap(sets_);
}

void WaiterCore::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  StopThread();
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), OnClosed);
}

void WaiterCore::OnClosed(uv_handle_t* handle) {
  WaiterCore* core = static_cast<WaiterCore*>(handle->data);
  core->handle_closed_ = true;
  // Removing the hook is also what tells Node that an env teardown may go on.
  if (core->hook_ != nullptr) napi_remove_async_cleanup_hook(core->hook_);
  core->hook_ = nullptr;
  core->MaybeFree();
}

void WaiterCore::OnEnvTeardown(napi_async_cleanup_hook_handle, void* arg) {
  // A worker terminated mid-wait: wake and join the thread now; OnClosed finishes the job.
  static_cast<WaiterCore*>(arg)->Shutdown();
}

void WaiterCore::Release() {
  owner_ = nullptr;
  released_ = true;
  MaybeFree();
}

void WaiterCore::MaybeFree() {
  if (released_ && handle_closed_) delete this;
}

}  // namespace iomux
