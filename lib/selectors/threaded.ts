/**
 * The asynchronous wait of the selectors that have no fd for Node's loop to watch (poll and
 * select): the blocking call runs on the addon's own thread (a NativeWaiter). When
 * the registrations did not change while the thread waited, its (fd, revents) records are the
 * answer; when they did, the records may speak of files that are gone or numbers that now name
 * other files, so they are taken as a hint only and the entries come from one zero-timeout wait
 * on the current set, on the JS thread.
 */
import { native, type NativeWaiter } from '../binding';
import type { NativeStats, WaitStats } from '../stats';
import { toKernelFlags } from './flags';
import { seam } from './seams';
import type { AsyncBackend, AsyncWaitDone, SelectorEvent } from './types';

/** The waiter runs poll(2) (kind 0) or select(2) (kind 1). */
export const WAIT_POLL = 0;
/** select(2): POLLIN/POLLOUT pick the read/write sets and come back as the same bits. */
export const WAIT_SELECT = 1;
export type WaitKind = typeof WAIT_POLL | typeof WAIT_SELECT;

const { POLLIN, POLLOUT } = native.constants;

/** What a selector gives its ThreadedWaits, once, at construction. */
export interface ThreadedHooks<T> {
  /** The current registrations, how many there are, and whether select needs large fd sets. */
  keys(): Iterable<{ fd: number; events: number }>;
  size(): number;
  large(): boolean;
  /** Changes whenever the registrations change (BaseSelector#_generation). */
  generation(): number;
  /** Turns n (fd, revents) records (POLLIN/POLLOUT/... bits) into entries pushed onto ready. */
  collect(records: Int32Array, n: number, ready: Array<SelectorEvent<T>>): void;
  /** One zero-timeout wait on the current registrations, pushing entries onto ready. */
  pollNow(ready: Array<SelectorEvent<T>>): void;
}

const NO_STATS: WaitStats = { calls: 0, syscalls: 0, fds: 0, events: 0, bytesIn: 0, syscallNs: 0, callNs: 0, timing: false };

/** One selector's threaded waits: a waiter made on the first wait, and reused buffers. */
export class ThreadedWaits<T> implements AsyncBackend<T>, NativeStats {
  readonly #kind: WaitKind;
  readonly #hooks: ThreadedHooks<T>;
  /** Makes the waiter: its wake-up fd and thread cost nothing until the first wait. */
  readonly #factory = seam('waiter', () => new native.Waiter());
  #waiter: NativeWaiter | undefined;
  #timing = false;
  /** (fd, events) pairs of the current registrations, refilled for each wait. */
  #pairs: Int32Array = new Int32Array(16);
  /** The thread's (fd, revents) records: room for every registered fd. */
  #records: Int32Array = new Int32Array(16);

  /**
   * @param kind WAIT_POLL or WAIT_SELECT.
   * @param hooks The selector's side.
   */
  constructor(kind: WaitKind, hooks: ThreadedHooks<T>) {
    this.#kind = kind;
    this.#hooks = hooks;
  }

  /**
   * Starts one wait on the thread (AsyncBackend#waitAsync).
   * @param timeoutMs Native convention: negative = forever.
   * @param ready Receives the entries.
   * @param done Called once, unless cancelWait() returned true. A syscall error of the thread is
   *   not reported as is: the zero-timeout wait meets it again if it still applies (select:
   *   EBADF for a fd closed while registered), and not if the fd was unregistered meanwhile.
   */
  waitAsync(timeoutMs: number, ready: Array<SelectorEvent<T>>, done: AsyncWaitDone): void {
    const hooks = this.#hooks;
    const waiter = (this.#waiter ??= this.#make());
    const size = hooks.size();
    this.#fillPairs(size);
    if (this.#records.length < this.#pairs.length) this.#records = new Int32Array(this.#pairs.length);
    const records = this.#records;
    const generation = hooks.generation();
    waiter.wait(this.#kind, this.#pairs, size, timeoutMs, hooks.large(), records, (err, n) => {
      if (err === null && n === 0) return done(null, true);
      // Cancelled: an abort (the selector knows) or a restart (it waits on with the time left).
      if (n === -1) return done(null, false);
      try {
        if (err === null && hooks.generation() === generation) hooks.collect(records, n, ready);
        else hooks.pollNow(ready);
        done(null, false);
      } catch (e) {
        done(e as Error, false);
      }
    });
  }

  /**
   * Ends a pending wait early so that the selector waits again, on its current registrations,
   * with the time left (done is called as for a wake-up with nothing ready).
   */
  changed(): void {
    this.#waiter?.cancel();
  }

  /** @returns false when a wait was pending (its done comes soon), true when none was. */
  cancelWait(): boolean {
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

  /** Writes one (fd, POLLIN|POLLOUT) pair per key into #pairs, grown when needed. */
  #fillPairs(size: number): void {
    if (this.#pairs.length < 2 * size) this.#pairs = new Int32Array(Math.max(2 * size, 2 * this.#pairs.length));
    const pairs = this.#pairs;
    let at = 0;
    for (const key of this.#hooks.keys()) {
      pairs[at++] = key.fd;
      pairs[at++] = toKernelFlags(key.events, POLLIN, POLLOUT);
    }
  }

  #make(): NativeWaiter {
    const waiter = this.#factory();
    waiter.setStatsTiming(this.#timing);
    return waiter;
  }
}
