/**
 * The part of `BaseSelector#selectAsync()` that every backend shares: one pending wait at a
 * time, abort handling, the loop that waits on with the time left when every record was stale,
 * and settling at once on close. A backend only provides one asynchronous wait and its cancel.
 */
import { abortable, type Settle } from '../async/abortable';
import { closedError } from '../errors';
import type { AsyncBackend, SelectorEvent } from './types';

/**
 * The timeout of the next wait of a selector wait of `ms` that began at `start` and woke with
 * only stale records: ms itself when it is forever (negative), else what is left, 0 when the
 * time is up.
 */
export function timeLeft(ms: number, start: number): number {
  if (ms < 0) return ms;
  const left = ms - (performance.now() - start);
  return left > 0 ? left : 0;
}

/** One selector's asynchronous waits. */
export class AsyncSelect<T> {
  readonly #backend: () => AsyncBackend<T>;
  /** Settles the pending wait; undefined when none is pending. */
  #settle: Settle<Array<SelectorEvent<T>>> | undefined;

  /** @param backend Gives the selector's one-wait primitive. */
  constructor(backend: () => AsyncBackend<T>) {
    this.#backend = backend;
  }

  /** Whether a wait is pending. */
  get busy(): boolean {
    return this.#settle !== undefined;
  }

  /**
   * Starts a wait; the caller has checked the arguments, that none is pending and that the
   * signal is not aborted.
   * @param ms Native convention, not 0: negative = forever.
   * @returns The entries; [] on timeout.
   */
  start(ms: number, signal: AbortSignal | undefined): Promise<Array<SelectorEvent<T>>> {
    const backend = this.#backend();
    const ready: Array<SelectorEvent<T>> = [];
    const start = ms > 0 ? performance.now() : 0;
    return abortable<Array<SelectorEvent<T>>>(
      signal,
      () => {
        if (!backend.cancelWait()) return false; // the backend's done comes soon and settles
        this.#settle = undefined;
        return true;
      },
      (settle) => {
        const mine: Settle<Array<SelectorEvent<T>>> = (err, value) => {
          if (this.#settle === mine) this.#settle = undefined;
          settle(err, value);
        };
        this.#settle = mine;
        const once = (left: number): void => {
          try {
            backend.waitAsync(left, ready, (err, timedOut) => {
              if (this.#settle !== mine) return; // settled already, by close() or an abort
              // An abort whose cancel had to wait for the thread settles here, with its AbortError.
              if (err !== null || ready.length > 0 || timedOut || signal?.aborted) return mine(err, ready);
              // Every record was stale (a registration that no longer exists): wait on with the time left.
              const next = timeLeft(ms, start);
              if (next === 0) mine(null, ready);
              else once(next);
            });
          } catch (err) {
            mine(err as Error);
          }
        };
        once(ms);
      },
    );
  }

  /**
   * Settles a pending wait at once, with ERR_CLOSED (or the AbortError of an abort that was
   * asked for first and is still waiting for a thread to stop). The backend's own callback,
   * called later or while the backend is closed, is then ignored.
   */
  closeNow(): void {
    this.#settle?.(closedError('selector'));
  }
}
