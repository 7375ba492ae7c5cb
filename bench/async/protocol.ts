/** What bench/async/index.ts asks of a run-one.ts child, and what the child answers. */
import type { Load } from './modes';
import type { RateResult, RunLength } from './recorder';

/** One measurement: a mode, a number of idle sockets, a load and how long. */
export interface RunConfig {
  mode: string;
  size: number;
  /** The traffic: a strict ping-pong, or a window kept readable. */
  load: Load;
  length: RunLength;
  /** Command prefix for the peer, e.g. ['taskset', '-c', '1']. */
  peerPrefix: string[];
}

/** What the child answers: figures, or why the mode did not run. */
export type RunOutcome = { ok: true; result: RateResult } | { ok: false; skipped: string };

/** The marker of the answer line on the child's stdout. */
export const RESULT_MARK = 'RESULT ';
