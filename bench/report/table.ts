/**
 * The text report on stdout: scaling matrices with slopes, ratios against the C floor and
 * CPython, the activity sweep, registration churn, the targets, a verdict, and every cell.
 */
import { type Cell, familyOf, fmtNs, fmtRatio, MIN_CALLS_FOR_FASTEST, ratio, ratioSpread, scattered, seriesOf } from './cells';
import type { EchoInfo } from '../echo/types';
import { CellIndex, causes as explain, scaling, targets, type TargetResult } from './compare';
import { echoTable } from './echo';
import { ioUringTables, ioUringVerdict } from './io-uring';

/** Facts about the run that the reader needs to judge the figures. */
export interface RunInfo {
  node: string;
  cpu: string;
  cores: number;
  kernel: string;
  nofile: { soft: number; hard: number; raisedFrom: number };
  maxN: number;
  cappedBy: string;
  /** The fd block each size was placed in, e.g. { 1000: '252-1252' }. */
  blocks: Record<number, string>;
  /** How each fixture (by socket count) was spread, and what its connections cost in memory. */
  spreads?: Record<number, { holders: number; addresses: number; kernelPerConnection: number; holderPerConnection: number }>;
  rounds: number;
  timePerCellMs: number;
  /** Target length of one timed batch, ms. */
  batchMs?: number;
  /** The cost of one clock read in this process (process.hrtime.bigint), ns. */
  timerNsPerRead?: number;
  /** Wall time of the whole run, s. */
  runSeconds?: number;
  echo?: EchoInfo;
  /** The 1-minute load average before and after the run: other work on the machine skews figures. */
  load?: [number, number];
  notes: string[];
}

/** Lays out rows as aligned columns; the first column is left-aligned, the rest right. */
export function grid(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((s, i) => (widths[i] = Math.max(widths[i] ?? 0, s.length)));
  return rows
    .map((r) => r.map((s, i) => (i === 0 ? s.padEnd(widths[i]) : s.padStart(widths[i]))).join('  '))
    .join('\n');
}

const mark = (text: string, ...cells: Array<Cell | undefined>) => (cells.some(scattered) ? `${text}*` : text);
const SCATTER_NOTE = '* the middle half of the samples spreads wide (p75 > 1.5 x p25): read that cell with care.';

const FAMILY_ORDER = { iomux: 0, 'N-API': 1, C: 2, 'C+thread': 3, CPython: 4 } as const;

/** The smallest k of any cell (the worst case for the clock's share of a per-call figure). */
function minCalls(cells: Cell[]): number {
  return cells.reduce((m, c) => Math.min(m, c.callsPerSample ?? 1), Infinity);
}

/** How the fixtures were spread over holders and addresses, and memory per idle connection. */
function spreadLines(info: RunInfo): string[] {
  const entries = Object.entries(info.spreads ?? {}).sort((a, b) => Number(a[0]) - Number(b[0]));
  if (entries.length === 0) return [];
  const kib = (b: number) => (Number.isFinite(b) ? `${(b / 1024).toFixed(1)} KiB` : 'n/a');
  const [bigN, big] = entries[entries.length - 1]; // the largest fixture: the steadiest per-connection figure
  return [
    `client ends: ${entries.map(([n, s]) => `${n} sockets in ${s.holders} holder(s) from ${s.addresses} source address(es)`).join('; ')}`,
    `memory per idle connection (measured at ${bigN} sockets): kernel ${kib(big.kernelPerConnection)} for both ends ` +
      `(/proc/meminfo Slab growth), holder ${kib(big.holderPerConnection)} per client end (a Node net.Socket, RSS growth); ` +
      'the measured process adds one fd table slot',
  ];
}

function bySeries(a: Cell, b: Cell): number {
  const fa = FAMILY_ORDER[familyOf(a.backend)];
  const fb = FAMILY_ORDER[familyOf(b.backend)];
  return fa - fb || seriesOf(a).localeCompare(seriesOf(b));
}

/** One matrix: a row per series, a column per value of `col` (N or K). */
function matrix(cells: Cell[], col: 'n' | 'active', value: (c: Cell) => string, extra?: (row: Cell[]) => string[], extraHead: string[] = []): string {
  const cols = [...new Set(cells.map((c) => c[col]))].sort((a, b) => a - b);
  const rows = new Map<string, Cell[]>();
  for (const c of [...cells].sort(bySeries)) {
    const s = seriesOf(c);
    if (!rows.has(s)) rows.set(s, []);
    rows.get(s)!.push(c);
  }
  const head = ['series', ...cols.map((v) => `${col === 'n' ? 'N' : 'K'}=${v}`), ...extraHead];
  const body = [...rows].map(([s, row]) => [
    s,
    ...cols.map((v) => {
      const c = row.find((x) => x[col] === v);
      return c ? value(c) : 'n/a';
    }),
    ...(extra ? extra(row) : []),
  ]);
  return grid([head, ...body]);
}

/** Where poll catches up with epoll, and whether select wins when most connections are busy. */
export function sweepAnswer(index: CellIndex): string {
  const sweep = index.cells.filter((c) => c.scenario === 'activity-sweep' && c.timeoutMs === 0);
  if (sweep.length === 0) return 'The activity sweep was not run.';
  const ks = [...new Set(sweep.map((c) => c.active))].sort((a, b) => a - b);
  const n = sweep[0].n;
  const kMax = ks[ks.length - 1];
  const med = (backend: string, api: string, k: number) =>
    sweep.find((c) => c.backend === backend && c.api === api && c.active === k)?.medianNs;
  const catchUp: string[] = [];
  for (const [who, poll, epoll, api] of [
    ['iomux poll()', 'poll', 'epoll', 'raw'],
    ['iomux pollInto()', 'poll', 'epoll', 'pollInto'],
    ['C', 'c-poll', 'c-epoll', 'raw'],
    ['CPython', 'cpython-poll', 'cpython-epoll', 'raw'],
  ] as const) {
    if (med(poll, api, ks[0]) === undefined || med(epoll, api, ks[0]) === undefined) continue;
    const k = ks.find((kk) => (med(poll, api, kk) ?? Infinity) <= (med(epoll, api, kk) ?? 0) * 1.05);
    catchUp.push(k === undefined ? `${who}: not up to K=${kMax}` : `${who}: at K=${k}`);
  }
  const claim: string[] = [];
  for (const [who, sel, rivals] of [
    ['iomux', 'select', [['poll', 'raw'], ['poll', 'pollInto'], ['epoll', 'raw'], ['epoll', 'pollInto']]],
    ['C', 'c-select', [['c-poll', 'raw'], ['c-epoll', 'raw']]],
    ['CPython', 'cpython-select', [['cpython-poll', 'raw'], ['cpython-epoll', 'raw']]],
  ] as const) {
    const s = med(sel, 'raw', kMax);
    const best = rivals
      .map(([b, a]) => ({ name: seriesOf({ backend: b, api: a }), ns: med(b, a, kMax) }))
      .filter((r): r is { name: string; ns: number } => r.ns !== undefined)
      .sort((x, y) => x.ns - y.ns)[0];
    if (s === undefined || best === undefined) continue;
    claim.push(
      `${who}: select ${fmtNs(s)} vs the best other call (${best.name}) ${fmtNs(best.ns)}, ` +
        (s < best.ns ? `select wins by ${fmtRatio(best.ns / s)}` : `select loses (${fmtRatio(s / best.ns)} the time)`),
    );
  }
  return (
    `Poll comes within 5% of epoll (N=${n}, K ready): ${catchUp.join('; ')}. ` +
    `The course notes' claim that select is better when most connections are busy, checked with ` +
    `K=${kMax} of N=${n} ready: ${claim.join('; ')}.`
  );
}

/** A paragraph that says what the run shows, written from the figures. */
export function verdict(index: CellIndex, info: RunInfo, results: TargetResult[]): string {
  const idle0 = scaling(index.cells, 'idle-scaling').filter((s) => s.timeoutMs === 0 && s.active === 1);
  const find = (backend: string, api: string) => idle0.find((s) => s.backend === backend && s.api === api);
  const say: string[] = [];
  const ep = find('epoll', 'raw');
  if (ep) {
    const a = ep.cells[0];
    const b = ep.cells[ep.cells.length - 1];
    say.push(
      `epoll's cost per call stays nearly flat with the number of idle sockets (${fmtNs(a.medianNs)} at N=${a.n}, ` +
        `${fmtNs(b.medianNs)} at N=${b.n}, ${fmtSlope(ep.nsPerFd)} ns per idle fd)`,
    );
  }
  const linear = ['poll', 'select']
    .map((b) => find(b, 'raw'))
    .filter((s): s is NonNullable<typeof s> => !!s)
    .map((s) => `${s.backend} ${fmtSlope(s.nsPerFd)} ns`);
  if (linear.length) say.push(`poll and select pay for every watched fd on every call (${linear.join(', ')} per idle fd)`);
  const cEp = find('c-epoll', 'raw');
  if (ep && cEp) {
    const r = ep.cells.map((c) => ratio(c, index.cFloor(c))).filter(Number.isFinite);
    if (r.length) say.push(`iomux's epoll poll() costs ${fmtRatio(Math.min(...r))}-${fmtRatio(Math.max(...r))} the C floor`);
  }
  const met = results.filter((t) => t.met === true).length;
  const missed = results.filter((t) => t.met === false).map((t) => t.name);
  const measured = results.filter((t) => t.met !== null).length;
  const tail = missed.length
    ? `${met} of ${results.length} targets are met; missed: ${missed.join('; ')} (causes above, under the targets).`
    : measured === 0
      ? 'No target was measured (this run has none of their cells).'
      : `${met} of ${results.length} targets are met${measured < results.length ? ' (the rest were not measured)' : ''}.`;
  const uring = ioUringVerdict(index, info.echo);
  const facts = say.length ? ` ${say.join('; ')}.` : ':';
  return `On this machine (${info.cpu}, ${info.cores} cores, Node ${info.node})${facts} ${sweepAnswer(index)} ${tail}${uring ? ` ${uring}` : ''}`;
}

/** A ratio with the p25-p75 of the per-round ratios, where the cells have rounds: 1.52x (1.48-1.57). */
function withSpread(a: Cell, b: Cell | undefined): string {
  const [lo, hi] = ratioSpread(a, b);
  const r = fmtRatio(ratio(a, b));
  return Number.isFinite(lo) ? `${r} (${lo.toFixed(2)}-${hi.toFixed(2)})` : r;
}

/** Formats a slope in ns per idle fd, without a "-0.00" for a flat line. */
function fmtSlope(x: number): string {
  if (!Number.isFinite(x)) return '-';
  const s = x.toFixed(Math.abs(x) < 10 ? 3 : 1);
  return /^-0\.0*$/.test(s) ? s.slice(1) : s;
}

/** The whole stdout report, with the causes of missed targets worked out from the figures. */
export function renderReport(cells: Cell[], info: RunInfo): string {
  const index = new CellIndex(cells);
  const out: string[] = [];
  out.push(
    `iomux bench: Node ${info.node}, ${info.cpu}, ${info.cores} cores, ${info.kernel}`,
    `RLIMIT_NOFILE soft ${info.nofile.raisedFrom} raised to ${info.nofile.soft} (hard ${info.nofile.hard}); ` +
      `max N = ${info.maxN}, capped by ${info.cappedBy}`,
    `${info.rounds} round(s), ${info.timePerCellMs} ms per cell in all, series in rotating order; ` +
      `fd blocks: ${Object.entries(info.blocks).map(([n, b]) => `N=${n}: ${b}`).join(', ')}`,
    ...(info.timerNsPerRead !== undefined
      ? [`timing: batches of k calls between two clock reads (k calibrated to about ${info.batchMs} ms per batch, in ` +
          `callsPerSample); one sample = one batch's mean; one clock read costs ${info.timerNsPerRead.toFixed(1)} ns ` +
          `here, so at most ${(2 * info.timerNsPerRead / Math.max(1, minCalls(cells))).toFixed(2)} ns of a per-call figure in the cell with the fewest calls per batch`]
      : []),
    ...spreadLines(info),
    ...(info.runSeconds !== undefined ? [`run time: ${info.runSeconds.toFixed(0)} s`] : []),
    ...(info.load
      ? [`load average (1 min) ${info.load[0].toFixed(2)} before, ${info.load[1].toFixed(2)} after, on ${info.cores} cores: ` +
          'other processes share the machine when it is above 1, and large-N cells then scatter most']
      : []),
    ...info.notes,
    '',
  );
  const idle = cells.filter((c) => c.scenario === 'idle-scaling');
  for (const t of [...new Set(idle.map((c) => c.timeoutMs))].sort((a, b) => a - b)) {
    const cellsT = idle.filter((c) => c.timeoutMs === t);
    const fits = new Map(scaling(cellsT, 'idle-scaling').map((s) => [s.series, s]));
    out.push(`== idle scaling, timeout ${t} ms: median per call (N idle sockets + 1 active)`);
    out.push(
      matrix(cellsT, 'n', (c) => mark(fmtNs(c.medianNs), c), (row) => {
        const s = fits.get(seriesOf(row[0]));
        return s ? [fmtSlope(s.nsPerFd), fmtRatio(s.maxOverMin)] : ['-', '-'];
      }, ['ns/idle fd', 'maxN/minN']),
      '',
    );
    const mine = cellsT.filter((c) => familyOf(c.backend) === 'iomux');
    out.push(`-- iomux / C floor, timeout ${t} ms: fastest batch over fastest batch, or the per-round median where a batch is < ${MIN_CALLS_FOR_FASTEST} calls (p25-p75 of the per-round ratios)`);
    out.push(matrix(mine, 'n', (c) => mark(withSpread(c, index.cFloor(c)), c, index.cFloor(c))), '');
    out.push(`-- iomux / C floor with one idle thread (C-mt), timeout ${t} ms`);
    out.push(matrix(mine, 'n', (c) => mark(fmtRatio(ratio(c, index.cThreaded(c))), c, index.cThreaded(c))), '');
    // Neither the N-API floor nor CPython has an io_uring call: those rows would be all '-'.
    const known = mine.filter((c) => c.backend !== 'io_uring');
    out.push(`-- iomux / N-API floor (the same call through the thinnest Node-API function), timeout ${t} ms`);
    out.push(matrix(known, 'n', (c) => mark(fmtRatio(ratio(c, index.napiFloor(c))), c, index.napiFloor(c))), '');
    out.push(`-- iomux / CPython (same call), timeout ${t} ms`);
    out.push(matrix(known, 'n', (c) => mark(fmtRatio(ratio(c, index.cpython(c))), c, index.cpython(c))), '');
  }
  if (cells.some(scattered)) out.push(SCATTER_NOTE, '');
  const sweep = cells.filter((c) => c.scenario === 'activity-sweep');
  if (sweep.length) {
    out.push(`== activity sweep: N=${sweep[0].n} sockets of which K are readable, timeout 0: median per call`);
    out.push(matrix(sweep, 'active', (c) => mark(fmtNs(c.medianNs), c)), '', sweepAnswer(index), '');
  }
  const churn = cells.filter((c) => c.scenario === 'register-churn');
  if (churn.length) {
    out.push('== registration churn: register + unregister one fd beside N registered ones: median per pair');
    out.push(matrix(churn, 'n', (c) => mark(fmtNs(c.medianNs), c)), '');
  }
  const batch = cells.filter((c) => c.scenario === 'register-batch');
  if (batch.length) {
    out.push('== register-batch: 64 register + unregister pairs per call (io_uring: all in one io_uring_enter): median per pair');
    out.push(matrix(batch, 'n', (c) => mark(fmtNs(c.medianNs), c)), '');
  }
  const results = targets(index);
  out.push('== targets (measured on this machine)');
  for (const r of results) {
    out.push(`${r.met === null ? '[ n/a ]' : r.met ? '[ met ]' : '[MISSED]'} ${r.name}  (worst: ${r.worst})`);
  }
  const why = explain(index, results);
  if (why.length) out.push('', 'Why targets were missed (from the figures; profiles in docs/benchmark.md):', ...why.map((c) => `  - ${c}`));
  if (info.echo) out.push('', echoTable(info.echo));
  const uringTables = ioUringTables(index, info.echo);
  if (uringTables) out.push('', uringTables);
  out.push('', '== verdict', verdict(index, info, results), '');
  out.push(`== every cell: median [p25-p75] (min-max) over batches, batches x calls per batch; ratios (fastest batch over fastest batch; the per-round median where a batch is < ${MIN_CALLS_FOR_FASTEST} calls) against C, C-mt, N-API, CPython`);
  out.push(
    grid([
      ['scenario', 'series', 'N', 'K', 'timeout', 'median', 'p25-p75', 'min-max', 'batches', 'k', 'xC', 'xC-mt', 'xN-API', 'xCPython'],
      ...[...cells].sort((a, b) => a.scenario.localeCompare(b.scenario) || a.n - b.n || a.active - b.active || a.timeoutMs - b.timeoutMs || bySeries(a, b)).map((c) => [
        c.scenario,
        seriesOf(c),
        String(c.n),
        String(c.active),
        `${c.timeoutMs}`,
        fmtNs(c.medianNs),
        `${fmtNs(c.p25Ns)}-${fmtNs(c.p75Ns)}`,
        `${fmtNs(c.minNs)}-${fmtNs(c.maxNs)}`,
        String(c.samples),
        String(c.callsPerSample),
        fmtRatio(ratio(c, index.cFloor(c))),
        fmtRatio(ratio(c, index.cThreaded(c))),
        fmtRatio(ratio(c, index.napiFloor(c))),
        fmtRatio(ratio(c, index.cpython(c))),
      ]),
    ]),
  );
  return out.join('\n') + '\n';
}
