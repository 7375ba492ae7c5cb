/**
 * Ratios between iomux and its peers on the same cell, the per-series scaling figures, and the
 * project's speed targets checked against one run's cells.
 */
import { type Cell, familyOf, fmtNs, fmtRatio, scattered, seriesOf, slope } from './cells';

function key(c: Pick<Cell, 'scenario' | 'backend' | 'api' | 'n' | 'active' | 'timeoutMs'>): string {
  return `${c.scenario}|${c.backend}|${c.api}|${c.n}|${c.active}|${c.timeoutMs}`;
}

/** Finds cells by their coordinates. */
export class CellIndex {
  readonly #map = new Map<string, Cell>();
  constructor(readonly cells: Cell[]) {
    for (const c of cells) this.#map.set(key(c), c);
  }
  get(c: Pick<Cell, 'scenario' | 'backend' | 'api' | 'n' | 'active' | 'timeoutMs'>): Cell | undefined {
    return this.#map.get(key(c));
  }
  /** The C floor of an iomux cell: the same kernel call in C, on the same sockets. */
  cFloor(c: Cell): Cell | undefined {
    if (familyOf(c.backend) !== 'iomux') return undefined;
    return this.get({ ...c, backend: `c-${c.backend}`, api: 'raw' });
  }
  /** The C floor run with one more (idle) thread, as a Node process always has; poll and select only. */
  cThreaded(c: Cell): Cell | undefined {
    if (familyOf(c.backend) !== 'iomux') return undefined;
    return this.get({ ...c, backend: `c-mt-${c.backend}`, api: 'raw' });
  }
  /** CPython's same call: select/poll/epoll for the raw APIs, the same selector for selectors. */
  cpython(c: Cell): Cell | undefined {
    if (familyOf(c.backend) !== 'iomux') return undefined;
    return this.get({ ...c, backend: `cpython-${c.backend}`, api: c.api === 'pollInto' ? 'raw' : c.api });
  }
}

/** Scaling figures of one series at one timeout (and activity) across its sizes. */
export interface SeriesScaling {
  scenario: string;
  series: string;
  backend: string;
  api: string;
  timeoutMs: number;
  active: number;
  /** Least-squares slope of median ns over N: the cost of one more watched fd. */
  nsPerFd: number;
  /** Median at the largest N over the median at the smallest N. */
  maxOverMin: number;
  cells: Cell[];
}

/** Groups the cells of a scenario (one activity level) into series and fits each. */
export function scaling(cells: Cell[], scenario: string): SeriesScaling[] {
  const groups = new Map<string, Cell[]>();
  for (const c of cells) {
    if (c.scenario !== scenario) continue;
    const k = `${c.backend}|${c.api}|${c.timeoutMs}|${c.active}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(c);
  }
  return [...groups.values()].map((g) => {
    g.sort((a, b) => a.n - b.n);
    const first = g[0];
    return {
      scenario,
      series: seriesOf(first),
      backend: first.backend,
      api: first.api,
      timeoutMs: first.timeoutMs,
      active: first.active,
      nsPerFd: slope(g.map((c) => [c.n, c.medianNs])),
      maxOverMin: g[g.length - 1].medianNs / first.medianNs,
      cells: g,
    };
  });
}

/** One speed target and how this run did against it. */
export interface TargetResult {
  name: string;
  met: boolean | null; // null: nothing was measured that the target speaks about
  worst: string;
  checked: number;
}

function check(
  name: string,
  pairs: Array<[Cell, Cell | undefined]>,
  limit: number,
): TargetResult {
  let worst: { r: number; where: string } | null = null;
  let checked = 0;
  for (const [a, b] of pairs) {
    if (!b) continue;
    checked++;
    const r = a.medianNs / b.medianNs;
    if (!worst || r > worst.r) {
      worst = { r, where: `${seriesOf(a)} N=${a.n} K=${a.active} t=${a.timeoutMs}: ${r.toFixed(2)}x ${seriesOf(b)}` };
    }
  }
  return {
    name,
    met: worst ? worst.r <= limit : null,
    worst: worst ? worst.where : 'not measured',
    checked,
  };
}

/** Checks the benchmark issue's targets on the idle-scaling cells of one run. */
export function targets(index: CellIndex): TargetResult[] {
  const idle = index.cells.filter((c) => c.scenario === 'idle-scaling');
  const mine = (backend: string, api: string) =>
    idle.filter((c) => c.backend === backend && c.api === api);
  const vsC = (cells: Cell[]) => cells.map((c) => [c, index.cFloor(c)] as [Cell, Cell | undefined]);
  const out: TargetResult[] = [];
  out.push(check('epoll poll() <= 1.5x C epoll_wait, every N', vsC(mine('epoll', 'raw')), 1.5));
  out.push(check('epoll pollInto() <= 1.2x C epoll_wait, every N', vsC(mine('epoll', 'pollInto')), 1.2));
  out.push(check('DefaultSelector (epoll selectors) select() <= 2.5x C epoll_wait', vsC(mine('epoll', 'selectors')), 2.5));
  // The growth target compares a series with itself: max N against N = smallest.
  const growth: Array<[Cell, Cell | undefined]> = [];
  for (const s of scaling(mine('epoll', 'raw'), 'idle-scaling')) {
    if (s.cells.length >= 2) growth.push([s.cells[s.cells.length - 1], s.cells[0]]);
  }
  out.push(check('epoll poll() at max N within 1.5x of the smallest N', growth, 1.5));
  const big = (cells: Cell[]) => cells.filter((c) => c.n >= 1000);
  out.push(check('poll poll() <= 1.2x C poll at N >= 1000', vsC(big(mine('poll', 'raw'))), 1.2));
  out.push(check('select() (allowLargeFds) <= 1.2x C select at N >= 1000', vsC(big(mine('select', 'raw'))), 1.2));
  const cp = index.cells
    .filter((c) => familyOf(c.backend) === 'iomux')
    .map((c) => [c, index.cpython(c)] as [Cell, Cell | undefined]);
  out.push(check("faster than CPython's same call in every cell", cp, 1.0));
  return out;
}

function range(xs: number[], fmt: (x: number) => string): string {
  const ok = xs.filter(Number.isFinite);
  if (ok.length === 0) return '-';
  const lo = Math.min(...ok);
  const hi = Math.max(...ok);
  return lo === hi ? fmt(lo) : `${fmt(lo)}-${fmt(hi)}`;
}

/**
 * Explains missed targets from the figures themselves: whether a gap to C is a fixed cost per
 * call or grows with N, what the C floor with one more thread costs, and which cells lose to
 * CPython. Profiles (perf, strace -c) behind these explanations are in the README.
 */
export function causes(index: CellIndex, results: TargetResult[]): string[] {
  const out: string[] = [];
  const idle = index.cells.filter((c) => c.scenario === 'idle-scaling');
  const missed = (prefix: string) => results.some((r) => r.met === false && r.name.startsWith(prefix));
  for (const [api, prefix] of [['raw', 'epoll poll()'], ['pollInto', 'epoll pollInto()'], ['selectors', 'DefaultSelector']] as const) {
    if (!missed(prefix)) continue;
    const cells = idle.filter((c) => c.backend === 'epoll' && c.api === api && c.timeoutMs === 0);
    const gaps = cells.map((c) => c.medianNs - (index.cFloor(c)?.medianNs ?? NaN));
    const mine = slope(cells.map((c) => [c.n, c.medianNs]));
    out.push(
      `${prefix}: iomux is ${range(gaps, fmtNs)} slower than C at every N (timeout 0), a fixed cost per call ` +
        `(its slope is ${mine.toFixed(3)} ns per idle fd): the kernel work is the same, the gap is the call ` +
        `from JavaScript into the addon and back.`,
    );
  }
  for (const backend of ['poll', 'select']) {
    const name = backend === 'poll' ? 'poll poll()' : 'select()';
    if (!missed(name)) continue;
    // Only cells whose samples (and the peers') are steady: a busy machine says nothing here.
    const all = idle.filter((c) => c.backend === backend && c.api === 'raw' && c.n >= 1000);
    const cells = all.filter((c) => ![c, index.cFloor(c), index.cThreaded(c)].some(scattered));
    const vsC = cells.map((c) => c.medianNs / (index.cFloor(c)?.medianNs ?? NaN));
    const vsMt = cells.map((c) => c.medianNs / (index.cThreaded(c)?.medianNs ?? NaN));
    const cMt = cells.map((c) => (index.cThreaded(c)?.medianNs ?? NaN) / (index.cFloor(c)?.medianNs ?? NaN));
    const where = cells.map((c) => `N=${c.n} t=${c.timeoutMs}`).join(', ') || 'no steady cell';
    out.push(
      `${name} at N >= 1000 (steady cells: ${where}): ${range(vsC, fmtRatio)} the single-threaded C floor, but ${range(vsMt, fmtRatio)} ` +
        `the same C loop with one idle thread (which itself costs ${range(cMt, fmtRatio)} the single-threaded ` +
        `loop): Linux's fdget() skips the atomic reference count only when no other thread shares the fd ` +
        `table, and a Node process always has threads, so every watched fd costs more per call in any addon.`,
    );
  }
  if (missed('faster than CPython')) {
    const losers = new Map<string, { n: number; worst: number }>();
    for (const c of index.cells) {
      const py = index.cpython(c);
      if (!py || c.medianNs <= py.medianNs) continue;
      const k = `${c.scenario} ${seriesOf(c)}`;
      const r = c.medianNs / py.medianNs;
      const e = losers.get(k) ?? { n: 0, worst: 0 };
      losers.set(k, { n: e.n + 1, worst: Math.max(e.worst, r) });
    }
    const list = [...losers].sort((a, b) => b[1].worst - a[1].worst).map(([k, v]) => `${k} (${v.n} cells, up to ${fmtRatio(v.worst)})`);
    out.push(`slower than CPython in: ${list.join('; ')}.`);
  }
  return out;
}
