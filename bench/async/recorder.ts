/**
 * Counts the wake-ups of one measurement and keeps their latencies, in arrays made before the
 * run so that recording allocates nothing but the BigInts hrtime returns.
 */

/** When a measurement starts and stops, in round trips and milliseconds. */
export interface RunLength {
  /** Wake-ups done first and not recorded (JIT, caches, TCP state); at least 1. */
  warmup: number;
  /** The least number of recorded wake-ups. */
  minRounds: number;
  /** The least recorded time, ms; the run stops at whichever of the two comes last. */
  durationMs: number;
  /** The most recorded wake-ups (the arrays' size); stops the run early. */
  maxRounds: number;
}

/** p50 and p99 of a set of latencies, in microseconds. */
export interface Percentiles {
  p50: number;
  p99: number;
}

/** What one wake-up measurement gives. */
export interface RateResult {
  /** Waits that resolved with the active socket readable, and were recorded. */
  wakeUps: number;
  /** Messages read in those wake-ups (several per wake-up when the window is > 1). */
  messages: number;
  seconds: number;
  /** Wake-ups of the active socket per second. */
  wakeUpsPerSecond: number;
  messagesPerSecond: number;
  /** Peer's timestamp just before its write(2) to the moment the wait resolved, µs (newest message). */
  oneWay: Percentiles;
  /** This process's previous ack write to the moment the wait resolved, µs. */
  roundTrip: Percentiles;
}

/** The p-quantile (0..1) of sorted values: nearest rank. */
export function quantile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[rank];
}

function percentiles(ns: Float64Array): Percentiles {
  const sorted = ns.slice().sort();
  return { p50: quantile(sorted, 0.5) / 1000, p99: quantile(sorted, 0.99) / 1000 };
}

/** The message the peer writes: one int64 CLOCK_MONOTONIC timestamp, in native byte order. */
export const MESSAGE_BYTES = 8;

/** Records wake-ups; call wake() when a wait resolves and acked() before writing the ack. */
export class Recorder {
  readonly #length: RunLength;
  readonly #oneWay: Float64Array;
  readonly #roundTrip: Float64Array;
  #seen = 0;
  #recorded = 0;
  #messages = 0;
  #ackAt = 0n;
  #startAt = 0n;
  #lastAt = 0n;
  #done = false;

  constructor(length: RunLength) {
    this.#length = length;
    this.#oneWay = new Float64Array(length.maxRounds);
    this.#roundTrip = new Float64Array(length.maxRounds);
  }

  /** True once the run has enough round trips and time. */
  get done(): boolean {
    return this.#done;
  }

  /**
   * Records one answer.
   * @param at - process.hrtime.bigint() taken as the wait resolved.
   * @param stamp - the peer's timestamp read from the newest message.
   * @param messages - how many messages this wake-up read.
   */
  wake(at: bigint, stamp: bigint, messages: number): void {
    this.#seen++;
    // The clock starts at the last warm-up wake-up (at least one is always done).
    if (this.#seen <= Math.max(1, this.#length.warmup)) {
      this.#startAt = at;
      return;
    }
    const i = this.#recorded++;
    this.#messages += messages;
    this.#oneWay[i] = Number(at - stamp);
    this.#roundTrip[i] = Number(at - this.#ackAt);
    this.#lastAt = at;
    const enough =
      this.#recorded >= this.#length.minRounds && Number(at - this.#startAt) >= this.#length.durationMs * 1e6;
    if (enough || this.#recorded >= this.#length.maxRounds) this.#done = true;
  }

  /** Notes the time of an ack about to be written. */
  acked(): void {
    this.#ackAt = process.hrtime.bigint();
  }

  /** The figures of the recorded round trips. */
  result(): RateResult {
    const n = this.#recorded;
    const seconds = Number(this.#lastAt - this.#startAt) / 1e9;
    return {
      wakeUps: n,
      messages: this.#messages,
      seconds,
      wakeUpsPerSecond: n / seconds,
      messagesPerSecond: this.#messages / seconds,
      oneWay: percentiles(this.#oneWay.subarray(0, n)),
      roundTrip: percentiles(this.#roundTrip.subarray(0, n)),
    };
  }
}
