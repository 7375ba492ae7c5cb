/**
 * The record the benchmark produces for every measured cell, and the statistics computed from
 * a cell's samples. Everything in bench/report/ reads these records and nothing else.
 */

/** One measured cell: one series (backend + API, or a peer) at one size, activity and timeout. */
export interface Cell {
  /** The workload: 'idle-scaling', 'activity-sweep', 'register-churn' or 'register-batch' (figures per pair). */
  scenario: string;
  /** 'select' | 'poll' | 'epoll' | 'kqueue' | 'io_uring' for iomux; 'c-epoll', 'c-io_uring', 'cpython-poll', ... for peers. */
  backend: string;
  /** 'raw' (poll()/select()), 'pollInto' or 'selectors'; churn uses the same names. */
  api: string;
  /** Watched sockets that are idle plus active (idle-scaling: N idle + `active`). */
  n: number;
  /** How many of the watched sockets are readable (the highest fds, last in every array). */
  active: number;
  /** The wait's timeout in ms (0, or 1000 that returns at once because a socket is ready). */
  timeoutMs: number;
  medianNs: number;
  p25Ns: number;
  p75Ns: number;
  minNs: number;
  maxNs: number;
  /** How many samples the figures come from (all rounds together): one sample is one batch. */
  samples: number;
  /** Calls per sample: one sample times k calls between two clock reads and is their mean. */
  callsPerSample: number;
  /**
   * The fastest batch of each round (ns per call), in round order: every series of a fixture
   * runs once per round, in turn; the p25-p75 of two series' per-round ratios shows how much the
   * load moved their ratio (see ratioSpread). Absent from files written before it existed.
   */
  roundBestNs?: number[];
}

/** Summary statistics of one cell's samples (ns). */
export interface Stats {
  medianNs: number;
  p25Ns: number;
  p75Ns: number;
  minNs: number;
  maxNs: number;
  samples: number;
}

/** Quantile q of ascending-sorted values, linearly interpolated (the R-7 / numpy default). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Statistics of samples in ns, merged from any number of rounds. */
export function summarize(rounds: ArrayLike<number>[]): Stats {
  let total = 0;
  for (const r of rounds) total += r.length;
  const all = new Float64Array(total);
  let at = 0;
  for (const r of rounds) {
    all.set(r as ArrayLike<number>, at);
    at += r.length;
  }
  all.sort();
  return {
    medianNs: quantile(all, 0.5),
    p25Ns: quantile(all, 0.25),
    p75Ns: quantile(all, 0.75),
    minNs: total ? all[0] : NaN,
    maxNs: total ? all[total - 1] : NaN,
    samples: total,
  };
}

/** The per-round ratios of a over b (fastest batch over fastest batch), ascending; empty unless both have the same rounds. */
function roundRatios(a: Cell, b: Cell): number[] {
  const ra = a.roundBestNs;
  const rb = b.roundBestNs;
  if (!ra || !rb || ra.length === 0 || ra.length !== rb.length) return [];
  return ra.map((x, i) => x / rb[i]).sort((x, y) => x - y);
}

/**
 * Batches of fewer calls than this make their fastest one a single call's luck (see ratio).
 */
export const MIN_CALLS_FOR_FASTEST = 16;

/**
 * a's time per call over b's: a's fastest batch over b's. The two series ran in turn, round by
 * round, so each had the same chances of a quiet moment, and a batch that the machine slowed
 * (a preemption, a busy neighbour on the other hyperthread) is never the fastest: on the shared
 * development VM, Epoll#pollInto() over C gave 1.55-1.66x this way in nine of ten runs of
 * bench/check-ratios.ts, where the median of the per-round ratios ranged over 1.28-1.87x.
 *
 * Where a batch holds fewer than MIN_CALLS_FOR_FASTEST calls (poll and select over thousands
 * of fds: one call is longer than a batch), the fastest batch is one call, and one call's time
 * varies threefold there with what the caches hold: C-mt's select over 19,000 fds took 3.1 to
 * 17.4 ms a call in one run, and the fastest of its 46 calls made iomux's select 2.68x it
 * where the median of the per-round ratios gave 1.24x. There the ratio is that median: each
 * round's fastest batch of a over b's, a pair measured a few ms apart.
 * NaN without b.
 */
export function ratio(a: Cell, b: Cell | undefined): number {
  if (!b) return NaN;
  if (Math.min(a.callsPerSample, b.callsPerSample) >= MIN_CALLS_FOR_FASTEST) return a.minNs / b.minNs;
  const r = roundRatios(a, b);
  return r.length ? quantile(r, 0.5) : a.minNs / b.minNs;
}

/**
 * The p25 and p75 of the per-round ratios (each round's fastest batch of a over b's): how far
 * the load of the machine moved the ratio during the run. NaN where there are no rounds.
 */
export function ratioSpread(a: Cell, b: Cell | undefined): [number, number] {
  const r = b ? roundRatios(a, b) : [];
  return r.length ? [quantile(r, 0.25), quantile(r, 0.75)] : [NaN, NaN];
}

/** Least-squares slope of y over x (ns per idle fd when x is N and y the median). */
export function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return NaN;
  let sx = 0;
  let sy = 0;
  for (const [x, y] of points) {
    sx += x;
    sy += y;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

/** A series is one line of the plot: a backend through one API, or a peer. */
export function seriesOf(cell: Pick<Cell, 'backend' | 'api'>): string {
  const isPeer = familyOf(cell.backend) !== 'iomux';
  const names: Record<string, string> = {
    raw: isPeer ? '' : cell.backend === 'select' ? ' select()' : cell.backend === 'io_uring' ? ' wait()' : ' poll()',
    pollInto: cell.backend === 'io_uring' ? ' waitInto()' : ' pollInto()',
    selectors: ' selectors',
  };
  return `${cell.backend}${names[cell.api] ?? ` ${cell.api}`}`;
}

/**
 * The families of series: iomux, the C floor, the C floor with one more thread, the thinnest
 * Node-API calls (napi-*), CPython.
 */
export type Family = 'iomux' | 'C' | 'C+thread' | 'N-API' | 'CPython';

/** Which family a series belongs to. */
export function familyOf(backend: string): Family {
  if (backend.startsWith('napi-')) return 'N-API';
  if (backend.startsWith('c-mt-')) return 'C+thread';
  if (backend.startsWith('c-')) return 'C';
  if (backend.startsWith('cpython-')) return 'CPython';
  return 'iomux';
}

/** A cell whose middle half spreads wide (p75 > 1.5 x p25): the machine was busy meanwhile. */
export function scattered(c: Cell | undefined): boolean {
  return c !== undefined && c.p75Ns > 1.5 * c.p25Ns;
}

/** Formats ns for a table: 812 ns, 12.3 µs, 1.45 ms. */
export function fmtNs(ns: number): string {
  if (!Number.isFinite(ns)) return '-';
  if (ns < 1000) return `${ns.toFixed(0)} ns`;
  if (ns < 1e6) return `${(ns / 1000).toFixed(ns < 1e4 ? 2 : 1)} µs`;
  return `${(ns / 1e6).toFixed(2)} ms`;
}

/** Formats a ratio as 1.23x. */
export function fmtRatio(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)}x` : '-';
}
