/**
 * The run, planned as stages: one fixture each (every idle-scaling size, with churn where asked;
 * then the activity sweep), and on each fixture every scenario's iomux and peer jobs.
 */
import { native } from '../lib/binding';
import { FD_SETSIZE } from '../lib/constants';
import type { BenchBackend } from './backends';
import type { Fixture } from './fixtures';
import { type NapiFloor, napiJobs } from './napi';
import type { BenchOptions } from './options';
import { type PeerFamily, type PeerProgram, PeerServer, seriesChild } from './peers/run';
import type { Cell } from './report/cells';
import { type Job, iomuxJobs, peerJobs, runJobs } from './runner';
import { activitySweep } from './scenarios/activity-sweep';
import { idleScaling } from './scenarios/idle-scaling';
import { registerBatch, registerChurn } from './scenarios/register-churn';
import { type PeerMode, type Scenario, usesIoUring } from './scenarios/scenario';
import type { BatchSamples } from './timing';

/** One fixture's worth of work. */
export interface Stage {
  label: string;
  /** Sockets the fixture holds. */
  count: number;
  /** Readable sockets at first. */
  initialActive: number;
  /** Runs everything on the fixture; returns the cells. */
  run(fixture: Fixture): Promise<Cell[]>;
}

/** What the stages need from the caller. */
export interface PlanContext {
  backends: BenchBackend[];
  peers: ReadonlyMap<PeerFamily, PeerProgram>;
  /** The Node-API floor, when it is loaded and asked for. */
  napi: NapiFloor | null;
  /** Filled with each size's fd block as fixtures are made. */
  blocks: Record<number, string>;
  onStep(label: string, job: Job): void;
  onError(message: string): void;
}

/** A scenario whose peer modes are only those the peers can run here. */
function runnable(s: Scenario, peers: ReadonlyMap<PeerFamily, PeerProgram>): Scenario {
  const ok = (m: PeerMode) => peers.has(m.family) && !(usesIoUring(m) && peers.get(m.family)!.ioUringMissing !== null);
  return { ...s, peerModes: (maxFd, fdSetSize) => s.peerModes(maxFd, fdSetSize).filter(ok) };
}

/** An iomux job of a scenario whose calls make several operations: its samples per operation. */
function perOperation(job: Job, ops: number): Job {
  const per = (got: Map<number, BatchSamples>) =>
    new Map([...got].map(([t, b]) => [t, { samples: b.samples.map((ns) => ns / ops), callsPerSample: b.callsPerSample }] as const));
  return { ...job, run: async (timeMs) => per(await job.run(timeMs)) };
}

/**
 * Plans the stages of a run.
 * @returns the stages and the number of progress steps they will report (jobs x rounds).
 */
export function planStages(opts: BenchOptions, ctx: PlanContext): { stages: Stage[]; steps: number } {
  const want = (s: Scenario) => opts.scenarios.includes(s.name);
  const apis = new Set(opts.apis);
  // A job is one series; peers that CPython cannot serve past FD_SETSIZE drop out when the
  // fixture's fds are known, so the step count is an estimate made with fds just above N.
  // The Node-API floor has wait calls only: none in the churn scenarios.
  const napiFor = (s: Scenario) => (ctx.napi && s !== registerChurn && s !== registerBatch ? ctx.napi : null);
  const jobsOf = (s: Scenario, n: number) =>
    ctx.backends.reduce((sum, b) => sum + s.apis(b).filter((a) => apis.has(a)).length, 0) +
    runnable(s, ctx.peers).peerModes(n + 64, FD_SETSIZE).length +
    (napiFor(s) ? (native.has.epoll ? 4 : 2) : 0);
  let steps = 0;

  const runAll = async (scenario: Scenario, fixture: Fixture, n: number, label: string): Promise<Cell[]> => {
    const servers = new Map([...ctx.peers].map(([family, peer]) => [family, new PeerServer(peer, fixture.fds)] as const));
    // Each backend's series in a process of its own (see bench/series-child.ts).
    const own = new Map(ctx.backends.map((b) => [b.name, new PeerServer(seriesChild(), fixture.fds)] as const));
    try {
      const floor = napiFor(scenario);
      const ops = scenario.opsPerCall ?? 1;
      const jobs: Job[] = [
        ...iomuxJobs(scenario, ctx.backends, apis, own, fixture, n, opts.batchMs).map((j) => (ops > 1 ? perOperation(j, ops) : j)),
        ...(floor ? napiJobs(scenario, floor, fixture, n, opts.batchMs) : []),
        ...peerJobs(runnable(scenario, ctx.peers), servers, fixture, n, FD_SETSIZE, opts.batchMs),
      ];
      return await runJobs(jobs, {
        rounds: opts.rounds,
        timePerCellMs: opts.timeMs,
        onStep: (job) => ctx.onStep(label, job),
        onError: (job, err) =>
          ctx.onError(`${scenario.name} ${job.backend} ${job.api} N=${n} K=${fixture.activeCount}: ${(err as Error).message}`),
      });
    } finally {
      await Promise.all([...servers.values(), ...own.values()].map((s) => s.close()));
    }
  };

  const stages: Stage[] = [];
  for (const n of opts.sizes) {
    const idle = want(idleScaling);
    const churn = want(registerChurn) && opts.churnSizes.includes(n);
    if (!idle && !churn) continue;
    steps += opts.rounds * ((idle ? jobsOf(idleScaling, n) : 0) + (churn ? jobsOf(registerChurn, n) + jobsOf(registerBatch, n) : 0));
    stages.push({
      label: `N=${n}`,
      count: n + 1,
      initialActive: 1,
      async run(fixture) {
        ctx.blocks[n] = fixture.block;
        const cells = idle ? await runAll(idleScaling, fixture, n, `idle N=${n}`) : [];
        if (churn) {
          cells.push(...(await runAll(registerChurn, fixture, n, `churn N=${n}`)));
          cells.push(...(await runAll(registerBatch, fixture, n, `churn x${registerBatch.opsPerCall} N=${n}`)));
        }
        return cells;
      },
    });
  }
  if (want(activitySweep)) {
    const ks = opts.active.filter((k) => k <= opts.sweepN);
    steps += opts.rounds * ks.length * jobsOf(activitySweep, opts.sweepN);
    stages.push({
      label: `sweep N=${opts.sweepN}`,
      count: opts.sweepN,
      initialActive: ks[0],
      async run(fixture) {
        ctx.blocks[opts.sweepN] ??= fixture.block;
        const cells: Cell[] = [];
        for (const k of ks) {
          await fixture.activate(k);
          cells.push(...(await runAll(activitySweep, fixture, opts.sweepN, `sweep K=${k}`)));
        }
        return cells;
      },
    });
  }
  return { stages, steps };
}
