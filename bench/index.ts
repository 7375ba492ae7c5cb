/**
 * `npm run bench` / `npx iomux bench`: what each multiplexer costs as the number of watched
 * sockets grows, beside the C floor, the Node-API floor and CPython, all measured on the same
 * sockets. Progress on stderr, the report on stdout, and --json/--csv/--svg files.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { native } from '../lib/binding';
import { runMain } from '../lib/cli-args';
import { FD_SETSIZE } from '../lib/constants';
import { defaultBackend } from '../lib/selectors/default';
import { type BenchBackend, presentBackends } from './backends';
import { runEcho } from './echo/run';
import { ioUringMissing } from './io-uring-backend';
import { createFixture, maxSockets, raiseNofile } from './fixtures';
import { loadNapiFloor, type NapiFloor } from './napi';
import { type BenchOptions, parseOptions } from './options';
import { Progress } from './progress';
import { compileFloor, findCPython, type PeerFamily, type PeerProgram } from './peers/run';
import { planStages } from './plan';
import type { Cell } from './report/cells';
import { writeCsv } from './report/csv';
import { writeJson } from './report/json';
import { missingSvgPackages, writeSvg } from './report/svg';
import { renderReport, type RunInfo } from './report/table';
import { timerCostNs } from './timing';

export { type BenchOptions, parseOptions, USAGE } from './options';

/** Finds the peers asked for; says why one is missing. */
function findPeers(wanted: PeerFamily[], notes: string[]): { peers: Map<PeerFamily, PeerProgram>; napi: NapiFloor | null; cleanup(): void } {
  const peers = new Map<PeerFamily, PeerProgram>();
  const cleanups: Array<() => void> = [];
  const cleanup = () => cleanups.forEach((f) => f());
  let napi: NapiFloor | null = null;
  if (wanted.includes('napi')) {
    const n = loadNapiFloor();
    napi = n.floor;
    cleanups.push(n.cleanup);
    notes.push(n.note);
  }
  if (wanted.includes('c') || wanted.includes('c-mt')) {
    const c = compileFloor();
    cleanups.push(c.cleanup);
    if (c.peer) {
      if (wanted.includes('c')) peers.set('c', c.peer);
      if (wanted.includes('c-mt')) peers.set('c-mt', { ...c.peer, family: 'c-mt', env: { IOMUX_FLOOR_THREAD: '1' } });
      notes.push(`C floor: bench/peers/floor.c built with ${c.peer.version}, -O2; c-mt-* is the same loop with one extra idle thread`);
      if (c.peer.ioUringMissing && process.platform === 'linux') notes.push(`C io_uring floor left out: ${c.peer.ioUringMissing}`);
    } else notes.push(`C floor left out: ${c.reason}`);
  }
  if (wanted.includes('cpython')) {
    const py = findCPython();
    if (py.peer) {
      peers.set('cpython', py.peer);
      notes.push(`CPython: ${py.peer.version} (bench/peers/cpython.py)`);
    } else notes.push(`CPython left out: ${py.reason}`);
  }
  return { peers, napi, cleanup };
}

/** The report on stdout and the files asked for. */
async function writeOutputs(cells: Cell[], info: RunInfo, opts: BenchOptions): Promise<void> {
  process.stdout.write(renderReport(cells, info));
  if (opts.json) writeJson(opts.json, cells, info);
  if (opts.csv) writeCsv(opts.csv, cells);
  if (opts.svg) await writeSvg(opts.svg, cells);
}

/** Picks the backends and peers of the run, with a note for the report on each choice. */
function prepare(opts: BenchOptions, maxN: number) {
  const notes: string[] = [];
  const present = presentBackends();
  const chosen: BenchBackend[] = [];
  for (const name of opts.backends ?? [...present.keys()]) {
    const b = present.get(name);
    if (b) chosen.push(b);
    else notes.push(`backend ${name} is not present here: left out`);
  }
  if (process.platform === 'linux' && !present.has('io_uring') && (opts.backends ?? ['io_uring']).includes('io_uring')) {
    notes.push(`io_uring series left out: ${ioUringMissing()}`);
  }
  const tooBig = opts.sizes.filter((n) => n > maxN);
  if (tooBig.length) notes.push(`sizes ${tooBig.join(', ')} are above max N ${maxN}: left out`);
  opts.sizes = opts.sizes.filter((n) => n <= maxN);
  const { peers, napi, cleanup } = findPeers(opts.peers, notes);
  notes.push(`DefaultSelector here is the ${defaultBackend()} selector; CPython's selectors.DefaultSelector is ${native.has.epoll ? 'EpollSelector' : 'its platform best'}`);
  notes.push(`CPython select()/SelectSelector cells are n/a where the highest fd >= FD_SETSIZE (${FD_SETSIZE}): CPython refuses those fds; iomux and the C floor use heap fd sets (allowLargeFds) there`);
  return { chosen, peers, napi, cleanup, notes };
}

/**
 * Runs the benchmark.
 * @param argv arguments after `bench` (as `npx iomux bench ...` passes them).
 * @returns the exit code: 0, 1 when a series failed its correctness check, 2 on bad options.
 */
export async function runBench(argv: readonly string[]): Promise<number> {
  const nofile = raiseNofile();
  const { max: maxN, cappedBy } = maxSockets(nofile);
  const opts = parseOptions(argv, maxN);
  if (typeof opts === 'number') return opts;
  // Said before measuring, not after minutes of it.
  const missing = opts.svg ? missingSvgPackages() : [];
  if (missing.length) {
    process.stderr.write(`iomux bench: --svg needs the optional packages vega and vega-lite: npm install ${missing.join(' ')}\n`);
    return 2;
  }
  if (opts.from) {
    const saved = JSON.parse(readFileSync(opts.from, 'utf8')) as { info: RunInfo; cells: Cell[] };
    await writeOutputs(saved.cells, saved.info, opts);
    return 0;
  }
  const started = Date.now();
  const { chosen, peers, napi, cleanup, notes } = prepare(opts, maxN);
  const timerNs = timerCostNs();
  const blocks: Record<number, string> = {};
  const spreads: RunInfo['spreads'] = {};
  const errors: string[] = [];
  const progress = new Progress(process.stderr);
  const { stages, steps } = planStages(opts, {
    backends: chosen,
    peers,
    napi,
    blocks,
    onStep: (label, job) => progress.step(label, `${job.backend} ${job.api}`),
    onError: (msg) => errors.push(msg),
  });

  const loadBefore = loadavg()[0];
  progress.start(steps);
  const cells: Cell[] = [];
  let echo: RunInfo['echo'];
  try {
    for (const stage of stages) {
      progress.note(stage.label, `opening ${stage.count} sockets`);
      const fixture = await createFixture(stage.count, stage.initialActive, opts);
      spreads[stage.count] = { holders: fixture.holderPids.length, addresses: fixture.groups, ...fixture.memory };
      try {
        cells.push(...(await stage.run(fixture)));
      } finally {
        await fixture.close();
      }
    }
    if (opts.scenarios.includes('echo')) {
      echo = await runEcho(opts, maxN, (what) => progress.note('echo', what), notes);
    }
  } finally {
    progress.stop();
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
    spreads,
    rounds: opts.rounds,
    timePerCellMs: opts.timeMs,
    batchMs: opts.batchMs,
    timerNsPerRead: timerNs,
    runSeconds: (Date.now() - started) / 1000,
    echo,
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

if (require.main === module) runMain('iomux bench', runBench);
