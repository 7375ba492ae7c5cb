/**
 * The part of `BaseSelector#selectAsync()` that every backend shares: one pending wait at a
 * time, abort handling, the loop that waits on with the time left when every record was stale,
 * and settling at once on close. A backend only provides one asynchronous wait and its cancel.
 */
import { abortError, stateError } from '../errors';
import type { SelectorEvent } from './base';

/**
 * How a backend's one asynchronous wait ends: `timedOut` true when the time ran out with
 * nothing ready; false when something woke it (entries pushed, or every record was stale).
 */
export type AsyncWaitDone = (err: Error | null, timedOut: boolean) => void;

/** The backend's side (BaseSelector's `_waitAsync` and `_cancelWait`). */
export interface AsyncBackend<T> {
  waitAsync(timeoutMs: number, ready: Array<SelectorEvent<T>>, done: AsyncWaitDone): void;
  /** @returns true when the wait ended now (done will not be called), false when done comes later. */
  cancelWait(): boolean;
}

/** The state of a pending selectAsync(). */
interface PendingSelect<T> {
  readonly ready: Array<SelectorEvent<T>>;
  /** The whole timeout (native convention: negative = forever) and when the wait began. */
  readonly ms: number;
  readonly start: number;
  readonly signal: AbortSignal | undefined;
  readonly resolve: (ready: Array<SelectorEvent<T>>) => void;
  readonly reject: (err: unknown) => void;
  readonly onAbort: () => void;
  /** Set on an abort whose backend wait ends a little later: the error to settle with then. */
  ending?: Error;
}

/** One selector's asynchronous waits. */
export class AsyncSelect<T> {
  readonly #backend: AsyncBackend<T>;
  #pending: PendingSelect<T> | undefined;

  /** @param backend The selector's one-wait primitive. */
  constructor(backend: AsyncBackend<T>) {
    this.#backend = backend;
  }

  /** Whether a wait is pending. */
  get busy(): boolean {
    return this.#pending !== undefined;
  }

  /**
   * Starts a wait; the caller has checked the arguments, that none is pending and that the
   * signal is not aborted.
   * @param ms Native convention, not 0: negative = forever.
   * @returns The entries; [] on timeout.
   */
  start(ms: number, signal: AbortSignal | undefined): Promise<Array<SelectorEvent<T>>> {
    return new Promise((resolve, reject) => {
      const start = ms > 0 ? performance.now() : 0;
      const wait: PendingSelect<T> = { ready: [], ms, start, signal, resolve, reject, onAbort: () => this.#abort(wait) };
      this.#pending = wait;
      signal?.addEventListener('abort', wait.onAbort, { once: true });
      this.#waitOnce(wait, ms);
    });
  }

  /**
   * Settles a pending wait at once, with ERR_CLOSED (or the AbortError of an abort that was
   * asked for first and is still waiting for a thread to stop). The backend's own callback,
   * called later or while the backend is closed, is then ignored.
   */
  closeNow(): void {
    const wait = this.#pending;
    if (wait !== undefined) {
      this.#settle(wait, wait.ending ?? stateError('ERR_CLOSED', 'the selector was closed during the wait'));
    }
  }

  #waitOnce(wait: PendingSelect<T>, timeoutMs: number): void {
    try {
      this.#backend.waitAsync(timeoutMs, wait.ready, (err, timedOut) => this.#waited(wait, err, timedOut));
    } catch (err) {
      this.#settle(wait, err as Error);
    }
  }

  #waited(wait: PendingSelect<T>, err: Error | null, timedOut: boolean): void {
    if (this.#pending !== wait) return; // settled already, by close()
    if (wait.ending !== undefined || err !== null) return this.#settle(wait, wait.ending ?? err);
    if (wait.ready.length > 0 || timedOut) return this.#settle(wait, null);
    // Every record was stale (a registration that no longer exists): wait on with the time left.
    let left = wait.ms;
    if (wait.ms > 0) {
      left = wait.ms - (performance.now() - wait.start);
      if (left <= 0) return this.#settle(wait, null);
    }
    this.#waitOnce(wait, left);
  }

  #abort(wait: PendingSelect<T>): void {
    if (this.#pending !== wait || wait.ending !== undefined) return;
    const err = abortError(wait.signal as AbortSignal);
    if (this.#backend.cancelWait()) this.#settle(wait, err);
    else wait.ending = err; // an abort that races with readiness still wins
  }

  #settle(wait: PendingSelect<T>, err: Error | null): void {
    this.#pending = undefined;
    wait.signal?.removeEventListener('abort', wait.onAbort);
    if (err !== null) wait.reject(err);
    else wait.resolve(wait.ready);
  }
}
