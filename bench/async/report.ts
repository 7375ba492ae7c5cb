/**
 * The async benchmarks' report: the JSON document (--json FILE) and the tables on stdout. The
 * JSON shape is checked by test/bench/async-bench.test.ts; bump SCHEMA when it changes.
 */
import type { RateResult } from './recorder';
import type { StatsOverhead } from './stats-overhead';

export const SCHEMA = 'iomux-async-bench/1';

/** The two kinds of traffic (see index.ts). */
export type LoadName = 'pingpong' | 'readable';

/** One mode × size × pinning × load measurement, or why it did not run. */
export interface RunRecord {
  load: LoadName;
  mode: string;
  label: string;
  size: number;
  pinned: boolean;
  /** 'ok' with result, 'skipped' with reason (the mode cannot run here), 'failed' with reason. */
  status: 'ok' | 'skipped' | 'failed';
  reason?: string;
  /** The median repeat's figures. */
  result?: RateResult;
  /** Wake-ups/s of every repeat, in run order (with --repeat > 1). */
  samples?: number[];
}

/** A ratio the issue sets a target for, computed from one run's figures. */
export interface Ratio {
  load: LoadName;
  size: number;
  name: string;
  /** numerator / denominator, or null when one of them did not run. */
  value: number | null;
  /** What the issue asks for, e.g. '> 1' or '>= 10' or '>= 0.667'. */
  target: string;
  met: boolean | null;
}

/** The whole document written by --json. */
export interface Report {
  schema: typeof SCHEMA;
  startedAt: string;
  seconds: number;
  machine: {
    platform: string;
    arch: string;
    cpus: number;
    cpuModel: string;
    node: string;
    taskset: boolean;
    loadavgBefore: number[];
    loadavgAfter: number[];
  };
  options: {
    quick: boolean;
    sizes: number[];
    durationMs: number;
    pins: boolean[];
    peerCpu: 'other' | 'same';
    repeat: number;
    modes: string[];
  };
  /** How latencies are taken; see README. */
  clock: string;
  runs: RunRecord[];
  ratios: Ratio[];
  statsOverhead: StatsOverhead[];
}

function find(runs: RunRecord[], load: LoadName, mode: string, size: number, pinned: boolean): number | null {
  const r = runs.find((x) => x.load === load && x.mode === mode && x.size === size && x.pinned === pinned);
  return r?.status === 'ok' && r.result ? r.result.wakeUpsPerSecond : null;
}

/** The targets, per load and size, from the runs of this invocation. */
export function computeRatios(runs: RunRecord[], sizes: number[]): Ratio[] {
  const out: Ratio[] = [];
  type Side = number | null;
  const add = (load: LoadName, size: number, name: string, a: Side, b: Side, min: number, target: string) => {
    const value = a !== null && b !== null && b > 0 ? a / b : null;
    out.push({ load, size, name, value, target, met: value === null ? null : value >= min });
  };
  for (const load of ['pingpong', 'readable'] as const) {
    for (const size of sizes) {
      const pa = (pinned: boolean) => find(runs, load, 'pollAsync', size, pinned);
      const pkg = (pinned: boolean) => find(runs, load, 'epoll-pkg', size, pinned);
      const nodeNet = (pinned: boolean) => find(runs, load, 'net', size, pinned);
      add(load, size, 'pollAsync unpinned / epoll-pkg pinned', pa(false), pkg(true), 1, '> 1');
      add(load, size, 'pollAsync pinned / epoll-pkg pinned', pa(true), pkg(true), 1, '> 1');
      add(load, size, 'pollAsync unpinned / epoll-pkg unpinned', pa(false), pkg(false), 10, '>= 10');
      if (load === 'pingpong') {
        add(load, size, 'pollAsync unpinned / net unpinned', pa(false), nodeNet(false), 1 / 1.5, '>= 0.667 (within 1.5x)');
      }
    }
  }
  return out;
}

function fmt(n: number | undefined, digits = 0): string {
  if (n === undefined || !Number.isFinite(n)) return '-';
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

const loads = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i < 2 || i === cells.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const LOAD_TITLE: Record<LoadName, string> = {
  pingpong: 'Round trips (ping-pong, 1 message in flight, drain all): wake-ups/s and latency',
  readable: 'Wake-ups with the socket kept readable (256 in flight, one 8-byte read per wake-up)',
};

/** The report as text tables. */
export function formatReport(report: Report): string {
  const parts: string[] = [];
  const m = report.machine;
  parts.push(
    `iomux async benchmarks: ${m.platform}/${m.arch}, ${m.cpus} CPUs (${m.cpuModel}), Node ${m.node}; ` +
      `load average before ${loads(m.loadavgBefore)}, after ${loads(m.loadavgAfter)}`,
  );
  parts.push(`latency clock: ${report.clock}`);
  parts.push(
    `pinned = measured process under taskset -c 0, peer on CPU ${report.options.peerCpu === 'same' ? '0 too' : '1'}; ` +
      `${report.options.repeat} repeat(s) per row, median shown`,
  );
  for (const load of ['pingpong', 'readable'] as const) {
    const runs = report.runs.filter((r) => r.load === load);
    if (runs.length === 0) continue;
    const rows = runs.map((r) => {
      const x = r.result;
      // With 256 messages queued, latencies measure the queue, not the wake-up: not shown.
      const lat = load === 'pingpong' ? x : undefined;
      const status = r.status === 'ok' ? '' : `${r.status}: ${r.reason ?? ''}`;
      return [
        r.mode,
        r.pinned ? 'pinned' : 'unpinned',
        String(r.size),
        fmt(x?.wakeUpsPerSecond),
        r.samples && r.samples.length > 1 ? `${fmt(Math.min(...r.samples))}-${fmt(Math.max(...r.samples))}` : '',
        fmt(x?.messagesPerSecond),
        fmt(lat?.oneWay.p50, 1),
        fmt(lat?.oneWay.p99, 1),
        fmt(lat?.roundTrip.p50, 1),
        fmt(lat?.roundTrip.p99, 1),
        status,
      ];
    });
    const header = ['mode', 'cpu', 'idle', 'wake-ups/s', 'repeats', 'msgs/s'];
    header.push('1-way p50 µs', 'p99', 'rtt p50 µs', 'p99', 'note');
    parts.push(`\n${LOAD_TITLE[load]}\n${table(header, rows)}`);
  }
  if (report.ratios.length > 0) {
    const rows = report.ratios.map((r) => {
      const met = r.met === null ? '-' : r.met ? 'yes' : 'NO';
      return [r.load, r.name, String(r.size), r.value === null ? '-' : r.value.toFixed(2), r.target, met];
    });
    const header = ['load', 'ratio', 'idle', 'value', 'target', 'met'];
    parts.push(`\nTargets (issue 6), ratios of wake-ups/s from this run\n${table(header, rows)}`);
  }
  if (report.statsOverhead.length > 0) {
    const rows = report.statsOverhead.map((s) => {
      const cost = `${s.overheadPercent.toFixed(1)}%`;
      const best = `${fmt(s.minNsPerCallOff)} / ${fmt(s.minNsPerCallOn)} (${s.minOverheadPercent.toFixed(1)}%)`;
      return [s.object, s.call, String(s.fds), fmt(s.nsPerCallOff), fmt(s.nsPerCallOn), cost, best];
    });
    parts.push(
      `\nStats timing cost, medians of alternating blocks (counting is always on; timing is off by default:\nsetStatsTiming(true))\n` +
        table(['object', 'call', 'fds', 'ns/call off', 'ns/call on', 'timing cost', 'fastest block off / on'], rows),
    );
  }
  return parts.join('\n');
}
