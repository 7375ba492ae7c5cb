/** epoll(7): the kernel object as it is, one validated native call per method. Linux only. */
import { native } from './binding';
import type { NativeEpoll, NativeEpollConstructor } from './binding';
import { SCRATCH_MAX_EVENTS, validateMaxevents, waitPairsAsync } from './async/pairs-wait';
import { invalidArgType, stateError } from './errors';
import {
  fileLikeToFd,
  pollTimeout,
  validateEvents,
  validateFd,
  validateInteger,
  validateOptions,
  validateOutBuffer,
} from './validate';
import type { FileLike } from './validate';
import { adopt, adopted, KernelObject } from './kernel';

/** Options for `new Epoll()`. */
export interface EpollOptions {
  /**
   * Kept for CPython's `select.epoll(sizehint)`: ignored by the kernel since Linux 2.6.8.
   * `undefined` or -1 is the default; 0 or below -1 is a RangeError.
   */
  sizehint?: number;
  /** Create the fd with EPOLL_CLOEXEC (default true), so child processes do not inherit it. */
  cloexec?: boolean;
}

/** Options for {@link Epoll.pollAsync}. */
export interface EpollPollAsyncOptions {
  /** At most this many events (default 1024; -1 also means the default). */
  maxevents?: number;
  /** Aborting rejects the wait with an `AbortError` and leaves the object usable. */
  signal?: AbortSignal;
}

const c = native.constants;
/** The default mask of register(): EPOLLIN | EPOLLPRI | EPOLLOUT, as in CPython. */
const DEFAULT_EVENTS = (c.EPOLLIN ?? 0) | (c.EPOLLPRI ?? 0) | (c.EPOLLOUT ?? 0);
/** Every EPOLL* flag this platform defines; EPOLLET is bit 31. */
const KNOWN_EVENTS = [
  'EPOLLIN', 'EPOLLPRI', 'EPOLLOUT', 'EPOLLERR', 'EPOLLHUP', 'EPOLLRDNORM', 'EPOLLRDBAND',
  'EPOLLWRNORM', 'EPOLLWRBAND', 'EPOLLMSG', 'EPOLLRDHUP', 'EPOLLEXCLUSIVE', 'EPOLLWAKEUP',
  'EPOLLONESHOT', 'EPOLLET',
].reduce((mask, name) => mask | (c[name] ?? 0), 0);
/** A sane upper bound for maxevents: the buffer holds 12 bytes per event. */
const MAX_MAXEVENTS = 2 ** 24;

/**
 * The native Epoll class.
 * @returns It, where this build has epoll.
 * @throws Error ERR_NOT_SUPPORTED elsewhere.
 */
export function nativeEpollClass(): NativeEpollConstructor {
  if (native.Epoll === undefined) {
    throw stateError('ERR_NOT_SUPPORTED', `epoll is not available on ${process.platform}`);
  }
  return native.Epoll;
}

/** An epoll_ctl call: (fd) for unregister, (fd, events, tag) for register and modify. */
type Ctl = (fd: number, events?: number, tag?: number) => void;

function validateSizehint(value: unknown): number {
  if (value === undefined || value === -1) return -1;
  return validateInteger(value, 'options.sizehint', 1, 2 ** 31 - 1);
}

function create(options: unknown): NativeEpoll {
  const Native = nativeEpollClass();
  const o = validateOptions<EpollOptions>(options);
  const sizehint = validateSizehint(o.sizehint);
  if (o.cloexec !== undefined && typeof o.cloexec !== 'boolean') {
    throw invalidArgType('options.cloexec', 'of type boolean', o.cloexec);
  }
  return new Native(sizehint, o.cloexec ?? true);
}

/**
 * An epoll instance: a kernel interest list that reports which of its fds are ready. It owns
 * its fd: `close()` (or, for an object left unclosed, garbage collection) closes it, and every
 * method after `close()` throws `ERR_CLOSED` without touching the old fd number.
 *
 * Portability: Linux only. Elsewhere the constructor throws `ERR_NOT_SUPPORTED`; use `Kqueue`
 * on macOS/BSD, or the selectors layer, which picks what the platform has.
 *
 * Its `stats()` count poll(), pollInto() and pollAsync() as calls; pollAsync() counts its
 * zero-timeout drains as syscalls and no `callNs`. `fds` and `bytesIn` stay 0: epoll hands
 * the kernel nothing per wait.
 */
export class Epoll extends KernelObject<NativeEpoll> {
  /** pollInto() bound once, on first use: see NativeEpoll.boundPollInto. */
  #pollInto?: (out: Int32Array, timeoutMs: number) => number;
  /** pollInto() bound to one buffer too, the last one waited into twice in a row. */
  #bound?: { out: Int32Array; wait: (timeoutMs: number) => number };
  /** The buffer of the last wait that did not go through #bound. */
  #last?: Int32Array;
  /** poll()'s reusable wait buffer, grown to 2 * maxevents; see SCRATCH_MAX_EVENTS. */
  #scratch = new Int32Array(0);
  /** register(), modify() and unregister() bound on first use: see NativeEpoll.boundCtl. */
  #add?: Ctl;
  #mod?: Ctl;
  #del?: Ctl;
  /** A wait into #scratch (bound to it where the addon offers that). */
  #scratchWait?: (timeoutMs: number) => number;

  /**
   * Creates an epoll instance (epoll_create1).
   * @param options `{ sizehint, cloexec }`; `cloexec` defaults to true.
   * @throws TypeError `ERR_INVALID_ARG_TYPE` / RangeError `ERR_OUT_OF_RANGE` for bad options.
   * @throws Error `ERR_NOT_SUPPORTED` where the platform has no epoll.
   * @throws ErrnoError `EMFILE` / `ENFILE` / `ENOMEM` from epoll_create1.
   */
  constructor(options?: EpollOptions) {
    super(adopted<NativeEpoll>() ?? create(options));
  }

  /**
   * Wraps an existing epoll fd and takes ownership of it: closing the new object closes `fd`.
   * @param fd an epoll file descriptor.
   * @returns the new object.
   * @throws TypeError / RangeError for a bad fd; Error `ERR_NOT_SUPPORTED` without epoll.
   */
  static fromFd(fd: number): Epoll {
    const Native = nativeEpollClass();
    return adopt(Native.fromFd(validateFd(fd)), () => new Epoll());
  }

  /**
   * Adds an fd to the interest list (EPOLL_CTL_ADD).
   * @param fd the file-like to watch.
   * @param events a mask of EPOLL* flags (default EPOLLIN | EPOLLPRI | EPOLLOUT); EPOLLET may
   *   be given signed (`1 << 31`) or unsigned (2 ** 31).
   * @throws ErrnoError `EEXIST` if fd is already registered, `EPERM` for a regular file or
   *   directory, `EBADF` for a closed fd; Error `ERR_CLOSED` after close().
   * @throws RangeError `ERR_OUT_OF_RANGE` for unknown event bits.
   */
  register(fd: FileLike, events: number = DEFAULT_EVENTS): void {
    const n = fileLikeToFd(fd);
    (this.#add ??= this.#bindCtl('register'))(n, validateEvents(events, KNOWN_EVENTS), 0);
  }

  /**
   * Changes the events of a registered fd (EPOLL_CTL_MOD).
   * @param fd the file-like.
   * @param events the new EPOLL* mask.
   * @throws ErrnoError `ENOENT` if fd is not registered; Error `ERR_CLOSED` after close().
   */
  modify(fd: FileLike, events: number): void {
    const n = fileLikeToFd(fd);
    (this.#mod ??= this.#bindCtl('modify'))(n, validateEvents(events, KNOWN_EVENTS), 0);
  }

  /**
   * Removes an fd from the interest list (EPOLL_CTL_DEL).
   * @param fd the file-like.
   * @throws ErrnoError `ENOENT` if not registered, `EBADF` if fd was closed (closing an fd
   *   removes it from every epoll set already); Error `ERR_CLOSED` after close().
   */
  unregister(fd: FileLike): void {
    (this.#del ??= this.#bindCtl('unregister'))(fileLikeToFd(fd));
  }

  #bindCtl(name: 'register' | 'modify' | 'unregister'): Ctl {
    const n = this._native;
    return n.boundCtl?.(name) ?? ((fd, events, tag) => (name === 'unregister' ? n.unregister(fd) : n[name](fd, events!, tag!)));
  }

  /**
   * Waits for events (epoll_pwait2 with ns precision where the kernel has it, else epoll_wait
   * with the timeout rounded up to whole ms; a wait that blocks goes through ppoll, exact to the
   * ns). A signal does not end the wait early unless JS listens for it: then it throws `EINTR`
   * with `err.signal` (README, "Signals and stopped workers during a synchronous wait").
   * @param timeout ms; `undefined`, `null` or negative waits forever, 0 does not wait.
   * @param maxevents at most this many events (default 1024; -1 also means the default).
   * @returns a new array of `[fd, events]` pairs.
   * @throws Error `ERR_CLOSED` after close(), `ERR_BUSY` while a pollAsync() is pending.
   * @throws RangeError / TypeError for a bad timeout or maxevents.
   */
  poll(timeout?: number | null, maxevents?: number): Array<[fd: number, events: number]> {
    const ms = pollTimeout(timeout);
    const max = validateMaxevents(maxevents, MAX_MAXEVENTS);
    if (max > SCRATCH_MAX_EVENTS) return this._native.poll(ms, max);
    // Waiting into a reused buffer and building the pairs here is cheaper than building them
    // through N-API (about 180 ns a pair there): the pairs are the only allocation.
    if (this.#scratch.length < 2 * max) this.#rescratch(max);
    const buf = this.#scratch;
    // The usual case (the same maxevents every time) waits through its own call site, apart
    // from pollInto()'s: with one site for both, a process with one Epoll used through poll()
    // and another through pollInto() showed V8 that site with two bound functions (it deopted
    // pollInto() for "wrong call target"), and pollInto() then cost about 50 ns more a call.
    const n = buf.length === 2 * max ? this.#scratchWait!(ms) : this.#waitInto(buf.subarray(0, 2 * max), ms);
    const out = new Array<[number, number]>(n);
    // Events are a uint32 (EPOLLET is bit 31): >>> 0 undoes the Int32Array's sign.
    for (let i = 0; i < n; i++) out[i] = [buf[2 * i], buf[2 * i + 1] >>> 0];
    return out;
  }

  /**
   * Like poll() but writes (fd, events) pairs into `out` and allocates nothing; waits for at
   * most `out.length / 2` events (more stay ready for the next call). Never writes past the
   * pairs it reports.
   * @param out an Int32Array of even length >= 2.
   * @param timeout as for poll().
   * @returns the number of pairs written.
   * @throws RangeError `ERR_OUT_OF_RANGE` for an odd or empty buffer; as poll() otherwise.
   */
  pollInto(out: Int32Array, timeout?: number | null): number {
    const buf = validateOutBuffer(out);
    return this.#waitInto(buf, pollTimeout(timeout));
  }

  /**
   * One wait into buf. A buffer waited into twice in a row gets a function bound to it, which
   * skips looking the array up on every call; alternating buffers never rebind each time.
   */
  #waitInto(buf: Int32Array, ms: number): number {
    const bound = this.#bound;
    if (bound !== undefined && bound.out === buf) {
      this.#last = undefined;
      return bound.wait(ms);
    }
    if (buf === this.#last) {
      const wait = this._native.boundPollInto?.(2, buf);
      if (wait !== undefined) {
        this.#bound = { out: buf, wait };
        this.#last = undefined;
        return wait(ms);
      }
    }
    this.#last = buf;
    return (this.#pollInto ??= this.#bindPollInto())(buf, ms);
  }

  /** Grows #scratch to maxevents and binds a wait to it. */
  #rescratch(maxevents: number): void {
    const buf = (this.#scratch = new Int32Array(2 * maxevents));
    const n = this._native;
    this.#scratchWait = n.boundPollInto?.(2, buf) ?? ((ms) => n.pollInto(buf, ms, 2));
  }

  #bindPollInto(): (out: Int32Array, timeoutMs: number) => number {
    const n = this._native;
    return n.boundPollInto?.(2) ?? ((out, ms) => n.pollInto(out, ms, 2));
  }

  /**
   * Waits for events without blocking the thread and without a helper thread: Node's own event
   * loop watches the epoll fd, and all events ready at wake-up (up to `maxevents`) come back
   * at once. Timers and I/O keep running meanwhile.
   * @param timeout ms as for poll(); fractions are honoured (libuv counts whole ms, so the
   *   wait is rounded up and the deadline re-checked).
   * @param options `{ maxevents, signal }`.
   * @returns a promise of `[fd, events]` pairs; `[]` at the timeout.
   * @throws (rejects) Error `ERR_CLOSED` if closed before or during the wait, `ERR_BUSY` if a
   *   wait is already pending, `AbortError` (`code` 'ABORT_ERR', `cause` = `signal.reason`)
   *   when the signal aborts; the object stays usable after an abort.
   */
  async pollAsync(
    timeout?: number | null,
    options?: EpollPollAsyncOptions,
  ): Promise<Array<[fd: number, events: number]>> {
    return waitPairsAsync(this._native, timeout, options, MAX_MAXEVENTS);
  }
}
