/** Wait counters for the selectors: sums over their native objects, and select()'s array as one. */
import { STAT_SLOTS, statsFromSlots, type NativeStats, type WaitStats } from '../stats';

const COUNTERS = ['calls', 'syscalls', 'fds', 'events', 'bytesIn', 'syscallNs', 'callNs'] as const;

/** Several native objects' counters seen as one: stats() sums them, the others reach each. */
export class StatsSum implements NativeStats {
  readonly #sources: NativeStats[];

  /** @param sources The counters to sum. */
  constructor(sources: NativeStats[]) {
    this.#sources = sources;
  }

  /** @returns A new WaitStats; `timing` is true when it is on for any source. */
  stats(): WaitStats {
    const out: WaitStats = { calls: 0, syscalls: 0, fds: 0, events: 0, bytesIn: 0, syscallNs: 0, callNs: 0, timing: false };
    for (const source of this.#sources) {
      const s = source.stats();
      for (const name of COUNTERS) out[name] += s[name];
      out.timing ||= s.timing;
    }
    return out;
  }

  resetStats(): void {
    for (const s of this.#sources) s.resetStats();
  }

  setStatsTiming(on: boolean): void {
    for (const s of this.#sources) s.setStatsTiming(on);
  }
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
