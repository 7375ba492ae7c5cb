/** Wait counters for the selectors: sums over their native objects, and select()'s array as one. */
import { STAT_SLOTS, statsFromSlots, type NativeStats, type WaitStats } from '../stats';

const COUNTERS = ['calls', 'syscalls', 'fds', 'events', 'bytesIn', 'syscallNs', 'callNs'] as const;

/**
 * Adds counters up.
 * @param all The counters of each native object.
 * @returns A new WaitStats; `timing` is true when it is on for any of them.
 */
export function sumStats(all: WaitStats[]): WaitStats {
  const out: WaitStats = { calls: 0, syscalls: 0, fds: 0, events: 0, bytesIn: 0, syscallNs: 0, callNs: 0, timing: false };
  for (const s of all) {
    for (const name of COUNTERS) out[name] += s[name];
    out.timing ||= s.timing;
  }
  return out;
}

/**
 * A Float64Array of native counters (native/stats.h slot layout), the one a SelectSelector
 * passes to each native select() call, seen through the NativeStats interface.
 */
export class SlotStats implements NativeStats {
  /** The slots native select() updates in place. */
  readonly slots = new Float64Array(STAT_SLOTS);

  stats(): WaitStats {
    return statsFromSlots(this.slots);
  }

  resetStats(): void {
    this.slots.fill(0, 0, STAT_SLOTS - 1);
  }

  setStatsTiming(on: boolean): void {
    this.slots[STAT_SLOTS - 1] = on ? 1 : 0;
  }
}
