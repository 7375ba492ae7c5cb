/**
 * The selectors layer's shared types, in a module of their own so that base.ts, map.ts and
 * async-select.ts need not import each other.
 */
import type { FileLike } from '../validate';
import type { NativeStats } from '../stats';

/** The names of the selector backends. */
export type BackendName = 'select' | 'poll' | 'epoll' | 'kqueue' | 'io_uring';

/**
 * What a selector remembers about one registered file (CPython's `SelectorKey` named tuple).
 * Keys are frozen: `modify()` returns a new key instead of changing the old one.
 */
export interface SelectorKey<T = unknown> {
  /** The object given to `register()`, returned as it is. */
  readonly fileobj: FileLike;
  /** Its file descriptor at registration time. */
  readonly fd: number;
  /** The events it is watched for: a mask of EVENT_READ and EVENT_WRITE. */
  readonly events: number;
  /** The caller's attached data. */
  readonly data: T;
}

/** One ready entry of `select()`: the key and the events that are ready (a subset of key.events). */
export type SelectorEvent<T> = [key: SelectorKey<T>, events: number];

/** Options of `selectAsync()` and `events()`. */
export interface SelectAsyncOptions {
  /** Aborting rejects the pending wait with an `AbortError`; the selector stays usable. */
  signal?: AbortSignal;
}

/**
 * How a backend's one asynchronous wait ends: `timedOut` true when the time ran out with
 * nothing ready; false when something woke it (entries pushed, or every record was stale).
 */
export type AsyncWaitDone = (err: Error | null, timedOut: boolean) => void;

/**
 * The kernel object of a poll-like selector (CPython's `_selector_cls`): the shape native Poll
 * and Epoll share. `tag` and `stride` are ignored by poll, which has no room for a tag.
 */
export interface PollKernel extends NativeStats {
  register(fd: number, flags: number, tag: number): void;
  modify(fd: number, flags: number, tag: number): unknown;
  unregister(fd: number): unknown;
  /** One wait writing records of `stride` int32s into out; returns the record count. */
  pollInto(out: Int32Array, timeoutMs: number, stride: number): number;
  /** pollInto(out, timeoutMs) bound to this object, a stride and out, where it is cheaper so (epoll). */
  boundPollInto?(stride: 2 | 3, out: Int32Array): ((timeoutMs: number) => number) | undefined;
  close?(): void;
}

/** A backend's asynchronous wait, which BaseSelector#selectAsync() drives (one at a time). */
export interface AsyncBackend<T> {
  /**
   * Starts one wait of at most timeoutMs (native convention: negative = forever; never 0)
   * that pushes an entry per ready, current registration onto ready and then calls done
   * exactly once, never before returning, unless `cancelWait()` returned true. What it
   * throws rejects the selectAsync().
   */
  waitAsync(timeoutMs: number, ready: Array<SelectorEvent<T>>, done: AsyncWaitDone): void;
  /**
   * Ends the wait that `waitAsync()` started.
   * @returns true when it ended now and done will not be called; false when done will still be
   *   called (soon: a thread has to wake up first).
   */
  cancelWait(): boolean;
  /**
   * Called on register(), unregister() and an events-changing modify() during the wait. A wait
   * that watches a copy of the registrations (a thread's poll or select set) restarts here: new
   * interest counts in this very wait, and the thread lets go at once of an unregistered file
   * (the kernel holds a reference to every file poll(2) or select(2) waits on, so a socket
   * closed right after unregister() would be released, and its peer see EOF, only when the
   * wait ended). epoll and kqueue keep the interest list in the kernel: they leave it out.
   */
  changed?(): void;
}
