// The part of a Waiter that runs poll(2)/select(2) on a thread of its own and outlives the JS
// object: the thread, the wake-up fds and the uv_async_t that hands results back to the JS
// thread. It never touches JS memory from its thread, and it is freed only once libuv has
// closed its handle and the JS object has let go of it (whichever comes last).
#pragma once

#include <node_api.h>
#include <poll.h>
#include <pthread.h>
#include <sys/select.h>
#include <uv.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

#include "timeout.h"
#include "wait_once.h"

namespace iomux {

enum class WaitKind { kPoll = 0, kSelect = 1 };

// Result codes besides a record count: the wait was cancelled (cancel, close, teardown), or the
// syscall failed with the errno kept in the result.
constexpr int kWaitCancelled = -1;
constexpr int kWaitFailed = -2;

class WaiterCore {
 public:
  using DoneFn = void (*)(void* owner);

  // Makes the (unref'd) uv_async_t on env's loop and registers the env teardown hook. The
  // thread and its wake-up fd are made by the first Start() and ended by StopThread(), so an
  // idle core holds neither. On failure returns nullptr with *err (errno) and *syscall set.
  static WaiterCore* Create(napi_env env, DoneFn done, void* owner, int* err, const char** syscall);

  // JS thread: copies count (fd, events) pairs, then hands the job to the thread (started, with
  // its wake-up fd, when none runs). Returns 0 or an errno (eventfd/pipe, pthread_create) with
  // *syscall set.
  // timing: read the clock around each syscall for WaitCounts::syscall_ns.
  int Start(WaitKind kind, bool large, bool timing, double timeout_ms, const int32_t* recs,
            size_t count, const char** syscall);
  // Any thread: makes a running wait end with kWaitCancelled.
  void Cancel();
  // JS thread, after the done callback: the result code, errno and counts of the finished wait.
  bool TakeResult(int* n, int* err, WaitCounts* counts);
  // JS thread: writes (fd, revents) records of the finished wait; returns how many.
  size_t WriteRecords(int32_t* out, size_t max_records) const;
  // JS thread: keeps the loop alive while a wait is pending, and only then.
  void SetActive(bool active);
  // JS thread: ends any wait, joins the thread and closes the wake-up fd; the next Start()
  // makes new ones. Called when a wait settled and no other was started: an idle core costs no
  // thread and no fd (selectors dropped without close() used to keep both until GC).
  void StopThread();
  // Idempotent: ends any wait, joins the thread, closes the fds and starts closing the handle.
  // Makes no JS call, so it is safe from the env teardown hook.
  void Shutdown();
  bool IsShutDown() const { return shut_down_; }
  // The JS object lets go; the core frees itself once its handle is closed too.
  void Release();

 private:
  WaiterCore() = default;
  ~WaiterCore();
  static void* ThreadMain(void* arg);
  static void OnAsync(uv_async_t* handle);
  static void OnClosed(uv_handle_t* handle);
  static void OnEnvTeardown(napi_async_cleanup_hook_handle handle, void* arg);
  int StartThread();
  void Loop();
  int Run(int* err, WaitCounts* counts);
  int RunPoll(int* err, WaitCounts* counts);
  int RunSelect(int* err, WaitCounts* counts);
  void Wake();
  void DrainWake();
  void MaybeFree();

  uv_async_t async_{};
  napi_async_cleanup_hook_handle hook_ = nullptr;
  DoneFn done_ = nullptr;
  void* owner_ = nullptr;
  int wake_r_ = -1;  // the same fd as wake_w_ where eventfd exists
  int wake_w_ = -1;
  pthread_t thread_{};
  bool thread_started_ = false;
  bool shut_down_ = false;
  bool handle_closed_ = false;
  bool released_ = false;

  // Shared with the thread, under mu_.
  std::mutex mu_;
  std::condition_variable cv_;
  bool job_ready_ = false;
  bool result_ready_ = false;
  bool quit_ = false;
  int result_n_ = 0;
  int result_err_ = 0;
  WaitCounts result_counts_;

  // The job: written by the JS thread before the hand-off, by the thread while it runs, read
  // by the JS thread after the result comes back. Vectors keep their capacity between waits.
  WaitKind kind_ = WaitKind::kPoll;
  bool large_ = false;
  bool timing_ = false;
  Deadline deadline_{};
  std::vector<int32_t> recs_;     // (fd, events) pairs as given
  std::vector<int32_t> revents_;  // one per pair, filled by the thread
  std::vector<struct pollfd> pfds_;
  std::vector<FdWord> sets_in_;  // select: read, write, except bitmaps, one after the other
  std::vector<FdWord> sets_;     // select: the copies the kernel overwrites
  // The thread's WaitCounts travel with the result under mu_ (the JS thread adds them to the
  // Waiter's stats), so that neither thread races the other. The wake-up fd is counted too.
};

}  // namespace iomux
