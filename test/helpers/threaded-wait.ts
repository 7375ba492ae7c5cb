/**
 * A promise over one wait of the native Waiter (poll(2) or select(2) on the addon's thread),
 * as the selectors' ThreadedWaits drives it, for the tests of the Waiter itself.
 */
import { abortable } from '../../lib/async/abortable';
import { native, type NativeWaiter } from '../../lib/binding';
import { abortError, closedError } from '../../lib/errors';
export { WAIT_POLL, WAIT_SELECT, type WaitKind } from '../../lib/selectors/threaded';

/** A new waiter (its thread starts on the first wait). */
export function createWaiter(): NativeWaiter {
  return new native.Waiter();
}

/**
 * Waits on the waiter's thread for `count` (fd, events) pairs of fds and resolves with the
 * number of (fd, revents) records written into out. An abort rejects with AbortError (and wins
 * over readiness); a close during the wait rejects with ERR_CLOSED; the waiter's own errors
 * (ERR_BUSY, ERR_CLOSED, RangeError, errno errors) reject as they are.
 */
export function threadedWait(
  waiter: NativeWaiter,
  kind: number,
  fds: Int32Array,
  count: number,
  timeoutMs: number,
  out: Int32Array,
  options?: { signal?: AbortSignal; allowLargeFds?: boolean },
): Promise<number> {
  const signal = options?.signal;
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return abortable<number>(
    signal,
    () => (waiter.cancel(), false),
    (settle) =>
      waiter.wait(kind, fds, count, timeoutMs, options?.allowLargeFds === true, out, (err, records) => {
        if (err === null && records < 0 && waiter.closed) settle(closedError('waiter'));
        else settle(err, records);
      }),
  );
}
