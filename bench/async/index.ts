/**
 * `npm run bench:async`: the async benchmarks of issue 6.
 *
 * 1. Wake-ups: one loopback TCP socket made readable by a peer process (peer.cjs), with N idle
 *    sockets registered around it, waited on by each mode (modes.ts) in a process of its own,
 *    unpinned and pinned (`taskset -c 0`, the peer too unless --peer-cpu other). Two loads:
 *    - pingpong: one 8-byte message in flight; every wake-up reads it and acks; round trips/s
 *      and latency (the peer's CLOCK_MONOTONIC stamp to the wait's resolution, and the ack
 *      write to the resolution);
 *    - readable: 256 messages in flight, one read per wake-up, acks in batches of 64, so the
 *      socket never runs dry and the wait mechanism is what limits the rate.
 * 2. The cost of stats timing on Epoll/Poll zero-timeout waits (stats-overhead.ts).
 *
 * Options: --quick (a few hundred round trips, N=100, unpinned: proves the harness), --json FILE,
 * --sizes 100,10000, --duration MS (per run), --modes a,b, --loads pingpong,readable, --no-pin,
 * --pinned-only, --peer-cpu same|other (pinned runs: peer on CPU 0 too, as `taskset -c 0` on the
 * whole bench would do (the default), or on CPU 1),
 * --repeat R (each run R times, round the modes; the median is reported), --no-stats, --stats-only.
 * Not part of `npm test`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type CommandOutput, parseCommand, type ParsedCommand, runMain, usageError } from '../../lib/cli-args';
import { MODES, type Load } from './modes';
import type { RunLength } from './recorder';
import { computeRatios, formatReport, SCHEMA, type LoadName, type Report, type RunRecord } from './report';
import { RESULT_MARK, type RunConfig, type RunOutcome } from './protocol';
import { measureStatsOverhead } from './stats-overhead';

const ROOT = path.join(__dirname, '..', '..');

const LOADS: Record<LoadName, Load> = {
  pingpong: { window: 1, oneMessage: false },
  readable: { window: 256, oneMessage: true },
};

/** The async bench's command line, checked. */
export interface AsyncBenchOptions {
  quick: boolean;
  json: string | null;
  sizes: number[];
  durationMs: number;
  modes: string[];
  loads: LoadName[];
  pin: boolean;
  unpinned: boolean;
  /** Where the peer runs in pinned runs: on the other CPU, or on CPU 0 with the measured process. */
  peerCpu: 'other' | 'same';
  repeat: number;
  stats: boolean;
}

const SPEC = {
  quick: { type: 'boolean' },
  json: { type: 'string' },
  sizes: { type: 'string' },
  duration: { type: 'string' },
  modes: { type: 'string' },
  loads: { type: 'string' },
  'no-pin': { type: 'boolean' },
  'no-stats': { type: 'boolean' },
  'pinned-only': { type: 'boolean' },
  'stats-only': { type: 'boolean' },
  'peer-cpu': { type: 'string' },
  repeat: { type: 'string' },
} as const;

/**
 * Parses the command line (lib/cli-args.ts: `--help`, `--version`, unknown options), then checks
 * the values.
 * @param argv the arguments after the script.
 * @param out where `--help`, `--version` and the one line of a refused command line go.
 * @returns the options; or the exit code when the command line was handled here: 0 after
 *   `--help` or `--version`, 2 after an unknown option or a bad value (one line written).
 */
export function parseOptions(argv: readonly string[], out?: CommandOutput): AsyncBenchOptions | number {
  const command = { name: 'bench:async', helpCommand: 'npm run bench:async -- --help', usage: USAGE, options: SPEC };
  const parsed = parseCommand(command, argv, out);
  if (typeof parsed === 'number') return parsed;
  try {
    return checkOptions(parsed.values);
  } catch (err) {
    return usageError(command, err, out);
  }
}

function checkOptions(v: ParsedCommand<typeof SPEC>['values']): AsyncBenchOptions {
  const o: AsyncBenchOptions = {
    quick: v.quick ?? false,
    json: v.json ?? null,
    sizes: v.sizes !== undefined ? v.sizes.split(',').map(Number) : [100, 10_000],
    durationMs: v.duration !== undefined ? Number(v.duration) : 2000,
    modes: v.modes !== undefined ? v.modes.split(',') : MODES.map((m) => m.name),
    loads: v['stats-only'] ? [] : v.loads !== undefined ? (v.loads.split(',') as LoadName[]) : ['pingpong', 'readable'],
    pin: !v['no-pin'],
    unpinned: !v['pinned-only'],
    peerCpu: (v['peer-cpu'] ?? 'same') as AsyncBenchOptions['peerCpu'],
    repeat: v.repeat !== undefined ? Number(v.repeat) : 1,
    stats: !v['no-stats'],
  };
  for (const m of o.modes) if (!MODES.some((x) => x.name === m)) throw new Error(`unknown mode ${m}`);
  for (const l of o.loads) if (!(l in LOADS)) throw new Error(`unknown load ${l}`);
  if (o.sizes.some((s) => !Number.isInteger(s) || s < 0)) throw new Error('--sizes takes non-negative integers');
  if (!Number.isFinite(o.durationMs) || o.durationMs <= 0) throw new Error('--duration takes a positive number of ms');
  if (o.peerCpu !== 'other' && o.peerCpu !== 'same') throw new Error('--peer-cpu takes other or same');
  if (!Number.isInteger(o.repeat) || o.repeat < 1) throw new Error('--repeat takes a positive integer');
  if (o.quick) {
    if (v.sizes === undefined) o.sizes = [100];
    o.pin = false;
  }
  return o;
}

const USAGE = `usage: npm run bench:async -- [options]
  --sizes LIST      idle sockets around the active one (default 100,10000)
  --modes LIST      ways of waiting: ${MODES.map((m) => m.name).join(',')}
  --loads LIST      pingpong (one message in flight), readable (256 in flight)
  --duration MS     measuring time per run
  --repeat R        runs per cell, the median is shown (all samples kept in --json)
  --no-pin          skip the runs pinned to one CPU (taskset -c 0)
  --pinned-only     only the pinned runs
  --peer-cpu same|other   where the pinned peer runs (default same CPU)
  --no-stats        skip the stats-timing overhead measurement
  --stats-only      only that measurement
  --quick           tiny runs that prove the harness works (judges no speed)
  --json FILE       every record, schema iomux-async-bench/1
  -h, --help        this text
  -v, --version     the iomux version
`;

function hasTaskset(): boolean {
  return process.platform === 'linux' && spawnSync('taskset', ['-c', '0', 'true']).status === 0;
}

function runLength(o: AsyncBenchOptions): RunLength {
  if (o.quick) return { warmup: 50, minRounds: 300, durationMs: 0, maxRounds: 300 };
  return { warmup: 2000, minRounds: 2000, durationMs: o.durationMs, maxRounds: 4_000_000 };
}

/** Runs one measurement in a child process; never throws (a failure becomes a record). */
function runChild(config: RunConfig, pinned: boolean): Promise<RunOutcome | { failed: string }> {
  const prefix = pinned ? ['taskset', '-c', '0'] : [];
  const argv = [...prefix, process.execPath, '--import', 'tsx', path.join(__dirname, 'run-one.ts'), JSON.stringify(config)];
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => resolve({ failed: e.message }));
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith(RESULT_MARK));
      if (code === 0 && line) resolve(JSON.parse(line.slice(RESULT_MARK.length)) as RunOutcome);
      else resolve({ failed: `exit ${code}: ${(err.trim().split('\n')[0] ?? '').slice(0, 200)}` });
    });
  });
}

async function runOnce(
  name: string,
  load: LoadName,
  size: number,
  pinned: boolean,
  length: RunLength,
  peerPrefix: string[],
): Promise<RunRecord> {
  const mode = MODES.find((m) => m.name === name)!;
  process.stderr.write(`async bench: ${load} ${name} idle=${size} ${pinned ? 'pinned' : 'unpinned'} ... `);
  const outcome = await runChild({ mode: name, size, load: LOADS[load], length, peerPrefix }, pinned);
  const rec: RunRecord = { load, mode: name, label: mode.label, size, pinned, status: 'failed' };
  if ('failed' in outcome) rec.reason = outcome.failed;
  else if (outcome.ok) {
    rec.status = 'ok';
    rec.result = outcome.result;
  } else {
    rec.status = 'skipped';
    rec.reason = outcome.skipped;
  }
  const said = rec.status === 'ok' ? `${Math.round(rec.result!.wakeUpsPerSecond)}/s` : `${rec.status}: ${rec.reason}`;
  process.stderr.write(`${said}\n`);
  return rec;
}

/** The repeat with the median rate (any failure wins, so that it is seen), with every rate kept. */
function medianRun(recs: RunRecord[]): RunRecord {
  const bad = recs.find((r) => r.status !== 'ok');
  if (bad) return bad;
  const sorted = [...recs].sort((a, b) => a.result!.wakeUpsPerSecond - b.result!.wakeUpsPerSecond);
  return { ...sorted[(sorted.length - 1) >> 1], samples: recs.map((r) => r.result!.wakeUpsPerSecond) };
}

/**
 * Runs the benchmarks and returns the report (printing progress on stderr).
 * @param o - the options (parseOptions; see the file comment).
 */
export async function runAsyncBench(o: AsyncBenchOptions): Promise<Report> {
  const started = Date.now();
  const taskset = hasTaskset();
  const pins = [...(o.unpinned ? [false] : []), ...(o.pin && taskset ? [true] : [])];
  const peerCpu = o.peerCpu === 'other' && os.cpus().length > 1 ? '1' : '0';
  const loadavgBefore = os.loadavg();
  const runs: RunRecord[] = [];
  const length = runLength(o);
  for (const load of o.loads) {
    for (const size of o.sizes) {
      for (const pinned of pins) {
        // Repeats go round the modes, so that a neighbour's burst of load hits them alike.
        const samples = new Map<string, RunRecord[]>();
        for (let rep = 0; rep < o.repeat; rep++) {
          for (const name of o.modes) {
            const rec = await runOnce(name, load, size, pinned, length, pinned ? ['taskset', '-c', peerCpu] : []);
            samples.set(name, [...(samples.get(name) ?? []), rec]);
          }
        }
        for (const name of o.modes) runs.push(medianRun(samples.get(name)!));
      }
    }
  }
  const statsOverhead = o.stats ? measureStatsOverhead(100, o.quick ? 3 : 31, o.quick ? 2 : 50) : [];
  const cpus = os.cpus();
  return {
    schema: SCHEMA,
    startedAt: new Date(started).toISOString(),
    seconds: (Date.now() - started) / 1000,
    machine: {
      platform: process.platform,
      arch: process.arch,
      cpus: cpus.length,
      cpuModel: cpus[0]?.model ?? 'unknown',
      node: process.version,
      taskset,
      loadavgBefore,
      loadavgAfter: os.loadavg(),
    },
    options: {
      quick: o.quick,
      sizes: o.sizes,
      durationMs: o.quick ? 0 : o.durationMs,
      pins,
      peerCpu: o.peerCpu,
      repeat: o.repeat,
      modes: o.modes,
    },
    clock:
      'process.hrtime.bigint() in both processes: CLOCK_MONOTONIC on Linux (libuv uv_hrtime), one clock ' +
      'for the whole machine, so the peer stamp before write(2) and the stamp at resolution compare directly',
    runs,
    ratios: computeRatios(runs, o.sizes),
    statsOverhead,
  };
}

async function main(argv: string[]): Promise<number> {
  const o = parseOptions(argv);
  if (typeof o === 'number') return o;
  const report = await runAsyncBench(o);
  process.stdout.write(`${formatReport(report)}\n`);
  if (o.json) writeFileSync(o.json, `${JSON.stringify(report, null, 2)}\n`);
  return 0;
}

if (require.main === module) runMain('bench:async', main);
