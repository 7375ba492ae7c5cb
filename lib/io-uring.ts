/** io_uring(7) poll as a readiness mechanism: the kernel object as it is. Linux only. */
import type { NativeIoUring } from './binding';
import { native } from './binding';
import { SCRATCH_MAX_EVENTS, validateMaxevents, waitPairsAsync } from './async/pairs-wait';
import { invalidArgType } from './errors';
import { createNativeIoUring } from './io-uring-support';
import { KernelObject } from './kernel';
import {
  fileLikeToFd,
  pollTimeout,
  validateEvents,
  validateInteger,
  validateOptions,
  validateOutBuffer,
} from './validate';
import type { FileLike } from './validate';

/** Options for `new IoUring()`. */
export interface IoUringOptions {
  /**
   * Submission queue entries, 1..32768 (default 256); the kernel rounds up to a power of two
   * and gives the completion queue twice as many. More changes than this between two waits
   * cost one extra io_uring_enter per ring-full; more completions than the CQ holds wait in
   * the kernel (overflow) and are reported by the next waits, none lost.
   */
  entries?: number;
  /**
   * false (default): multishot poll requests (IORING_POLL_ADD_MULTI), which complete once per
   * readiness *edge*: a file that stays readable is reported once, and again only when new
   * data arrives (measured on Linux 6.18; see docs/io_uring.md). true: one-shot requests armed
   * again after each completion, so a file that stays ready is reported by every wait
   * (level-triggered, as poll(2) and the selectors), for one SQE per reported fd.
   */
  level?: boolean;
}

/** What {@link IoUring.info} reports. */
export interface IoUringInfo {
  /** Submission queue entries (entries rounded up to a power of two). */
  sqEntries: number;
  /** Completion queue entries (twice sqEntries). */
  cqEntries: number;
  /** Whether waits pass their timeout with IORING_ENTER_EXT_ARG (Linux 5.11+), else an IORING_OP_TIMEOUT request. */
  extArg: boolean;
  /** The `level` option. */
  level: boolean;
  /** Registered fds. */
  registered: number;
  /** SQEs queued for the next io_uring_enter. */
  queued: number;
  /**
   * Poll requests armed again after they ended, since the ring was made: every reported fd in
   * `level` mode; in multishot mode a request the kernel ended (on CQ overflow, or cancelled).
   */
  rearms: number;
}

/** Options for {@link IoUring.waitAsync}. */
export interface IoUringWaitAsyncOptions {
  /** At most this many records (default 1024, at most 65,536; -1 also means the default). */
  maxevents?: number;
  /** Aborting rejects the wait with an `AbortError` and leaves the object usable. */
  signal?: AbortSignal;
}

const c = native.constants;
/** The default mask of register(): POLLIN | POLLPRI | POLLOUT, as Poll#register. */
const DEFAULT_EVENTS = (c.POLLIN ?? 1) | (c.POLLPRI ?? 2) | (c.POLLOUT ?? 4);
/** Poll masks: any value 0..0xffff (CPython's rule), as Poll#register. */
const POLL_MASK = 0xffff;
/** A sane upper bound for maxevents (the addon refuses more too). */
const MAX_MAXEVENTS = 65536;

function create(options: unknown): NativeIoUring {
  const o = validateOptions<IoUringOptions>(options);
  const entries = o.entries === undefined ? 256 : validateInteger(o.entries, 'options.entries', 1, 32768);
  if (o.level !== undefined && typeof o.level !== 'boolean') {
    throw invalidArgType('options.level', 'of type boolean', o.level);
  }
  return createNativeIoUring(entries, o.level ?? false);
}

/**
 * An io_uring instance used for readiness: each registered fd has a poll request
 * (IORING_OP_POLL_ADD) in flight, and a wait reaps their completions as `[fd, revents]`
 * records, in the shapes of Epoll#poll, pollInto and pollAsync. Changes (register, modify,
 * unregister) are queued in the submission ring and handed to the kernel together by the next
 * wait's one io_uring_enter (or by `submit()`), where epoll needs one epoll_ctl each. It owns
 * its fd: `close()` (or garbage collection of an unclosed object) closes it, which cancels
 * every request; every method after `close()` throws `ERR_CLOSED`.
 *
 * Errors surface at once where they can: `register()` and `modify()` check that the fd is
 * open (fcntl F_GETFD, EBADF) and `register()` refuses an fd already registered (EEXIST),
 * `modify()` and `unregister()` an unknown one (ENOENT). A request the kernel refuses later
 * (the fd was closed before the next wait submitted it) is reported as `POLLNVAL` for that fd.
 * Completions of an older registration of the same fd number (closed and reused, modified,
 * unregistered) are never reported: each registration has a generation in its user_data.
 * The ring holds a reference to each registered file, so a registered fd that is closed keeps
 * its file (a socket stays connected) until `unregister()` is submitted or the ring is closed.
 *
 * Portability: Linux 5.13+ (multishot poll) with io_uring allowed. Elsewhere, and where the
 * kernel refuses io_uring (`kernel.io_uring_disabled`, Docker's default seccomp profile), the
 * constructor throws `ERR_NOT_SUPPORTED`; `capabilities().ioUring` says why. Unlike epoll, a
 * regular file can be registered (it is always ready). In the default multishot mode a file
 * may be reported more than once in one wait (one record per completion) and a file that
 * stays ready is not reported again (edge-like): see {@link IoUringOptions.level}.
 *
 * Its `stats()`: `calls` are waits; `syscalls` every io_uring_enter (submissions included);
 * `fds` the SQEs submitted and `bytesIn` their bytes (64 each).
 */
export class IoUring extends KernelObject<NativeIoUring> {
  /** wait()'s reusable buffer, grown to 2 * maxevents (at most SCRATCH_MAX_EVENTS records). */
  #scratch = new Int32Array(0);

  /**
   * Creates an io_uring instance (io_uring_setup, close-on-exec fd, rings mapped).
   * @param options `{ entries, level }`.
   * @throws Error `ERR_NOT_SUPPORTED` where io_uring is missing or refused (ENOSYS, EPERM), its
   *   `cause` the errno error.
   * @throws TypeError / RangeError for bad options; ErrnoError `EMFILE` / `ENOMEM` from
   *   io_uring_setup.
   */
  constructor(options?: IoUringOptions) {
    super(create(options));
  }

  /**
   * Queues a poll request for fd (IORING_OP_POLL_ADD, multishot unless `level`).
   * @param fd the file-like to watch.
   * @param events a mask of POLL* flags, 0..0xffff (default POLLIN | POLLPRI | POLLOUT).
   * @throws ErrnoError `EBADF` for a closed fd (checked now), `EEXIST` when fd is registered;
   *   Error `ERR_CLOSED` after close(); RangeError / TypeError for bad arguments.
   */
  register(fd: FileLike, events: number = DEFAULT_EVENTS): void {
    const n = fileLikeToFd(fd);
    this._native.register(n, validateEvents(events, POLL_MASK), 0);
  }

  /**
   * Changes the events of a registered fd: queues the removal of its request and a new one.
   * @param fd the file-like.
   * @param events the new POLL* mask.
   * @throws ErrnoError `ENOENT` if fd is not registered, `EBADF` if it was closed; Error
   *   `ERR_CLOSED` after close().
   */
  modify(fd: FileLike, events: number): void {
    const n = fileLikeToFd(fd);
    this._native.modify(n, validateEvents(events, POLL_MASK), 0);
  }

  /**
   * Queues the removal of fd's poll request (IORING_OP_POLL_REMOVE). Works after fd was closed;
   * the ring lets go of the file when the removal is submitted (next wait, or `submit()`).
   * @param fd the file-like.
   * @throws ErrnoError `ENOENT` if fd is not registered; Error `ERR_CLOSED` after close().
   */
  unregister(fd: FileLike): void {
    this._native.unregister(fileLikeToFd(fd));
  }

  /**
   * Hands the queued changes to the kernel now (one io_uring_enter), instead of with the next
   * wait. A change made during a pending waitAsync() is submitted at once anyway.
   * @returns How many SQEs were queued.
   * @throws Error `ERR_CLOSED` after close(); ErrnoError from io_uring_enter.
   */
  submit(): number {
    return this._native.submit();
  }

  /**
   * Describes the ring.
   * @returns Its sizes, how waits pass their timeout, and what is registered and queued.
   * @throws Error `ERR_CLOSED` after close().
   */
  info(): IoUringInfo {
    return this._native.info();
  }

  /**
   * Submits the queued changes and waits for completions: one io_uring_enter with
   * IORING_ENTER_GETEVENTS and the timeout through IORING_ENTER_EXT_ARG (ns precision; an
   * IORING_OP_TIMEOUT request on kernels before 5.11). A signal does not end the wait early
   * unless JS listens for it: then it throws `EINTR` with `err.signal`, as Epoll#poll does.
   * @param timeout ms; `undefined`, `null` or negative waits forever, 0 does not wait.
   * @param maxevents at most this many records (default 1024; -1 also means the default); more
   *   completions stay in the ring for the next wait.
   * @returns a new array of `[fd, revents]` pairs.
   * @throws Error `ERR_CLOSED` after close(), `ERR_BUSY` while a waitAsync() is pending.
   * @throws RangeError / TypeError for a bad timeout or maxevents.
   */
  wait(timeout?: number | null, maxevents?: number): Array<[fd: number, revents: number]> {
    const ms = pollTimeout(timeout);
    const max = validateMaxevents(maxevents, MAX_MAXEVENTS);
    // As Epoll#poll: pairs built here from a kept buffer (cheaper than through N-API); a
    // larger maxevents goes to the native poll, so the kept buffer stays small.
    if (max > SCRATCH_MAX_EVENTS) return this._native.poll(ms, max);
    if (this.#scratch.length < 2 * max) this.#scratch = new Int32Array(2 * max);
    const buf = this.#scratch;
    const n = this._native.pollInto(buf.length === 2 * max ? buf : buf.subarray(0, 2 * max), ms, 2);
    const out = new Array<[number, number]>(n);
    for (let i = 0; i < n; i++) out[i] = [buf[2 * i], buf[2 * i + 1]];
    return out;
  }

  /**
   * Like wait() but writes (fd, revents) pairs into `out` and allocates nothing; reaps at most
   * `out.length / 2` completions (more stay in the ring for the next call).
   * @param out an Int32Array of even length >= 2.
   * @param timeout as for wait().
   * @returns the number of pairs written.
   * @throws RangeError `ERR_OUT_OF_RANGE` for an odd or empty buffer; as wait() otherwise.
   */
  waitInto(out: Int32Array, timeout?: number | null): number {
    const buf = validateOutBuffer(out);
    return this._native.pollInto(buf, pollTimeout(timeout), 2);
  }

  /**
   * Waits without blocking the thread and without a helper thread: the queued changes are
   * submitted, then Node's own event loop watches the ring fd (readable while completions are
   * there) and the completions are reaped when it fires.
   * @param timeout ms as for wait(); fractions are honoured.
   * @param options `{ maxevents, signal }`.
   * @returns a promise of `[fd, revents]` pairs; `[]` at the timeout.
   * @throws (rejects) Error `ERR_CLOSED` if closed before or during the wait, `ERR_BUSY` if a
   *   wait is already pending, `AbortError` when the signal aborts (the object stays usable).
   */
  async waitAsync(timeout?: number | null, options?: IoUringWaitAsyncOptions): Promise<Array<[fd: number, revents: number]>> {
    return waitPairsAsync(this._native, timeout, options, MAX_MAXEVENTS);
  }
}
