/**
 * Runs scenarios x backends x APIs, and the peers, on one fixture at a time: every series of a
 * fixture is measured in rotating order over several rounds, and each cell's samples from all
 * rounds are merged; each round's fastest batch is kept too, for ratios taken round by round.
 * Every series, iomux and peers alike, is timed in batches (bench/timing.ts): k calls between
 * two clock reads, k calibrated once per cell in the unrecorded warm-up pass.
 */
import type { Api, BenchBackend } from './backends';
import type { Fixture } from './fixtures';
import type { PeerFamily, PeerServer } from './peers/run';
import { type Cell, summarize } from './report/cells';
import type { PeerMode, Scenario } from './scenarios/scenario';
import { type BatchSamples, timeSeries } from './timing';

/** One series on one fixture: it measures every timeout of its scenario in one go. */
export interface Job {
  scenario: string;
  backend: string;
  api: Api;
  n: number;
  active: number;
  timeouts: readonly number[];
  /**
   * Measures each of `only` (default: every timeout) for about timeMs; returns ns-per-call
   * samples (one per batch) per timeout. The first run of a timeout calibrates its k; later
   * runs keep it.
   */
  run(timeMs: number, only?: readonly number[]): Map<number, BatchSamples> | Promise<Map<number, BatchSamples>>;
}

/** Options of one measuring pass. */
export interface RunOptions {
  rounds: number;
  /** Measuring time per cell, over all rounds together. */
  timePerCellMs: number;
  /** Called after each job of each round. */
  onStep?(job: Job, round: number): void;
  /** Called when a series fails (wrong fds ready, a peer that crashed); the run goes on. */
  onError?(job: Job, err: unknown): void;
}

/**
 * The iomux jobs of a scenario on a fixture: every backend x API the scenario measures, each
 * served by its backend's own process (bench/series-child.ts), as the peers are.
 * @param servers backend name -> the process that serves its series on this fixture.
 */
export function iomuxJobs(
  scenario: Scenario,
  backends: Iterable<BenchBackend>,
  apis: ReadonlySet<Api>,
  servers: ReadonlyMap<string, PeerServer>,
  fixture: Fixture,
  n: number,
  batchMs: number,
): Job[] {
  const jobs: Job[] = [];
  for (const backend of backends) {
    const server = servers.get(backend.name);
    if (!server) continue;
    for (const api of scenario.apis(backend)) {
      if (!apis.has(api)) continue;
      jobs.push({
        scenario: scenario.name,
        backend: backend.name,
        api,
        n,
        active: fixture.activeCount,
        timeouts: scenario.timeouts,
        run: servedRunner(server, `${scenario.name}:${backend.name}:${api}`, scenario.timeouts, fixture.activeCount, batchMs),
      });
    }
  }
  return jobs;
}

/**
 * The run() of a series served by another process: the first request of a timeout lets the
 * server calibrate k (0), its answer fixes k for the later rounds.
 */
function servedRunner(server: PeerServer, mode: string, timeouts: readonly number[], active: number, batchMs: number): Job['run'] {
  const calls = new Map<number, number>();
  return async (timeMs, only = timeouts) => {
    const ks = only.map((t) => calls.get(t) ?? 0);
    const res = await server.request(mode, active, [...only], timeMs, ks, batchMs);
    for (const r of res) calls.set(r.timeoutMs, r.calls);
    return new Map(res.map((r) => [r.timeoutMs, { samples: r.samples, callsPerSample: r.calls }]));
  };
}

/**
 * The run() of an in-process series: sets the closure up per timeout, calibrates k on the
 * first run, times batches.
 */
export function batchRunner(
  timeouts: readonly number[],
  batchMs: number,
  setup: (timeoutMs: number) => { fn(): void; close(): void } | null,
): Job['run'] {
  const ks = new Map<number, number>();
  return (timeMs, only = timeouts) => {
    const out = new Map<number, BatchSamples>();
    for (const timeoutMs of only) {
      const timed = setup(timeoutMs);
      if (!timed) continue;
      try {
        const got = timeSeries(timed.fn, ks.get(timeoutMs), batchMs, timeMs);
        ks.set(timeoutMs, got.callsPerSample);
        out.set(timeoutMs, got);
      } finally {
        timed.close();
      }
    }
    return out;
  };
}

/** The peer jobs of a scenario on a fixture, served by one peer process per family. */
export function peerJobs(
  scenario: Scenario,
  peers: ReadonlyMap<PeerFamily, PeerServer>,
  fixture: Fixture,
  n: number,
  fdSetSize: number,
  batchMs: number,
): Job[] {
  const maxFd = fixture.fds[fixture.fds.length - 1];
  return scenario
    .peerModes(maxFd, fdSetSize)
    .filter((m: PeerMode) => peers.has(m.family))
    .map((m) => ({
      scenario: scenario.name,
      backend: m.backend,
      api: m.api,
      n,
      active: fixture.activeCount,
      timeouts: scenario.timeouts,
      run: servedRunner(peers.get(m.family)!, m.mode, scenario.timeouts, fixture.activeCount, batchMs),
    }));
}

/** The kernel mechanism a series calls: 'epoll' for epoll, napi-epoll, c-epoll, c-mt-epoll, cpython-epoll. */
function mechanismOf(backend: string): string {
  return backend.replace(/^(napi|c-mt|c|cpython)-/, '');
}

/**
 * The jobs with those of one mechanism next to each other (iomux, then its floors and peers),
 * in order of first appearance: in every round a series then runs within a few ms of the
 * series it is divided by, and the per-round ratio compares them under the same load.
 */
export function groupByMechanism(jobs: Job[]): Job[] {
  const order = [...new Set(jobs.map((j) => mechanismOf(j.backend)))];
  return order.flatMap((m) => jobs.filter((j) => mechanismOf(j.backend) === m));
}

/** The fastest batch of one round (ns per call). */
function fastest(xs: ArrayLike<number>): number {
  let best = Infinity;
  for (let i = 0; i < xs.length; i++) best = Math.min(best, xs[i]);
  return best;
}

/**
 * Runs jobs over rounds in rotating order, those of one mechanism side by side, one timeout
 * after the other within a round (so that a series and its floor run a few ms apart); returns
 * one cell per job and timeout, with each round's fastest batch (the ratios are taken round by
 * round from them).
 */
export async function runJobs(given: Job[], opts: RunOptions): Promise<Cell[]> {
  const jobs = groupByMechanism(given);
  const perRound = opts.timePerCellMs / opts.rounds;
  const samples = new Map<Job, Map<number, ArrayLike<number>[]>>();
  const calls = new Map<Job, Map<number, number>>();
  const failed = new Set<Job>();
  // One short unrecorded pass first: JIT warm-up, page faults, and the peers' own start-up
  // (interpreter, imports) stay out of every recorded round.
  for (const job of jobs) {
    try {
      await job.run(Math.min(10, perRound));
    } catch (err) {
      failed.add(job);
      opts.onError?.(job, err);
    }
  }
  const record = async (job: Job, timeoutMs: number) => {
    try {
      const got = await job.run(perRound, [timeoutMs]);
      let byTimeout = samples.get(job);
      if (!byTimeout) samples.set(job, (byTimeout = new Map()));
      if (!calls.has(job)) calls.set(job, new Map());
      for (const [t, s] of got) {
        if (!byTimeout.has(t)) byTimeout.set(t, []);
        byTimeout.get(t)!.push(s.samples);
        calls.get(job)!.set(t, s.callsPerSample);
      }
    } catch (err) {
      failed.add(job);
      samples.delete(job);
      opts.onError?.(job, err);
    }
  };
  const timeouts = [...new Set(jobs.flatMap((j) => j.timeouts))];
  for (let round = 0; round < opts.rounds; round++) {
    // Rotate so that no series is always first (cold caches) or last (a warm, busy machine);
    // neighbours stay neighbours, except across the wrap.
    const order = jobs.map((_, i) => jobs[(i + round) % jobs.length]);
    for (const timeoutMs of timeouts) {
      for (const job of order) if (!failed.has(job) && job.timeouts.includes(timeoutMs)) await record(job, timeoutMs);
    }
    for (const job of order) opts.onStep?.(job, round);
  }
  const cells: Cell[] = [];
  for (const job of jobs) {
    for (const [timeoutMs, rounds] of samples.get(job) ?? []) {
      const s = summarize(rounds);
      if (s.samples === 0) continue;
      cells.push({
        scenario: job.scenario,
        backend: job.backend,
        api: job.api,
        n: job.n,
        active: job.active,
        timeoutMs,
        ...s,
        callsPerSample: calls.get(job)?.get(timeoutMs) ?? 1,
        roundBestNs: rounds.map(fastest),
      });
    }
  }
  return cells;
}
