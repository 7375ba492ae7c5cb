/**
 * io_uring against epoll, from one run's cells: the ratio of io_uring's fastest batch to epoll's
 * (as every ratio of the report: cells.ts ratio()) in every cell both measured (same API, same
 * sockets, same run; < 1 means io_uring is faster),
 * and a verdict that says where io_uring wins and loses, written from those ratios.
 */
import type { EchoInfo } from '../echo/types';
import { type Cell, fmtRatio, ratio, scattered } from './cells';
import type { CellIndex } from './compare';
import { grid } from './table';

/** One row of the comparison: an io_uring series and the epoll series it is set against. */
interface Pair {
  label: string;
  uring: { backend: string; api: string };
  epoll: { backend: string; api: string };
}

const PAIRS: Pair[] = [
  { label: 'iomux IoUring wait() / Epoll poll()', uring: { backend: 'io_uring', api: 'raw' }, epoll: { backend: 'epoll', api: 'raw' } },
  { label: 'iomux waitInto() / pollInto()', uring: { backend: 'io_uring', api: 'pollInto' }, epoll: { backend: 'epoll', api: 'pollInto' } },
  { label: 'iomux IoUringSelector / EpollSelector', uring: { backend: 'io_uring', api: 'selectors' }, epoll: { backend: 'epoll', api: 'selectors' } },
  { label: 'C io_uring / C epoll', uring: { backend: 'c-io_uring', api: 'raw' }, epoll: { backend: 'c-epoll', api: 'raw' } },
  { label: 'C-mt io_uring / C-mt epoll', uring: { backend: 'c-mt-io_uring', api: 'raw' }, epoll: { backend: 'c-mt-epoll', api: 'raw' } },
];

/** A block of the comparison: one scenario at one timeout, its columns N or K. */
interface Block {
  title: string;
  scenario: string;
  timeoutMs: number;
  col: 'n' | 'active';
}

const BLOCKS: Block[] = [
  { title: 'idle scaling, timeout 0 ms', scenario: 'idle-scaling', timeoutMs: 0, col: 'n' },
  { title: 'idle scaling, timeout 1000 ms', scenario: 'idle-scaling', timeoutMs: 1000, col: 'n' },
  { title: 'activity sweep', scenario: 'activity-sweep', timeoutMs: 0, col: 'active' },
  { title: 'registration churn (per register + unregister pair)', scenario: 'register-churn', timeoutMs: 0, col: 'n' },
  { title: 'register-batch (64 pairs per call; per pair)', scenario: 'register-batch', timeoutMs: 0, col: 'n' },
];

/** A row's ratios, by column value. */
interface Row {
  block: Block;
  pair: Pair;
  ratios: Map<number, { r: number; scattered: boolean }>;
}

function rows(index: CellIndex): Row[] {
  const out: Row[] = [];
  for (const block of BLOCKS) {
    const cells = index.cells.filter((c) => c.scenario === block.scenario && c.timeoutMs === block.timeoutMs);
    for (const pair of PAIRS) {
      const ratios = new Map<number, { r: number; scattered: boolean }>();
      for (const u of cells.filter((c) => c.backend === pair.uring.backend && c.api === pair.uring.api)) {
        const e: Cell | undefined = index.get({ ...u, ...pair.epoll });
        if (e) ratios.set(u[block.col], { r: ratio(u, e), scattered: scattered(u) || scattered(e) });
      }
      if (ratios.size) out.push({ block, pair, ratios });
    }
  }
  return out;
}

/** Ratios of the echo servers: IoUringSelector against DefaultSelector (epoll), per (C, A). */
function echoRatios(echo: EchoInfo | undefined): Array<{ conns: number; active: number; msgs: number; cpu: number }> {
  if (!echo) return [];
  const out: Array<{ conns: number; active: number; msgs: number; cpu: number }> = [];
  for (const u of echo.rows.filter((r) => r.server === 'iomux IoUringSelector')) {
    const e = echo.rows.find((r) => r.server === 'iomux DefaultSelector' && r.conns === u.conns && r.active === u.active);
    if (e) out.push({ conns: u.conns, active: u.active, msgs: u.msgsPerSec / e.msgsPerSec, cpu: u.cpuUsPerMsg / e.cpuUsPerMsg });
  }
  return out;
}

/** The comparison tables, or '' when the run has no io_uring cells. */
export function ioUringTables(index: CellIndex, echo?: EchoInfo): string {
  const all = rows(index);
  const ech = echoRatios(echo);
  if (all.length === 0 && ech.length === 0) return '';
  const out = [
    all.length
      ? '== io_uring against epoll: fastest batch of io_uring over fastest batch of epoll, same API, same cells (< 1: io_uring is faster)'
      : '== io_uring against epoll: the echo servers, IoUringSelector over DefaultSelector (< 1: io_uring is faster for CPU, slower for msgs/s)',
  ];
  for (const block of BLOCKS) {
    const mine = all.filter((r) => r.block === block);
    if (!mine.length) continue;
    const cols = [...new Set(mine.flatMap((r) => [...r.ratios.keys()]))].sort((a, b) => a - b);
    const head = [block.title, ...cols.map((v) => `${block.col === 'n' ? 'N' : 'K'}=${v}`)];
    const body = mine.map((r) => [r.pair.label, ...cols.map((v) => {
      const x = r.ratios.get(v);
      return x ? `${fmtRatio(x.r)}${x.scattered ? '*' : ''}` : 'n/a';
    })]);
    out.push(grid([head, ...body]), '');
  }
  if (ech.length) {
    out.push(grid([
      ['echo: IoUringSelector / DefaultSelector', 'C', 'A', 'msgs/s', 'CPU µs/msg'],
      ...ech.map((e) => ['', String(e.conns), String(e.active), fmtRatio(e.msgs), fmtRatio(e.cpu)]),
    ]), '');
  }
  return out.join('\n');
}

function span(xs: number[]): string {
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return lo === hi ? fmtRatio(lo) : `${fmtRatio(lo)}-${fmtRatio(hi)}`;
}

/** "faster at N=10 (0.47x), N=1000 (0.63x); slower at N=19000 (4.79x)": a mixed row by column. */
function split(cols: Array<[string, number]>): string {
  const part = (what: string, keep: (r: number) => boolean) => {
    const xs = cols.filter(([, r]) => keep(r));
    return xs.length ? [`${what} at ${xs.map(([c, r]) => `${c} (${fmtRatio(r)})`).join(', ')}`] : [];
  };
  return [...part('faster', (r) => r < 0.95), ...part('slower', (r) => r > 1.05), ...part('within 5%', (r) => r >= 0.95 && r <= 1.05)].join('; ');
}

/**
 * Where io_uring wins and loses against epoll, from the ratios (a cell within 5% is a tie), or
 * null when the run measured no io_uring series.
 */
export function ioUringVerdict(index: CellIndex, echo?: EchoInfo): string | null {
  const wins: string[] = [];
  const losses: string[] = [];
  const mixed: string[] = [];
  for (const r of rows(index)) {
    const xs = [...r.ratios.values()].map((x) => x.r);
    const where = `${r.block.title}, ${r.pair.label} ${span(xs)}`;
    if (xs.every((x) => x < 0.95)) wins.push(where);
    else if (xs.every((x) => x > 1.05)) losses.push(where);
    else mixed.push(`${where} (${split([...r.ratios].map(([v, x]) => [`${r.block.col === 'n' ? 'N' : 'K'}=${v}`, x.r]))})`);
  }
  const ech = echoRatios(echo);
  if (ech.length) {
    const m = ech.map((e) => e.msgs);
    const c = ech.map((e) => e.cpu);
    const where = `echo, IoUringSelector / DefaultSelector msgs/s ${span(m)}, server CPU per message ${span(c)}`;
    if (c.every((x) => x < 0.95)) wins.push(where);
    else if (c.every((x) => x > 1.05)) losses.push(where);
    else mixed.push(where);
  }
  if (!wins.length && !losses.length && !mixed.length) return null;
  const say = (what: string, xs: string[]) => (xs.length ? `${what}: ${xs.join('; ')}.` : `${what}: nowhere.`);
  return [
    'io_uring against epoll, measured in this run (fastest batch over fastest batch, io_uring / epoll):',
    say('io_uring wins (faster by more than 5% in every cell)', wins),
    say('io_uring loses (slower by more than 5% in every cell)', losses),
    ...(mixed.length ? [say('mixed or within 5%', mixed)] : []),
  ].join(' ');
}
