/** Wait statistics, for people who study what each syscall costs. */

/**
 * Counters of an object's waits since it was made (or since resetStats()).
 *
 * Counting is always on and costs a few additions per call. The two `*Ns` fields need clock
 * reads around every syscall, so they stay 0 until timing is switched on with
 * `setStatsTiming(true)` (about 40 ns per call).
 */
export interface WaitStats {
  /** Wait calls made from JS (poll(), pollInto(), select(), control(), async waits). */
  calls: number;
  /** Kernel waits made, EINTR retries included. */
  syscalls: number;
  /** fds handed to the kernel, summed over syscalls (the array or set sizes). */
  fds: number;
  /** Ready events returned to the caller. */
  events: number;
  /** Bytes copied into the kernel per wait, summed: fd_set bitmaps, pollfd arrays, changelists. */
  bytesIn: number;
  /** Nanoseconds inside the wait syscalls (0 unless timing is on). */
  syscallNs: number;
  /** Nanoseconds in the whole native call, argument and result conversion included (0 unless timing is on). */
  callNs: number;
  /** Whether the two `*Ns` fields are being measured. */
  timing: boolean;
}

/** The native side of an object that counts its waits. */
export interface NativeStats {
  stats(): WaitStats;
  resetStats(): void;
  setStatsTiming(on: boolean): void;
}

/** Slot layout of a Float64Array of counters (native/stats.h StatSlot), for select(). */
export const STAT_SLOTS = 8;
const NAMES = ['calls', 'syscalls', 'fds', 'events', 'bytesIn', 'syscallNs', 'callNs'] as const;

/** Reads a Float64Array of counters into a new WaitStats object. */
export function statsFromSlots(slots: Float64Array): WaitStats {
  const out = { timing: slots[7] !== 0 } as WaitStats;
  NAMES.forEach((name, i) => {
    out[name] = slots[i];
  });
  return out;
}

/**
 * The three stats methods of every object that counts its waits (Epoll, Poll, Kqueue and the
 * selectors), written once over the object's native counters.
 */
export abstract class Counted {
  /**
   * Counters of this object's waits since it was made or reset (see {@link WaitStats}); they
   * stay readable after close().
   * @returns A new object; the counters go on counting.
   */
  stats(): WaitStats {
    return this._counters().stats();
  }

  /** Sets every counter back to 0 (timing stays as it is). */
  resetStats(): void {
    this._counters().resetStats();
  }

  /**
   * Switches the measuring of `syscallNs` and `callNs` on or off (off by default).
   * @param on true to measure.
   */
  setStatsTiming(on: boolean): void {
    this._counters().setStatsTiming(on === true);
  }

  /** The native counters these methods read. */
  protected abstract _counters(): NativeStats;
}
