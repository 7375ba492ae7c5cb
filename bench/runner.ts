/**
 * Runs scenarios x backends x APIs, and the peers, on one fixture at a time: every series of a
 * fixture is measured in rotating order over a few rounds, and each cell's samples from all
 * rounds are merged. tinybench times the iomux closures; the peers time their own loop the same
 * way (one clock read before and after every call).
 */
import { Bench } from 'tinybench';
import type { Api, BenchBackend } from './backends';
import type { Fixture } from './fixtures';
import type { PeerFamily, PeerServer } from './peers/run';
import { type Cell, summarize } from './report/cells';
import type { PeerMode, Scenario } from './scenarios/scenario';

/** One series on one fixture: it measures every timeout of its scenario in one go. */
export interface Job {
  scenario: string;
  backend: string;
  api: Api;
  n: number;
  active: number;
  timeouts: readonly number[];
  /** Measures each timeout for about timeMs; returns ns samples per timeout. */
  run(timeMs: number): Map<number, ArrayLike<number>> | Promise<Map<number, ArrayLike<number>>>;
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

/** Times one closure with tinybench; returns the samples in ns. */
function timeClosure(name: string, fn: () => void, timeMs: number): number[] {
  const bench = new Bench({
    time: timeMs,
    iterations: 3,
    warmupTime: Math.max(1, timeMs / 5),
    warmupIterations: 1,
    retainSamples: true,
    throws: true,
  });
  bench.add(name, fn);
  bench.runSync();
  const task = bench.tasks[0];
  const result = task.result;
  if (result.state === 'errored') throw result.error;
  if (result.state !== 'completed') throw new Error(`${name}: tinybench ended in state ${result.state}`);
  const samples = result.latency.samples ?? [];
  return Array.from(samples, (ms) => ms * 1e6);
}

/** The iomux jobs of a scenario on a fixture: every backend x API the scenario measures. */
export function iomuxJobs(
  scenario: Scenario,
  backends: Iterable<BenchBackend>,
  apis: ReadonlySet<Api>,
  fixture: Fixture,
  n: number,
): Job[] {
  const jobs: Job[] = [];
  for (const backend of backends) {
    for (const api of scenario.apis(backend)) {
      if (!apis.has(api)) continue;
      jobs.push({
        scenario: scenario.name,
        backend: backend.name,
        api,
        n,
        active: fixture.activeCount,
        timeouts: scenario.timeouts,
        run(timeMs) {
          const out = new Map<number, number[]>();
          for (const timeoutMs of scenario.timeouts) {
            const timed = scenario.setup(backend, api, { fds: fixture.fds, active: fixture.activeCount, timeoutMs });
            if (!timed) continue;
            try {
              out.set(timeoutMs, timeClosure(`${backend.name} ${api}`, timed.fn, timeMs));
            } finally {
              timed.close();
            }
          }
          return out;
        },
      });
    }
  }
  return jobs;
}

/** The peer jobs of a scenario on a fixture, served by one peer process per family. */
export function peerJobs(
  scenario: Scenario,
  peers: ReadonlyMap<PeerFamily, PeerServer>,
  fixture: Fixture,
  n: number,
  fdSetSize: number,
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
      async run(timeMs: number) {
        const res = await peers.get(m.family)!.request(m.mode, fixture.activeCount, [...scenario.timeouts], timeMs);
        return new Map(res.map((r) => [r.timeoutMs, r.samples]));
      },
    }));
}

/** Runs jobs over rounds in rotating order; returns one cell per job and timeout. */
export async function runJobs(jobs: Job[], opts: RunOptions): Promise<Cell[]> {
  const perRound = opts.timePerCellMs / opts.rounds;
  const samples = new Map<Job, Map<number, ArrayLike<number>[]>>();
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
  for (let round = 0; round < opts.rounds; round++) {
    // Rotate so that no series is always first (cold caches) or last (a warm, busy machine).
    const order = jobs.map((_, i) => jobs[(i + round) % jobs.length]);
    for (const job of order) {
      if (!failed.has(job)) {
        try {
          const got = await job.run(perRound);
          let byTimeout = samples.get(job);
          if (!byTimeout) samples.set(job, (byTimeout = new Map()));
          for (const [t, s] of got) {
            if (!byTimeout.has(t)) byTimeout.set(t, []);
            byTimeout.get(t)!.push(s);
          }
        } catch (err) {
          failed.add(job);
          samples.delete(job);
          opts.onError?.(job, err);
        }
      }
      opts.onStep?.(job, round);
    }
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
      });
    }
  }
  return cells;
}
