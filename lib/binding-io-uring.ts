/**
 * The shape of the addon's IoUring class (native/io_uring*.cc), kept apart from lib/binding.ts
 * (which re-exports it) so that each stays small.
 */
import type { NativeStats } from './stats';

/**
 * An io_uring instance (native/io_uring.cc) that owns its fd (close-on-exec): poll requests
 * (IORING_OP_POLL_ADD) as readiness, in the shape of NativeEpoll. Changes are queued in the
 * submission ring and go to the kernel with the next wait's io_uring_enter (or submit()), or at
 * once while a waitAsync() is pending. user_data = generation << 32 | fd: completions of an
 * older registration of the same fd number are dropped natively, never reported.
 */
export interface NativeIoUring extends NativeStats {
  fileno(): number;
  readonly closed: boolean;
  /** Idempotent; closing the ring fd cancels every request. After it every method throws ERR_CLOSED. */
  close(): void;
  /**
   * Queues a poll request for fd (EBADF at once when fd is not open: fcntl F_GETFD; EEXIST when
   * registered). events: POLL* bits; tag: handed back in stride-3 records.
   */
  register(fd: number, events: number, tag: number): void;
  /** Queues the removal of fd's request and a new one (ENOENT when not registered; EBADF when fd is closed). */
  modify(fd: number, events: number, tag: number): void;
  /** Queues the removal of fd's request (ENOENT when not registered); works after fd was closed. */
  unregister(fd: number): void;
  /** Submits the queued SQEs now; returns how many there were. */
  submit(): number;
  /** The ring's sizes, whether the kernel takes EXT_ARG timeouts, level mode, registrations, queued SQEs. */
  info(): { sqEntries: number; cqEntries: number; extArg: boolean; level: boolean; registered: number; queued: number; rearms: number };
  /** One wait (maxevents 1..65536, default 1024): a new array of [fd, revents] pairs. */
  poll(timeoutMs: number, maxevents?: number): Array<[number, number]>;
  /** One wait writing records of `stride` (2 or 3) int32s, (fd, revents[, tag]), into out. */
  pollInto(out: Int32Array, timeoutMs: number, stride: number): number;
  /** As NativeEpoll#waitAsync: Node's loop watches the ring fd, no thread. */
  waitAsync(timeoutMs: number, maxevents: number, callback: (err: Error | null, events?: Array<[number, number]>) => void): void;
  /** As NativeEpoll#waitIntoAsync. */
  waitIntoAsync(out: Int32Array, timeoutMs: number, stride: number, callback: (err: Error | null, count?: number) => void): void;
  /** Drops the pending wait without calling its callback; returns false if none was pending. */
  cancelWait(): boolean;
}

export interface NativeIoUringConstructor {
  /**
   * entries: SQ entries, 1..32768 (the kernel rounds up to a power of two; the CQ gets twice as
   * many); level: one-shot requests re-armed after each completion instead of multishot ones.
   */
  new (entries: number, level: boolean): NativeIoUring;
}
