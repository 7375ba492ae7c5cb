/**
 * Batch timing: k calls between two clock reads, k calibrated so that one batch lasts about
 * `batchMs`, and one sample per batch (ns per call). The clock's own cost (measured here and
 * printed) is then spread over k calls instead of landing in every one.
 */

const now = process.hrtime.bigint;

/** Samples of one timed closure: ns per call, one per batch, and the k of every batch. */
export interface BatchSamples {
  samples: number[];
  callsPerSample: number;
}

/**
 * The cost of one clock read (process.hrtime.bigint), in ns: the fastest of 15 runs of 10,000
 * back-to-back reads, after as many unrecorded ones (JIT). The fastest, because what the reader
 * needs is what a read costs, and on a shared machine a slower run measures the neighbours.
 */
export function timerCostNs(): number {
  let best = Infinity;
  for (let r = 0; r < 30; r++) {
    const reads = 10_000;
    const t0 = now();
    for (let i = 0; i < reads; i++) now();
    if (r >= 15) best = Math.min(best, Number(now() - t0) / (reads + 1));
  }
  return best;
}

/** k calls of one closure between two clock reads; returns the elapsed ns. */
type BatchLoop = (k: number) => number;

/**
 * A batch loop of its own for `fn`. It is compiled from source for each series (new Function)
 * so that its call of fn() stays monomorphic, as in a program that makes one kind of call: a
 * loop shared by all series would reach every closure through one megamorphic call site, and
 * that cost would land in the JS series only (the C peers loop with a direct call).
 */
function batchLoop(fn: () => void): BatchLoop {
  const make = new Function(
    'fn',
    'now',
    'return function batch(k) { const t0 = now(); for (let i = 0; i < k; i++) fn(); return Number(now() - t0); };',
  ) as (f: () => void, clock: () => bigint) => BatchLoop;
  return make(fn, now);
}

/**
 * The number of calls that fills about `batchMs`: doubles k until one batch takes at least a
 * quarter of it, then scales. At least 1 (a call longer than batchMs is timed alone). Each k
 * is tried twice and the faster try counts, so that one pause (JIT, GC, another process)
 * cannot shrink k.
 */
function calibrate(batch: BatchLoop, batchMs: number): number {
  const target = batchMs * 1e6;
  for (let k = 1; ; k *= 2) {
    const dt = Math.min(batch(k), batch(k));
    if (dt >= target / 4 || k >= 1 << 24) return Math.max(1, Math.round((k * target) / Math.max(dt, 1)));
  }
}

/**
 * Times batches of k calls for about timeMs (at least 3 batches).
 * @returns ns per call of every batch, in the order measured.
 */
function timeBatches(batch: BatchLoop, k: number, timeMs: number): number[] {
  const samples: number[] = [];
  const end = now() + BigInt(Math.round(timeMs * 1e6));
  do samples.push(batch(k) / k);
  while (now() < end || samples.length < 3);
  return samples;
}

/**
 * Times one closure for about timeMs in batches of k calls, k calibrated to batchMs first when
 * not given (0 or undefined).
 */
export function timeSeries(fn: () => void, k: number | undefined, batchMs: number, timeMs: number): BatchSamples {
  const batch = batchLoop(fn);
  const calls = k !== undefined && k > 0 ? k : calibrate(batch, batchMs);
  return { samples: timeBatches(batch, calls, timeMs), callsPerSample: calls };
}
