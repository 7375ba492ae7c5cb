/**
 * Async waits for poll(2) and select(2), which have no fd of their own for Node's loop to
 * watch: the blocking call runs on the addon's own thread (a NativeWaiter), and abort, close
 * and timeouts end it at once through a wake-up fd. The selectors' selectAsync() for
 * PollSelector and SelectSelector is built on threadedWait().
 */
import { native, type NativeWaiter } from '../binding';
import { constants, EVENT_READ, EVENT_WRITE, FD_SETSIZE } from '../constants';
import { abortError, fdSetSizeError, invalidArgType, outOfRange, stateError } from '../errors';
import { validateInteger, validateOutBuffer, validateSignal } from '../validate';

/** Which syscall a threaded wait runs. */
export const WAIT_POLL = 0;
/** select(2): POLLIN/POLLOUT/POLLPRI pick the read/write/except sets and come back as the same bits. */
export const WAIT_SELECT = 1;
export type WaitKind = typeof WAIT_POLL | typeof WAIT_SELECT;

/** Options of threadedWait(). */
export interface ThreadedWaitOptions {
  /** Aborting rejects the wait with AbortError and ends it at once; the waiter stays usable. */
  signal?: AbortSignal;
  /** select only: allow fds >= FD_SETSIZE (heap bitmaps sized to the highest fd). */
  allowLargeFds?: boolean;
}

/**
 * Makes a waiter: one thread (started on its first wait, then reused) and one wake-up fd.
 * Close it with `close()` when its owner closes.
 * @returns a new NativeWaiter.
 * @throws an errno error (EMFILE, ...) when the wake-up fd cannot be made.
 */
export function createWaiter(): NativeWaiter {
  return new native.Waiter();
}

/**
 * Writes one (fd, POLLIN|POLLOUT) pair per selector key into buf, growing it when needed
 * (selectors keep the returned buffer for the next call, so a steady state allocates nothing).
 * @param keys - the registrations, e.g. a selector's `getMap().values()`.
 * @param size - how many keys there are.
 * @param buf - the buffer of the previous call.
 * @returns buf, or a bigger buffer holding the pairs; the pair count is `size`.
 */
export function fillWaitPairs(keys: Iterable<{ fd: number; events: number }>, size: number, buf: Int32Array): Int32Array {
  let out = buf;
  if (out.length < 2 * size) out = new Int32Array(Math.max(2 * size, 2 * out.length));
  let at = 0;
  for (const key of keys) {
    out[at++] = key.fd;
    out[at++] = (key.events & EVENT_READ ? constants.POLLIN : 0) | (key.events & EVENT_WRITE ? constants.POLLOUT : 0);
  }
  return out;
}

function validateRecords(fds: unknown, count: unknown, kind: WaitKind, large: boolean): Int32Array {
  if (!(fds instanceof Int32Array)) throw invalidArgType('fds', 'an instance of Int32Array', fds);
  validateInteger(count, 'count', 0, Math.floor(fds.length / 2));
  if (kind === WAIT_SELECT && !large) {
    for (let i = 0; i < (count as number); i++) {
      if (fds[2 * i] >= FD_SETSIZE) throw fdSetSizeError(fds[2 * i], FD_SETSIZE);
    }
  }
  return fds;
}

/**
 * Waits on a thread for `count` (fd, events) pairs of `fds` (events as POLLIN/POLLOUT/POLLPRI)
 * and writes (fd, revents) records of the ready fds into `out`.
 * @param waiter - the waiter to run on (one wait at a time).
 * @param kind - WAIT_POLL or WAIT_SELECT.
 * @param fds - (fd, events) pairs; copied before the wait starts, so it may be reused at once.
 * @param count - how many pairs of fds to wait on.
 * @param timeoutMs - native convention: milliseconds, fractions honoured, negative = forever.
 * @param out - receives (fd, revents) records, at most out.length / 2; more ready fds are
 *   reported by the next wait (level-triggered).
 * @param options - signal, allowLargeFds.
 * @returns the number of records written (0 on timeout); -1 only when someone called
 *   waiter.cancel() directly without aborting a signal.
 * @throws (rejects) AbortError (code ABORT_ERR, cause = signal.reason) when the signal aborts
 *   before or during the wait; ERR_CLOSED when the waiter is closed before or during the wait;
 *   ERR_BUSY when a wait on this waiter is pending; ERR_FD_SETSIZE for select on an fd >=
 *   FD_SETSIZE without allowLargeFds; TypeError/RangeError for bad arguments; the syscall's
 *   errno error (EBADF for select on a closed fd, EINVAL, ...).
 *
 * Portability: poll reports a closed fd as POLLNVAL, select fails with EBADF. Linux waits with
 * ns precision (ppoll, pselect); elsewhere poll() rounds the timeout up to whole ms.
 */
export function threadedWait(
  waiter: NativeWaiter,
  kind: WaitKind,
  fds: Int32Array,
  count: number,
  timeoutMs: number,
  out: Int32Array,
  options?: ThreadedWaitOptions,
): Promise<number> {
  try {
    if (kind !== WAIT_POLL && kind !== WAIT_SELECT) throw outOfRange('kind', 'WAIT_POLL or WAIT_SELECT', kind);
    const large = options?.allowLargeFds === true;
    validateRecords(fds, count, kind, large);
    if (typeof timeoutMs !== 'number') throw invalidArgType('timeoutMs', 'of type number', timeoutMs);
    validateOutBuffer(out);
    const signal = validateSignal(options?.signal);
    if (waiter.closed) throw stateError('ERR_CLOSED', 'the waiter is closed');
    if (waiter.pending) throw stateError('ERR_BUSY', 'a wait is already in progress on this waiter');
    if (signal?.aborted) throw abortError(signal);
    return start(waiter, kind, fds, count, timeoutMs, large, out, signal);
  } catch (err) {
    return Promise.reject(err);
  }
}

function start(
  waiter: NativeWaiter,
  kind: WaitKind,
  fds: Int32Array,
  count: number,
  timeoutMs: number,
  large: boolean,
  out: Int32Array,
  signal: AbortSignal | undefined,
): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const onAbort = (): void => {
      waiter.cancel();
    };
    waiter.wait(kind, fds, count, timeoutMs, large, out, (err, records) => {
      signal?.removeEventListener('abort', onAbort);
      // An abort that raced with readiness still wins: the caller asked for it to stop.
      if (signal?.aborted) reject(abortError(signal));
      else if (err) reject(err);
      else if (records < 0 && waiter.closed) reject(stateError('ERR_CLOSED', 'the waiter was closed during the wait'));
      else resolve(records);
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
