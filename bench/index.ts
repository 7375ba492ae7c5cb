/**
 * `npm run bench` / `npx iomux bench`: what each multiplexer costs as the number of watched
 * sockets grows, beside the C floor and CPython, all measured on the same sockets. Progress on
 * stderr, the report on stdout, and --json/--csv/--svg files.
 */
import { SingleBar } from 'cli-progress';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { native } from '../lib/binding';
import { FD_SETSIZE } from '../lib/constants';
import { defaultBackend } from '../lib/selectors/default';
import { type Api, type BenchBackend, presentBackends } from './backends';
import { createFixture, type Fixture, maxSockets, raiseNofile } from './fixtures';
import { compileFloor, findCPython, type PeerFamily, type PeerProgram, PeerServer } from './peers/run';
import type { Cell } from './report/cells';
import { writeCsv } from './report/csv';
import { writeJson } from './report/json';
import { writeSvg } from './report/svg';
import { renderReport, type RunInfo } from './report/table';
import { type Job, iomuxJobs, peerJobs, runJobs } from './runner';
import { activitySweep } from './scenarios/activity-sweep';
import { idleScaling } from './scenarios/idle-scaling';
import { registerChurn } from './scenarios/register-churn';
import type { Scenario } from './scenarios/scenario';

const SCENARIOS: Scenario[] = [idleScaling, activitySweep, registerChurn];
const APIS: readonly Api[] = ['raw', 'pollInto', 'selectors'];

/** The command line, parsed. */
export interface BenchOptions {
  /** N values of idle scaling ('max' resolved to a number). */
  sizes: number[];
  /** K values of the activity sweep. */
  active: number[];
  /** Sockets of the activity sweep. */
  sweepN: number;
  /** Sizes at which registration churn is measured (those of `sizes` that are listed). */
  churnSizes: number[];
  backends: string[] | null;
  apis: Api[];
  peers: PeerFamily[];
  scenarios: string[];
  timeMs: number;
  rounds: number;
  quick: boolean;
  json?: string;
  csv?: string;
  svg?: string;
  /** Re-render a saved --json run instead of measuring. */
  from?: string;
  help: boolean;
}

export const USAGE = `usage: iomux bench [options]
  --sizes LIST      idle sockets N (default 10,100,1000,5000,10000,max; max = what RLIMIT_NOFILE allows)
  --active LIST     ready sockets K of the activity sweep (default 1,10,100,500,1000 of N=1000)
  --backends LIST   select,poll,epoll,kqueue (default: all present here)
  --api LIST        raw,pollInto,selectors (default: all)
  --peers [LIST]    c,c-mt,cpython (default: those found; c-mt is the C floor with one extra
                    idle thread, as Node has); --no-peers to leave them out
  --scenarios LIST  idle-scaling,activity-sweep,register-churn (default: all)
  --time MS         measuring time per cell over all rounds (default 150)
  --rounds R        rounds in rotating order (default 5)
  --quick           small sizes and times, for CI (judges no speed)
  --json FILE       one record per cell
  --csv FILE        the same records as CSV
  --svg FILE        log-log plot of ns/call against N (vega-lite, rendered by vega)
  --from FILE       measure nothing: print the report (and --csv/--svg) of a saved --json run`;

function list(value: string, what: string): string[] {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new Error(`${what}: empty list`);
  return items;
}

function numbers(value: string, what: string, max: number): number[] {
  return list(value, what).map((s) => {
    const n = s === 'max' ? max : Number(s);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${what}: ${s} is not a positive integer or "max"`);
    return n;
  });
}

/**
 * Parses the command line.
 * @param argv arguments after `bench`.
 * @param maxN what `max` means (the largest N RLIMIT_NOFILE allows).
 * @throws Error with a message for the user on a bad option.
 */
export function parseOptions(argv: readonly string[], maxN: number): BenchOptions {
  const quick = argv.includes('--quick');
  const o: BenchOptions = {
    sizes: quick ? [10, 100] : [10, 100, 1000, 5000, 10000, maxN],
    active: quick ? [1, 10] : [1, 10, 100, 500, 1000],
    sweepN: quick ? 100 : 1000,
    churnSizes: quick ? [10] : [10, 1000, maxN],
    backends: null,
    apis: [...APIS],
    peers: ['c', 'c-mt', 'cpython'],
    scenarios: SCENARIOS.map((s) => s.name),
    timeMs: quick ? 20 : 150,
    rounds: quick ? 1 : 5,
    quick,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].startsWith('--') && argv[i].includes('=') ? argv[i].split(/=(.*)/s, 2) : [argv[i], undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--quick': break;
      case '--help': case '-h': o.help = true; break;
      case '--sizes': o.sizes = numbers(value(), flag, maxN); break;
      case '--active': o.active = numbers(value(), flag, maxN); o.sweepN = Math.max(o.sweepN, ...o.active); break;
      case '--backends': o.backends = list(value(), flag); break;
      case '--api': {
        const apis = list(value(), flag);
        for (const a of apis) if (!APIS.includes(a as Api)) throw new Error(`--api: unknown API ${a} (${APIS.join(', ')})`);
        o.apis = apis as Api[];
        break;
      }
      case '--peers': {
        // A bare --peers keeps the default; --peers=none or a list chooses.
        const v = inline ?? (argv[i + 1] && !argv[i + 1].startsWith('--') ? argv[++i] : undefined);
        if (v === undefined) break;
        const peers = v === 'none' ? [] : list(v, flag);
        for (const p of peers) if (!['c', 'c-mt', 'cpython'].includes(p)) throw new Error(`--peers: unknown peer ${p} (c, c-mt, cpython)`);
        o.peers = peers as PeerFamily[];
        break;
      }
      case '--no-peers': o.peers = []; break;
      case '--scenarios': {
        o.scenarios = list(value(), flag);
        for (const s of o.scenarios) if (!SCENARIOS.some((x) => x.name === s)) throw new Error(`--scenarios: unknown scenario ${s}`);
        break;
      }
      case '--time': o.timeMs = numbers(value(), flag, maxN)[0]; break;
      case '--rounds': o.rounds = numbers(value(), flag, maxN)[0]; break;
      case '--json': o.json = value(); break;
      case '--csv': o.csv = value(); break;
      case '--svg': o.svg = value(); break;
      case '--from': o.from = value(); break;
      default: throw new Error(`unknown option ${argv[i]}\n${USAGE}`);
    }
  }
  o.sizes = [...new Set(o.sizes)].sort((a, b) => a - b);
  o.active = [...new Set(o.active)].sort((a, b) => a - b);
  o.churnSizes = o.churnSizes.filter((n) => o.sizes.includes(n));
  if (o.churnSizes.length === 0) o.churnSizes = [o.sizes[0]];
  return o;
}

/** Finds the peers asked for; says why one is missing. */
function findPeers(wanted: PeerFamily[], notes: string[]): { peers: Map<PeerFamily, PeerProgram>; cleanup(): void } {
  const peers = new Map<PeerFamily, PeerProgram>();
  let cleanup = () => {};
  if (wanted.includes('c') || wanted.includes('c-mt')) {
    const c = compileFloor();
    cleanup = c.cleanup;
    if (c.peer) {
      if (wanted.includes('c')) peers.set('c', c.peer);
      if (wanted.includes('c-mt')) peers.set('c-mt', { ...c.peer, family: 'c-mt', env: { IOMUX_FLOOR_THREAD: '1' } });
      notes.push(`C floor: bench/peers/floor.c built with ${c.peer.version}, -O2; c-mt-* is the same loop with one extra idle thread`);
    } else notes.push(`C floor left out: ${c.reason}`);
  }
  if (wanted.includes('cpython')) {
    const py = findCPython();
    if (py.peer) {
      peers.set('cpython', py.peer);
      notes.push(`CPython: ${py.peer.version} (bench/peers/cpython.py)`);
    } else notes.push(`CPython left out: ${py.reason}`);
  }
  return { peers, cleanup };
}

/** The report on stdout and the files asked for. */
async function writeOutputs(cells: Cell[], info: RunInfo, opts: BenchOptions): Promise<void> {
  process.stdout.write(renderReport(cells, info));
  if (opts.json) writeJson(opts.json, cells, info);
  if (opts.csv) writeCsv(opts.csv, cells);
  if (opts.svg) await writeSvg(opts.svg, cells);
}

/** One fixture's worth of work: which jobs run on it, and what to do between scenarios. */
interface Stage {
  label: string;
  count: number;
  initialActive: number;
  /** Runs everything on the fixture; returns the cells. */
  run(fixture: Fixture): Promise<Cell[]>;
}

/**
 * Runs the benchmark.
 * @param argv arguments after `bench` (as `npx iomux bench ...` passes them).
 * @returns the exit code: 0, 1 when a series failed its correctness check, 2 on bad options.
 */
export async function runBench(argv: readonly string[]): Promise<number> {
  const nofile = raiseNofile();
  const { max: maxN, cappedBy } = maxSockets(nofile);
  let opts: BenchOptions;
  try {
    opts = parseOptions(argv, maxN);
  } catch (err) {
    process.stderr.write(`iomux bench: ${(err as Error).message}\n`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (opts.from) {
    const saved = JSON.parse(readFileSync(opts.from, 'utf8')) as { info: RunInfo; cells: Cell[] };
    await writeOutputs(saved.cells, saved.info, opts);
    return 0;
  }
  const notes: string[] = [];
  const present = presentBackends();
  const chosen: BenchBackend[] = [];
  for (const name of opts.backends ?? [...present.keys()]) {
    const b = present.get(name);
    if (b) chosen.push(b);
    else notes.push(`backend ${name} is not present here: left out`);
  }
  const tooBig = opts.sizes.filter((n) => n > maxN);
  if (tooBig.length) notes.push(`sizes ${tooBig.join(', ')} are above max N ${maxN}: left out`);
  opts.sizes = opts.sizes.filter((n) => n <= maxN);
  const { peers, cleanup } = findPeers(opts.peers, notes);
  notes.push(`DefaultSelector here is the ${defaultBackend()} selector; CPython's selectors.DefaultSelector is ${native.has.epoll ? 'EpollSelector' : 'its platform best'}`);
  notes.push(`CPython select()/SelectSelector cells are n/a where the highest fd >= FD_SETSIZE (${FD_SETSIZE}): CPython refuses those fds; iomux and the C floor use heap fd sets (allowLargeFds) there`);

  const want = (s: Scenario) => opts.scenarios.includes(s.name);
  const apis = new Set(opts.apis);
  const blocks: Record<number, string> = {};
  const errors: string[] = [];
  const bar = new SingleBar(
    { stream: process.stderr, format: ' {bar} {value}/{total} | {stage} | {task}', hideCursor: true, clearOnComplete: true },
    undefined,
  );
  // Job counts are only known once a fixture's fd numbers are; start with an estimate.
  const perFixture = chosen.reduce((a, b) => a + b.apis.length, 0) + 9 * peers.size / 2;
  const stages: Stage[] = [];
  const runAll = async (scenario: Scenario, fixture: Fixture, n: number, label: string): Promise<Cell[]> => {
    const servers = new Map([...peers].map(([family, peer]) => [family, new PeerServer(peer, fixture.fds)] as const));
    try {
      const jobs: Job[] = [...iomuxJobs(scenario, chosen, apis, fixture, n), ...peerJobs(scenario, servers, fixture, n, FD_SETSIZE)];
      return await runJobs(jobs, {
        rounds: opts.rounds,
        timePerCellMs: opts.timeMs,
        onStep: (job) => bar.increment(1, { stage: label, task: `${job.backend} ${job.api}` }),
        onError: (job, err) => errors.push(`${scenario.name} ${job.backend} ${job.api} N=${n} K=${fixture.activeCount}: ${(err as Error).message}`),
      });
    } finally {
      await Promise.all([...servers.values()].map((s) => s.close()));
    }
  };
  let total = 0;
  for (const n of opts.sizes) {
    const churn = want(registerChurn) && opts.churnSizes.includes(n);
    if (!want(idleScaling) && !churn) continue;
    total += perFixture * opts.rounds * ((want(idleScaling) ? 1 : 0) + (churn ? 0.6 : 0));
    stages.push({
      label: `N=${n}`,
      count: n + 1,
      initialActive: 1,
      async run(fixture) {
        blocks[n] = fixture.block;
        const cells = want(idleScaling) ? await runAll(idleScaling, fixture, n, `idle N=${n}`) : [];
        if (churn) cells.push(...(await runAll(registerChurn, fixture, n, `churn N=${n}`)));
        return cells;
      },
    });
  }
  if (want(activitySweep)) {
    const ks = opts.active.filter((k) => k <= opts.sweepN);
    total += perFixture * opts.rounds * ks.length;
    stages.push({
      label: `sweep N=${opts.sweepN}`,
      count: opts.sweepN,
      initialActive: ks[0],
      async run(fixture) {
        blocks[opts.sweepN] ??= fixture.block;
        const cells: Cell[] = [];
        for (const k of ks) {
          await fixture.activate(k);
          cells.push(...(await runAll(activitySweep, fixture, opts.sweepN, `sweep K=${k}`)));
        }
        return cells;
      },
    });
  }

  const loadBefore = loadavg()[0];
  bar.start(Math.round(total), 0, { stage: 'starting', task: '' });
  const cells: Cell[] = [];
  try {
    for (const stage of stages) {
      bar.update({ stage: stage.label, task: `opening ${stage.count} sockets` });
      const fixture = await createFixture(stage.count, stage.initialActive);
      try {
        cells.push(...(await stage.run(fixture)));
      } finally {
        await fixture.close();
      }
    }
  } finally {
    bar.update(bar.getTotal());
    bar.stop();
    cleanup();
  }

  const info: RunInfo = {
    node: process.versions.node,
    cpu: cpus()[0]?.model ?? 'unknown CPU',
    cores: cpus().length,
    kernel: `${process.platform} ${release()}`,
    nofile,
    maxN,
    cappedBy,
    blocks,
    rounds: opts.rounds,
    timePerCellMs: opts.timeMs,
    load: [loadBefore, loadavg()[0]],
    notes,
  };
  await writeOutputs(cells, info, opts);
  if (errors.length) {
    process.stderr.write(`iomux bench: ${errors.length} series failed:\n${errors.map((e) => `  ${e}`).join('\n')}\n`);
    return 1;
  }
  return 0;
}

/** The entry point lib/cli.ts calls for `iomux bench` (the same as runBench). */
export const main = runBench;

if (require.main === module) {
  runBench(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err) => {
      process.stderr.write(`iomux bench: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
