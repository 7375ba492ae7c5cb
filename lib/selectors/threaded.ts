/**
 * The asynchronous wait of the selectors that have no fd for Node's loop to watch (poll and
 * select): the blocking call runs on the addon's own thread (lib/async/threaded-wait.ts), and
 * its answer is taken as a hint only. The registrations may have changed while the thread
 * waited, so the entries come from one zero-timeout wait on the current set, on the JS thread.
 */
import type { NativeWaiter } from '../binding';
import { createWaiter, fillWaitPairs, type WaitKind } from '../async/threaded-wait';
import type { WaitStats } from '../stats';
import type { AsyncWaitDone } from './base';

/** Makes the waiter of a selector (tests pass a fake). */
export type WaiterFactory = () => NativeWaiter;

const NO_STATS: WaitStats = { calls: 0, syscalls: 0, fds: 0, events: 0, bytesIn: 0, syscallNs: 0, callNs: 0, timing: false };

/** One selector's threaded waits: a waiter made on the first wait, and reused buffers. */
export class ThreadedWaits {
  readonly #kind: WaitKind;
  readonly #factory: WaiterFactory;
  #waiter: NativeWaiter | undefined;
  #timing = false;
  /** (fd, events) pairs of the current registrations, refilled for each wait. */
  #pairs: Int32Array = new Int32Array(16);
  /**
   * The thread's records. Only their count is used (see the file comment), but the buffer holds
   * them all so that the waiter's `events` counter tells how many fds the thread saw ready.
   */
  #records: Int32Array = new Int32Array(16);

  /**
   * @param kind WAIT_POLL or WAIT_SELECT.
   * @param factory Makes the waiter; its wake-up fd and thread cost nothing until the first wait.
   */
  constructor(kind: WaitKind, factory: WaiterFactory = createWaiter) {
    this.#kind = kind;
    this.#factory = factory;
  }

  /**
   * Starts one wait on the thread; when something is ready, runs pollNow (a zero-timeout wait
   * of the selector that pushes the entries) and reports through done.
   * @param keys The current registrations, and how many there are.
   * @param timeoutMs Native convention: negative = forever.
   * @param large select only: fds may be >= FD_SETSIZE.
   * @param pollNow The selector's zero-timeout wait. A syscall error of the thread is not
   *   reported as is: pollNow meets it again if it still applies (select: EBADF for a fd that
   *   was closed while still registered), and not if the fd was unregistered meanwhile.
   * @param done Called once, unless cancel() returned true.
   */
  wait(
    keys: Iterable<{ fd: number; events: number }>,
    size: number,
    timeoutMs: number,
    large: boolean,
    pollNow: () => void,
    done: AsyncWaitDone,
  ): void {
    const waiter = (this.#waiter ??= this.#make());
    this.#pairs = fillWaitPairs(keys, size, this.#pairs);
    if (this.#records.length < this.#pairs.length) this.#records = new Int32Array(this.#pairs.length);
    waiter.wait(this.#kind, this.#pairs, size, timeoutMs, large, this.#records, (err, records) => {
      if (err === null && records === 0) return done(null, true);
      if (records === -1) return done(null, false); // cancelled: the selector knows why
      try {
        pollNow();
        done(null, false);
      } catch (e) {
        done(e as Error, false);
      }
    });
  }

  /** @returns false when a wait was pending (its done comes soon), true when none was. */
  cancel(): boolean {
    return this.#waiter?.cancel() !== true;
  }

  /** Closes the waiter: joins its thread and closes its wake-up fd. Idempotent. */
  close(): void {
    this.#waiter?.close();
  }

  /** The waiter's counters (all 0 before the first wait). */
  stats(): WaitStats {
    return this.#waiter?.stats() ?? { ...NO_STATS, timing: this.#timing };
  }

  resetStats(): void {
    this.#waiter?.resetStats();
  }

  setStatsTiming(on: boolean): void {
    this.#timing = on;
    this.#waiter?.setStatsTiming(on);
  }

  #make(): NativeWaiter {
    const waiter = this.#factory();
    waiter.setStatsTiming(this.#timing);
    return waiter;
  }
}
