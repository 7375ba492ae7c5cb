/**
 * kqueue(2) on raw fds: `Kqueue` (CPython's `select.kqueue`). Changes and results cross into
 * native code as flat Int32Array records (lib/kevent.ts packs them), so a control() call builds
 * no objects natively and reuses its buffers.
 */
import { native, type NativeKqueue, type NativeKqueueConstructor } from './binding';
import { abortable } from './async/abortable';
import { abortError, closedError, invalidArgType, outOfRange, stateError } from './errors';
import { KEV_WORDS, KEvent, packKEvent, unpackKEvent } from './kevent';
import { adopt, adopted, KernelObject } from './kernel';
import { pollTimeout, validateFd, validateInteger, validateOptions, validateSignal } from './validate';

export { KEvent } from './kevent';

/** The most events (or changes) one control() call takes; native/kqueue.h has the same bound. */
const MAX_EVENTS = 2 ** 20;

/**
 * The native Kqueue class.
 * @returns It, where this build has kqueue.
 * @throws Error ERR_NOT_SUPPORTED elsewhere, saying how to build with libkqueue on Linux.
 */
export function nativeKqueue(): NativeKqueueConstructor {
  if (native.Kqueue) return native.Kqueue;
  throw stateError(
    'ERR_NOT_SUPPORTED',
    `kqueue is not supported on ${process.platform}: this build has no kqueue ` +
      '(macOS and the BSDs have it; on Linux, rebuild with IOMUX_KQUEUE_PREFIX=<libkqueue install prefix>)',
  );
}

/** Options of {@link Kqueue.controlAsync}. */
export interface KqueueControlAsyncOptions {
  /** Aborting rejects the wait with an `AbortError` and leaves the object usable. */
  signal?: AbortSignal;
}

const EMPTY = new Int32Array(0);

/**
 * A kqueue (CPython's select.kqueue) that owns its fd: created close-on-exec, closed by close(),
 * `[Symbol.dispose]()` or, if leaked, by the garbage collector.
 *
 * Portability: kqueue is native on macOS and the BSDs. On Linux it exists only in builds linked
 * against libkqueue (IOMUX_KQUEUE_PREFIX), which emulates it over epoll; elsewhere the
 * constructor throws ERR_NOT_SUPPORTED. Read and write readiness on one fd are two events.
 *
 * Its `stats()` count control() calls. A kqueue keeps its interest set in the kernel, so `fds`
 * counts the changes handed to kevent(2) (not the fds watched) and `bytesIn` is
 * `fds * sizeof(struct kevent)` (32 bytes on Linux/libkqueue and macOS, 64 on FreeBSD 12+).
 * An EINTR retry re-sends no changes, so it adds a syscall and no fds.
 */
export class Kqueue extends KernelObject<NativeKqueue> {
  #changes: Int32Array = EMPTY;
  #out: Int32Array = EMPTY;

  /**
   * Makes a new kqueue.
   * @throws Error ERR_NOT_SUPPORTED when this build has no kqueue; a syscall error (EMFILE...).
   */
  constructor() {
    super(adopted<NativeKqueue>() ?? new (nativeKqueue())());
  }

  /**
   * Wraps an existing kqueue fd and takes ownership of it: closing the object closes the fd.
   * @param fd - An open kqueue fd.
   * @returns A Kqueue owning fd.
   * @throws ERR_NOT_SUPPORTED without kqueue; RangeError/TypeError for a bad fd; EBADF when
   *   fd is not open.
   */
  static fromFd(fd: number): Kqueue {
    return adopt(nativeKqueue().fromFd(validateFd(fd)), () => new Kqueue());
  }

  /**
   * Closes the kqueue fd and drops the buffers; calling it again does nothing.
   * @throws A close(2) error (the object is closed all the same).
   */
  override close(): void {
    super.close();
    this.#changes = EMPTY;
    this.#out = EMPTY;
  }

  /**
   * Applies changes, then waits for events (kevent(2), CPython's kqueue.control).
   * @param changes - KEvents to apply first, any iterable, or null for none.
   * @param maxevents - The most events to return (0 to 2 ** 20); 0 only applies the changes.
   * @param timeout - Milliseconds, fractions honoured to the ns; undefined, null or negative
   *   wait forever; 0 does not wait.
   * @returns The events, one KEvent each; a change that failed comes back with KQ_EV_ERROR
   *   and the errno in data when there is room for it.
   * @throws Error ERR_CLOSED after close(); TypeError ERR_INVALID_ARG_TYPE when changes is
   *   not an iterable of KEvent; RangeError ERR_OUT_OF_RANGE for maxevents or timeout; a
   *   kevent syscall error (EBADF, ENOENT...) when a change fails and no event slot is free.
   *
   * Portability: kqueue reports read and write readiness of one fd as two events; on Linux
   * (libkqueue) filters are emulated and some (AIO, NETDEV) are absent.
   */
  control(changes: Iterable<KEvent> | null | undefined, maxevents: number, timeout?: number | null): KEvent[] {
    if (this._native.closed) throw closedError('Kqueue');
    const max = validateInteger(maxevents, 'maxevents', 0, MAX_EVENTS);
    const ms = pollTimeout(timeout);
    const nchanges = this.#packChanges(changes);
    if (this.#out.length < max * KEV_WORDS) this.#out = new Int32Array(max * KEV_WORDS);
    const n = this._native.control(this.#changes, nchanges, this.#out, max, ms);
    const events = new Array<KEvent>(n);
    for (let i = 0; i < n; i++) events[i] = unpackKEvent(this.#out, i * KEV_WORDS);
    return events;
  }

  /**
   * Like {@link Kqueue.control}, without blocking the thread and without a helper thread: Node's
   * own event loop watches the kqueue fd (readable while events are pending), and the events
   * ready at wake-up (up to maxevents) come back at once. Timers and I/O keep running meanwhile.
   * The changes are applied at once, with a zero-timeout look at what is ready: when something
   * is (a failed change included, as a KQ_EV_ERROR event), the promise resolves with it.
   * @param changes - KEvents to apply first, any iterable, or null for none.
   * @param maxevents - The most events to return (0 to 2 ** 20); 0 only applies the changes.
   * @param timeout - As for control(): undefined, null or negative wait forever; 0 does not wait.
   * @param options - `{ signal }`.
   * @returns A promise of the events; `[]` at the timeout.
   * @throws (rejects) Error ERR_CLOSED if closed before or during the wait, ERR_BUSY if a wait
   *   is already pending, AbortError (code 'ABORT_ERR', cause = signal.reason) when the signal
   *   aborts (the object stays usable); ERR_NOT_SUPPORTED on a libkqueue build whose internal
   *   epoll fd cannot be found; as control() for bad arguments and kevent errors.
   *
   * Portability: on Linux (libkqueue) the kqueue fd is not pollable, so Node's loop watches the
   * epoll fd libkqueue waits on internally, found through /proc (native/kqueue_async.cc).
   * Stats count the zero-timeout look as a call of its own when changes are given.
   */
  async controlAsync(
    changes: Iterable<KEvent> | null | undefined,
    maxevents: number,
    timeout?: number | null,
    options?: KqueueControlAsyncOptions,
  ): Promise<KEvent[]> {
    if (this._native.closed) throw closedError('Kqueue');
    const max = validateInteger(maxevents, 'maxevents', 0, MAX_EVENTS);
    const ms = pollTimeout(timeout);
    const signal = validateSignal(validateOptions<KqueueControlAsyncOptions>(options).signal);
    if (signal?.aborted) throw abortError(signal);
    const hasChanges = changes !== null && changes !== undefined;
    if (hasChanges || max === 0 || ms === 0) {
      const now = this.control(changes, max, 0);
      if (now.length > 0 || max === 0 || ms === 0) return now;
    }
    if (this.#out.length < max * KEV_WORDS) this.#out = new Int32Array(max * KEV_WORDS);
    const out = this.#out;
    const kq = this._native;
    return abortable(signal, () => kq.cancelWait(), (settle) =>
      kq.waitAsync(out, max, ms, (err, count = 0) => {
        const events = new Array<KEvent>(count);
        for (let i = 0; i < count; i++) events[i] = unpackKEvent(out, i * KEV_WORDS);
        settle(err, events);
      }),
    );
  }

  /** Packs changes into the reusable buffer, growing it as needed; returns how many. */
  #packChanges(changes: Iterable<KEvent> | null | undefined): number {
    if (changes === null || changes === undefined) return 0;
    if (typeof changes !== 'object' || typeof (changes as Partial<Iterable<KEvent>>)[Symbol.iterator] !== 'function') {
      throw invalidArgType('changes', 'an iterable of KEvent or null', changes);
    }
    let n = 0;
    for (const ev of changes) {
      if (!(ev instanceof KEvent)) throw invalidArgType(`changes[${n}]`, 'an instance of KEvent', ev);
      if (n >= MAX_EVENTS) throw outOfRange('changes.length', `<= ${MAX_EVENTS}`, n + 1);
      if ((n + 1) * KEV_WORDS > this.#changes.length) {
        const grown = new Int32Array(Math.max(this.#changes.length * 2, 8 * KEV_WORDS));
        grown.set(this.#changes);
        this.#changes = grown;
      }
      packKEvent(this.#changes, n * KEV_WORDS, ev);
      n++;
    }
    return n;
  }
}
