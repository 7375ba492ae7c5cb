/**
 * The async benchmark's harness (bench/async/): the quick mode runs end to end and writes the
 * documented JSON; the recorder and the ratios compute what they claim. No speed assertions:
 * figures depend on the machine and its neighbours.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseOptions } from '../../bench/async/index';
import { quantile, Recorder } from '../../bench/async/recorder';
import { captureOutput } from '../helpers/output';
import { computeRatios, SCHEMA, type Report, type RunRecord } from '../../bench/async/report';

const ROOT = path.join(__dirname, '..', '..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'iomux-async-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/async/index.ts', ...args], { cwd: ROOT, timeout: 120_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('bench:async --quick', () => {
  const file = path.join(dir, 'quick.json');
  let result: Awaited<ReturnType<typeof runCli>>;
  let report: Report;

  it('runs every mode and writes the JSON report', async () => {
    result = await runCli(['--quick', '--json', file]);
    expect(result.code, result.stderr).toBe(0);
    report = JSON.parse(readFileSync(file, 'utf8')) as Report;
    expect(report.schema).toBe(SCHEMA);
    expect(report.options.quick).toBe(true);
    expect(report.options.sizes).toEqual([100]);
    expect(report.machine.cpus).toBeGreaterThan(0);
    expect(report.machine.loadavgBefore).toHaveLength(3);
    expect(report.clock).toMatch(/CLOCK_MONOTONIC/);
    // Every mode appears once per load; each either ran or says why it could not.
    expect(report.runs).toHaveLength(2 * report.options.modes.length);
    for (const run of report.runs) {
      expect(['pingpong', 'readable']).toContain(run.load);
      if (run.status !== 'ok') expect(run.reason, `${run.mode}: ${run.status}`).toMatch(/\S/);
      expect(run.status, `${run.load} ${run.mode}: ${run.reason}`).not.toBe('failed');
    }
  }, 180_000);

  it('counts exactly the quick number of wake-ups, with ordered percentiles', () => {
    const linux = process.platform === 'linux' ? ['pollAsync', 'selectAsync:epoll'] : [];
    const must = ['selectAsync:poll', 'threadedWait:poll', 'net', ...linux];
    for (const mode of must) {
      for (const load of ['pingpong', 'readable']) {
        const run = report.runs.find((r) => r.mode === mode && r.load === load)!;
        expect(run.status, `${load} ${mode}: ${run.reason}`).toBe('ok');
        const x = run.result!;
        expect(x.wakeUps).toBe(300);
        expect(x.messages).toBeGreaterThanOrEqual(x.wakeUps);
        if (load === 'pingpong' || mode !== 'net') {
          // One message per wake-up in the ping-pong, and in one-message reads.
          expect(x.messages).toBe(x.wakeUps);
        }
        expect(x.seconds).toBeGreaterThan(0);
        expect(x.wakeUpsPerSecond).toBeCloseTo(x.wakeUps / x.seconds, 6);
        for (const p of [x.oneWay, x.roundTrip]) {
          expect(p.p50).toBeGreaterThan(0);
          expect(p.p99).toBeGreaterThanOrEqual(p.p50);
        }
      }
    }
  });

  it('prints the tables and the stats timing cost', () => {
    expect(result.stdout).toMatch(/Round trips \(ping-pong/);
    expect(result.stdout).toMatch(/kept readable/);
    expect(result.stdout).toMatch(/Targets \(issue 6\)/);
    expect(result.stdout).toMatch(/Stats timing cost/);
    const objects = report.statsOverhead.map((s) => `${s.object} ${s.call}`);
    expect(objects).toContain('Poll pollInto(out, 0)');
    if (process.platform === 'linux') expect(objects).toContain('Epoll pollInto(out, 0)');
    for (const s of report.statsOverhead) {
      expect(s.nsPerCallOff).toBeGreaterThan(0);
      expect(s.overheadPercent).toBeCloseTo(((s.nsPerCallOn - s.nsPerCallOff) / s.nsPerCallOff) * 100, 6);
      expect(s.minNsPerCallOff).toBeLessThanOrEqual(s.nsPerCallOff);
      expect(s.minNsPerCallOn).toBeLessThanOrEqual(s.nsPerCallOn);
      expect(s.minOverheadPercent).toBeCloseTo(((s.minNsPerCallOn - s.minNsPerCallOff) / s.minNsPerCallOff) * 100, 6);
    }
  });

  it('rejects an unknown option with one line and exit code 2', async () => {
    const bad = await runCli(['--bogus']);
    expect([bad.code, bad.stdout, bad.stderr]).toEqual([2, '', 'bench:async: unknown option --bogus (see npm run bench:async -- --help)\n']);
  }, 60_000);

  it('--help and --version print and exit 0 without measuring', async () => {
    const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const help = await runCli(['--help']);
    expect([help.code, help.stderr]).toEqual([0, '']);
    expect(help.stdout).toMatch(/^usage: npm run bench:async -- \[options\]\n[^]*--peer-cpu/);
    const v = await runCli(['--version']);
    expect([v.code, v.stdout, v.stderr]).toEqual([0, `${version}\n`, '']);
  }, 60_000);
});

describe('bench:async options', () => {
  it('checks values after parsing, in one line naming the help command', () => {
    const output = captureOutput();
    expect(parseOptions(['--repeat', '0'], output)).toBe(2);
    expect(output.err).toBe('bench:async: --repeat takes a positive integer (see npm run bench:async -- --help)\n');
    const o = parseOptions(['--quick', '--modes', 'net', '--no-stats'], captureOutput());
    expect(typeof o === 'object' && [o.quick, o.sizes, o.pin, o.stats]).toEqual([true, [100], false, false]);
  });
});

describe('Recorder', () => {
  it('skips the warm-up and records latencies from the stamps', () => {
    const rec = new Recorder({ warmup: 2, minRounds: 3, durationMs: 0, maxRounds: 10 });
    let t = 1_000_000n;
    for (let i = 0; i < 5 && !rec.done; i++) {
      rec.acked();
      t += 10_000n;
      rec.wake(t, t - 4_000n, 1);
    }
    expect(rec.done).toBe(true);
    const r = rec.result();
    expect(r.wakeUps).toBe(3);
    expect(r.messages).toBe(3);
    // The clock starts at the last warm-up wake-up: three more 10 µs steps.
    expect(r.seconds).toBeCloseTo(30e-6, 12);
    expect(r.oneWay).toEqual({ p50: 4, p99: 4 });
  });

  it('stops at maxRounds even when the duration is not reached', () => {
    const rec = new Recorder({ warmup: 1, minRounds: 1, durationMs: 60_000, maxRounds: 4 });
    for (let i = 1; i <= 5; i++) rec.wake(BigInt(i * 1000), 0n, 2);
    expect(rec.done).toBe(true);
    expect(rec.result().wakeUps).toBe(4);
    expect(rec.result().messages).toBe(8);
  });

  it('quantile takes the nearest rank', () => {
    const v = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(v, 0.5)).toBe(50);
    expect(quantile(v, 0.99)).toBe(99);
    expect(quantile(new Float64Array(0), 0.5)).toBeNaN();
  });
});

describe('computeRatios', () => {
  const run = (mode: string, pinned: boolean, perSecond: number): RunRecord => ({
    load: 'pingpong',
    mode,
    label: mode,
    size: 100,
    pinned,
    status: 'ok',
    result: {
      wakeUps: 1,
      messages: 1,
      seconds: 1,
      wakeUpsPerSecond: perSecond,
      messagesPerSecond: perSecond,
      oneWay: { p50: 1, p99: 1 },
      roundTrip: { p50: 1, p99: 1 },
    },
  });

  it('divides this run’s figures and checks the targets', () => {
    const ratios = computeRatios(
      [run('pollAsync', false, 200), run('pollAsync', true, 100), run('epoll-pkg', true, 50), run('epoll-pkg', false, 25), run('net', false, 250)],
      [100],
    ).filter((r) => r.load === 'pingpong');
    const by = Object.fromEntries(ratios.map((r) => [r.name, r]));
    expect(by['pollAsync unpinned / epoll-pkg pinned']).toMatchObject({ value: 4, met: true });
    expect(by['pollAsync unpinned / epoll-pkg unpinned']).toMatchObject({ value: 8, met: false });
    expect(by['pollAsync unpinned / net unpinned']).toMatchObject({ value: 0.8, met: true });
  });

  it('gives null when a side did not run', () => {
    const ratios = computeRatios([run('pollAsync', false, 200)], [100]);
    expect(ratios.every((r) => r.value === null && r.met === null)).toBe(true);
  });
});
