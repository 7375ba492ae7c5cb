/**
 * The one abort wiring of every asynchronous wait (Epoll#pollAsync, Kqueue#controlAsync,
 * selectAsync()): a promise that an AbortSignal ends, over a native wait that can be cancelled.
 */
import { abortError } from '../errors';

/** Settles an abortable wait: with an error, or with its value. Later calls are ignored. */
export type Settle<R> = (err: Error | null | undefined, value?: R) => void;

/**
 * Runs one wait as a promise. On abort, `cancel()` is asked to end the wait: when it did
 * (true), the promise rejects at once with an AbortError; when the wait's own settle is still
 * to come (a thread has to wake up first), that settle rejects with the AbortError instead, so
 * an abort that races with readiness still wins.
 * @param signal - The caller's signal, already checked not to be aborted.
 * @param cancel - Ends the wait; true when its settle will not be called.
 * @param start - Starts the wait, which calls settle once it ends.
 * @returns The wait's value.
 */
export function abortable<R>(signal: AbortSignal | undefined, cancel: () => boolean, start: (settle: Settle<R>) => void): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    let done = false;
    let aborted: Error | undefined;
    const onAbort = (): void => {
      if (done || aborted !== undefined) return;
      aborted = abortError(signal as AbortSignal);
      if (cancel()) settle(aborted);
    };
    const settle: Settle<R> = (err, value) => {
      if (done) return;
      done = true;
      signal?.removeEventListener('abort', onAbort);
      const failure = aborted ?? err;
      if (failure !== null && failure !== undefined) reject(failure);
      else resolve(value as R);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      start(settle);
    } catch (err) {
      settle(err as Error);
    }
  });
}
