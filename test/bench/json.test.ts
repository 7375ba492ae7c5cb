/**
 * `iomux bench --quick --json FILE` writes one record per cell with the documented fields;
 * the option parser takes what the issue lists and refuses what it does not know.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type BenchOptions, parseOptions, runBench, USAGE } from '../../bench/index';
import { captureOutput } from '../helpers/output';
import { CELL_FIELDS } from '../../bench/report/json';
import { type Cell, MIN_CALLS_FOR_FASTEST, ratio, ratioSpread } from '../../bench/report/cells';
import { toCsv } from '../../bench/report/csv';
import { scalingSpec } from '../../bench/report/svg';
import { renderReport } from '../../bench/report/table';
import { fdRanges } from '../../bench/peers/run';
import { spawnSync } from 'node:child_process';
import { canUse } from '../../lib/selectors/default';

const has = (cmd: string) => !spawnSync(cmd, ['--version']).error;

/** Whether io_uring_setup works here, asked of a throwaway build of the C floor's probe. */
function probeFloorIoUring(): boolean {
  const out = path.join(dir, 'floor');
  const src = ['floor.c', 'io_uring.c'].map((f) => path.join(__dirname, '..', '..', 'bench', 'peers', f));
  if (spawnSync('cc', ['-O2', '-pthread', '-o', out, ...src]).status !== 0) return false;
  return spawnSync(out, ['probe'], { encoding: 'utf8' }).stdout.trim() === 'io_uring ok';
}

const dir = mkdtempSync(path.join(tmpdir(), 'iomux-bench-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** parseOptions with its output kept: the exit code it returned and the one line it wrote, if any. */
function parse(argv: string[], maxN = 100) {
  const output = captureOutput();
  const result = parseOptions(argv, maxN, output);
  return { result, out: output.out, err: output.err };
}

/** The options of a command line that must parse. */
function options(argv: string[], maxN: number): BenchOptions {
  const { result, err } = parse(argv, maxN);
  if (typeof result === 'number') throw new Error(`exit ${result}: ${err}`);
  return result;
}

describe('bench options', () => {
  it('has the issue defaults and resolves max: sizes follow the machine', () => {
    const o = options([], 19000);
    expect(o.sizes).toEqual([10, 100, 1000, 10000, 19000]);
    expect(options([], 300_000).sizes).toEqual([10, 100, 1000, 10000, 50000, 100000, 250000, 300000]);
    expect(options([], 2_000_000).sizes).toEqual([10, 100, 1000, 10000, 50000, 100000, 250000, 1000000, 2000000]);
    expect(o.active).toEqual([1, 10, 100, 500, 1000]);
    expect(o.peers).toEqual(['c', 'c-mt', 'cpython', 'napi']);
    expect(o.scenarios).not.toContain('echo');
    expect(o.holderFds).toBeNull();
  });

  it('takes lists, --no-peers and --quick', () => {
    const o = options(['--sizes', '10,max', '--api=raw,pollInto', '--no-peers', '--quick', '--time', '7'], 500);
    expect(o.sizes).toEqual([10, 500]);
    expect(o.apis).toEqual(['raw', 'pollInto']);
    expect(o.peers).toEqual([]);
    expect(o.timeMs).toBe(7);
    expect(options(['--peers', 'c'], 100).peers).toEqual(['c']);
    expect(options(['--peers=none'], 100).peers).toEqual([]);
    const spread = options(['--holder-fds', '4000', '--ports-per-address=3000', '--scenario', 'echo'], 19000);
    expect([spread.holderFds, spread.portsPerAddress]).toEqual([4000, 3000]);
    expect(spread.scenarios).toEqual(['echo']);
  });

  it('-h and -v print the usage and the version, exit code 0', () => {
    const { version } = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--help', '-h']) expect(parse([flag])).toEqual({ result: 0, out: `${USAGE}\n`, err: '' });
    for (const flag of ['--version', '-v']) expect(parse([flag])).toEqual({ result: 0, out: `${version}\n`, err: '' });
  });

  it('refuses unknown options and bad values with one line and exit code 2', () => {
    const refused = (argv: string[], line: string | RegExp) => {
      const { result, out, err } = parse(argv);
      expect([result, out], argv.join(' ')).toEqual([2, '']);
      if (typeof line === 'string') expect(err).toBe(`iomux bench: ${line} (see iomux bench --help)\n`);
      else expect(err).toMatch(new RegExp(`^iomux bench: ${line.source}[^\n]* \\(see iomux bench --help\\)\n$`));
    };
    refused(['--frobnicate'], 'unknown option --frobnicate');
    refused(['--sizes'], '--sizes needs a value');
    refused(['--quick=1'], '--quick takes no value');
    refused(['stray'], 'unexpected argument stray');
    refused(['--sizes', '0'], /--sizes: 0 is not a positive integer/);
    refused(['--api', 'nope'], /--api: unknown value nope/);
    refused(['--peers', 'java'], /--peers: unknown value java/);
    refused(['--scenarios', 'x'], /--scenarios: unknown value x/);
    refused(['--batch-ms', '0'], /--batch-ms: 0 is not a number of ms/);
  });
});

describe('bench --quick --json', () => {
  it('writes one record per cell with the documented fields', async () => {
    const file = path.join(dir, 'out.json');
    const csv = path.join(dir, 'out.csv');
    const code = await runBench(['--quick', '--sizes', '10', '--active', '1,3', '--time', '6', '--rounds', '3', '--batch-ms', '1', '--json', file, '--csv', csv]);
    expect(code).toBe(0);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { info: Record<string, unknown>; cells: Array<Record<string, unknown>> };
    expect(doc.info.maxN).toBeGreaterThan(0);
    // The clock's own cost, the batch length, the run time and each fixture's spread are recorded.
    expect(doc.info.timerNsPerRead as number).toBeGreaterThan(0);
    expect(doc.info.timerNsPerRead as number).toBeLessThan(10_000);
    expect(doc.info.batchMs).toBe(1);
    expect(doc.info.runSeconds as number).toBeGreaterThan(0);
    const spreads = doc.info.spreads as Record<string, { holders: number; addresses: number }>;
    expect(spreads['11']).toMatchObject({ holders: 1, addresses: 1 });
    expect(doc.cells.length).toBeGreaterThan(0);
    for (const c of doc.cells) {
      expect(Object.keys(c)).toEqual([...CELL_FIELDS]);
      expect(['idle-scaling', 'activity-sweep', 'register-churn', 'register-batch']).toContain(c.scenario);
      expect(c.backend).toMatch(/^(select|poll|epoll|kqueue|io_uring|(c|c-mt)-io_uring|(c|c-mt|cpython)-(select|poll|epoll|kqueue)|napi-(select|poll|epoll))$/);
      expect(['raw', 'pollInto', 'selectors']).toContain(c.api);
      for (const f of ['n', 'active', 'timeoutMs', 'samples', 'callsPerSample'] as const) expect(Number.isInteger(c[f])).toBe(true);
      // One sample is one batch of callsPerSample calls; at least 3 batches per cell.
      expect(c.callsPerSample as number).toBeGreaterThanOrEqual(1);
      expect(c.samples as number).toBeGreaterThanOrEqual(3);
      const [min, p25, med, p75, max] = [c.minNs, c.p25Ns, c.medianNs, c.p75Ns, c.maxNs] as number[];
      expect(min).toBeGreaterThanOrEqual(0);
      expect(min).toBeLessThanOrEqual(p25);
      expect(p25).toBeLessThanOrEqual(med);
      expect(med).toBeLessThanOrEqual(p75);
      expect(p75).toBeLessThanOrEqual(max);
      expect(c.samples as number).toBeGreaterThan(0);
      // The fastest batch of each round (each of at least 3 batches), all within the cell's range.
      const rounds = c.roundBestNs as number[];
      expect(rounds).toHaveLength(3);
      for (const r of rounds) expect([r >= min, r <= max]).toEqual([true, true]);
      expect(c.samples as number).toBeGreaterThanOrEqual(9);
    }
    expect(doc.info.rounds).toBe(3);
    const idle = doc.cells.filter((c) => c.scenario === 'idle-scaling');
    expect(new Set(idle.map((c) => c.timeoutMs))).toEqual(new Set([0, 1000]));
    expect(idle.every((c) => c.n === 10 && c.active === 1)).toBe(true);
    const sweep = doc.cells.filter((c) => c.scenario === 'activity-sweep');
    expect(new Set(sweep.map((c) => c.active))).toEqual(new Set([1, 3]));
    expect(readFileSync(csv, 'utf8').split('\n')[0]).toBe(CELL_FIELDS.join(','));
    // The peers ran on the same sockets and are named after what they call.
    const backends = new Set(doc.cells.map((c) => c.backend));
    if (has('cc')) for (const b of ['c-select', 'c-poll', 'c-mt-poll', 'napi-poll', 'napi-select']) expect(backends).toContain(b);
    if (has('python3')) for (const b of ['cpython-select', 'cpython-poll']) expect(backends).toContain(b);
    if (process.platform === 'linux' && has('cc')) for (const b of ['c-epoll', 'c-mt-epoll', 'napi-epoll']) expect(backends).toContain(b);
    // io_uring: the C floor wherever io_uring_setup works, iomux's series wherever IoUring does,
    // in every scenario (register-batch: 64 pairs per call, figures per pair); else a note says why.
    const uringFloor = process.platform === 'linux' && has('cc') ? probeFloorIoUring() : false;
    const scenariosOf = (b: string) => new Set(doc.cells.filter((c) => c.backend === b).map((c) => c.scenario));
    const all = ['idle-scaling', 'activity-sweep', 'register-churn', 'register-batch'];
    if (uringFloor) expect(scenariosOf('c-io_uring')).toEqual(new Set(all));
    if (uringFloor) expect(scenariosOf('c-mt-io_uring')).toEqual(new Set(['idle-scaling']));
    if (canUse('io_uring')) expect(scenariosOf('io_uring')).toEqual(new Set(all));
    else expect(doc.info.notes as string[]).toContainEqual(expect.stringMatching(/^io_uring series left out: /));
    if (process.platform === 'linux') expect(scenariosOf('epoll')).toContain('register-batch');
    // Churn has no wait: no Node-API floor there.
    for (const c of doc.cells.filter((x) => x.scenario === 'register-churn' || x.scenario === 'register-batch')) expect(c.backend).not.toMatch(/^napi-/);
    // Both N-API epoll floors: into a fixed buffer (raw) and into an Int32Array (pollInto).
    if (process.platform === 'linux' && has('cc')) {
      const napi = doc.cells.filter((c) => c.backend === 'napi-epoll').map((c) => c.api);
      expect(new Set(napi)).toEqual(new Set(['raw', 'pollInto']));
    }
  });

  it('plots the floors and prints the targets against them', () => {
    const doc = JSON.parse(readFileSync(path.join(dir, 'out.json'), 'utf8'));
    const spec = scalingSpec(doc.cells) as { data: { values: Array<{ family: string; mechanism: string }> } };
    const families = new Set(spec.data.values.map((v) => v.family));
    // io_uring is a mechanism of the plot (its own colour) wherever its series ran.
    const mechanisms = new Set(spec.data.values.map((v) => v.mechanism));
    if (canUse('io_uring')) expect(mechanisms).toContain('io_uring');
    if (has('cc')) for (const f of ['iomux', 'N-API', 'C', 'C+thread']) expect(families).toContain(f);
    const text = renderReport(doc.cells, doc.info);
    expect(text).toMatch(/one clock read costs [\d.]+ ns/);
    expect(text).toMatch(/-- iomux \/ N-API floor/);
    expect(text).toMatch(/-- iomux \/ C floor with one idle thread \(C-mt\)/);
    expect(text).toMatch(/pollInto\(\) <= 1\.05x the N-API floor/);
    expect(text).toMatch(/poll poll\(\) <= 1\.1x C-mt poll at N >= 1000/);
    if (canUse('io_uring')) {
      expect(text).toMatch(/== io_uring against epoll/);
      expect(text).toMatch(/io_uring against epoll, measured in this run/);
    }
  });

  // The echo scenario's records: every server at every (C, A), every echoed byte checked by the
  // load generator (it exits non-zero on a wrong byte, which fails the run).
  it.runIf(process.platform === 'linux' && has('cc'))('--scenario echo writes one row per server and cell', async () => {
    const file = path.join(dir, 'echo.json');
    const code = await runBench(['--scenario', 'echo', '--echo-conns', '1,20', '--echo-active', '1,5', '--echo-time', '100', '--no-peers', '--json', file]);
    expect(code).toBe(0);
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    expect(doc.cells).toEqual([]);
    const rows = doc.info.echo.rows as Array<Record<string, number | string>>;
    const servers = [
      'iomux DefaultSelector',
      'iomux selectAsync',
      ...(canUse('io_uring') ? ['iomux IoUringSelector'] : []),
      'node net',
      'c epoll',
      ...(has('python3') ? ['cpython selectors'] : []),
    ];
    if (!canUse('io_uring')) expect(doc.info.notes).toContainEqual(expect.stringMatching(/^echo: iomux IoUringSelector server left out: /));
    expect(new Set(rows.map((r) => r.server))).toEqual(new Set(servers));
    // C=1 takes A=1 only (A <= C); C=20 takes A=1 and A=5.
    expect(new Set(rows.map((r) => `${r.conns}/${r.active}`))).toEqual(new Set(['1/1', '20/1', '20/5']));
    expect(rows).toHaveLength(3 * servers.length);
    for (const r of rows) {
      expect(Object.keys(r).sort()).toEqual(['active', 'conns', 'cpuUsPerMsg', 'msgs', 'msgsPerSec', 'p50Us', 'p99Us', 'server', 'size'].sort());
      expect(r.msgs as number).toBeGreaterThan(0);
      expect(r.msgsPerSec as number).toBeGreaterThan(0);
      expect(r.cpuUsPerMsg as number).toBeGreaterThan(0);
      expect(r.p50Us as number).toBeLessThanOrEqual(r.p99Us as number);
      expect(r.size).toBe(64);
    }
    expect(doc.info.echo.seconds).toBeGreaterThan(0);
  }, 120_000);

  it('hands peers their fds as compact ranges', () => {
    expect(fdRanges([3, 4, 5, 9, 11, 12])).toBe('3-5,9,11-12');
    expect(fdRanges([7])).toBe('7');
  });

  it('CSV quotes what needs quoting', () => {
    const text = toCsv([
      { scenario: 'a,b', backend: 'x"y', api: 'raw', n: 1, active: 1, timeoutMs: 0, medianNs: 1.25, p25Ns: 1, p75Ns: 2, minNs: 1, maxNs: 3, samples: 4, callsPerSample: 5, roundBestNs: [1.25, 2] },
    ]);
    expect(text.split('\n')[1]).toBe('"a,b","x""y",raw,1,1,0,1.3,1,2,1,3,4,5,1.3 2');
  });

  it('divides the fastest batches, and spreads the per-round ratios where both cells have rounds', () => {
    const cell = (minNs: number, roundBestNs?: number[], callsPerSample = 100): Cell => ({
      scenario: 'idle-scaling', backend: 'epoll', api: 'raw', n: 1, active: 1, timeoutMs: 0, medianNs: 3 * minNs,
      p25Ns: 2 * minNs, p75Ns: 4 * minNs, minNs, maxNs: 5 * minNs, samples: 3, callsPerSample, roundBestNs,
    });
    // Per round: 1.1, 3 and 0.5 -> p25-p75 0.8-2.05; the fastest batches: 110 / 100.
    const a = cell(110, [110, 300, 150]);
    const b = cell(100, [100, 100, 300]);
    expect(ratio(a, b)).toBeCloseTo(1.1);
    expect(ratioSpread(a, b).map((x) => x.toFixed(2))).toEqual(['0.80', '2.05']);
    expect(ratioSpread(cell(200), b)).toEqual([NaN, NaN]);
    expect(ratioSpread(a, cell(100, [1, 2]))).toEqual([NaN, NaN]);
    expect(ratio(a, undefined)).toBeNaN();
  });

  it('takes the median of the per-round ratios where a batch is a few calls (its fastest is one call)', () => {
    const cell = (roundBestNs: number[], callsPerSample: number): Cell => ({
      scenario: 'idle-scaling', backend: 'select', api: 'raw', n: 19000, active: 1, timeoutMs: 0, medianNs: 5, p25Ns: 4,
      p75Ns: 6, minNs: Math.min(...roundBestNs), maxNs: 9, samples: roundBestNs.length, callsPerSample, roundBestNs,
    });
    // Per round 2.4, 1.25, 1.1: median 1.25, where the fastest over the fastest is 6 / 2.5 = 2.4.
    const a = cell([6, 10, 11], 1);
    const b = cell([2.5, 8, 10], 1);
    expect(ratio(a, b)).toBeCloseTo(1.25);
    expect(ratio(cell([6, 10, 11], MIN_CALLS_FOR_FASTEST), b)).toBeCloseTo(1.25);
    expect(ratio(cell([6, 10, 11], MIN_CALLS_FOR_FASTEST), cell([2.5, 8, 10], MIN_CALLS_FOR_FASTEST))).toBeCloseTo(2.4);
    // Without rounds to pair: the fastest batches.
    expect(ratio({ ...a, roundBestNs: undefined }, b)).toBeCloseTo(2.4);
  });
});
