/**
 * Ratios between iomux and its peers on the same cell, the per-series scaling figures, and the
 * project's speed targets checked against one run's cells.
 */
import { type Cell, familyOf, fmtNs, fmtRatio, ratio, scattered, seriesOf, slope } from './cells';

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
  /** The C floor run with one more (idle) thread, as a Node process always has. */
  cThreaded(c: Cell): Cell | undefined {
    if (familyOf(c.backend) !== 'iomux') return undefined;
    return this.get({ ...c, backend: `c-mt-${c.backend}`, api: 'raw' });
  }
  /**
   * The Node-API floor of an iomux cell: the same call through the thinnest Node-API function.
   * pollInto() on epoll against epoll_wait into an Int32Array (napi-epoll pollInto()); every
   * other epoll call against epoll_wait into a fixed buffer (napi-epoll); poll and select
   * against napi-poll and napi-select.
   */
  napiFloor(c: Cell): Cell | undefined {
    if (familyOf(c.backend) !== 'iomux') return undefined;
    const api = c.backend === 'epoll' && c.api === 'pollInto' ? 'pollInto' : 'raw';
    return this.get({ ...c, backend: `napi-${c.backend}`, api });
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
    const r = ratio(a, b);
    if (!worst || r > worst.r) {
      worst = { r, where: `${a.scenario} ${seriesOf(a)} N=${a.n} K=${a.active} t=${a.timeoutMs}: ${r.toFixed(2)}x ${seriesOf(b)}` };
    }
  }
  return {
    name,
    met: worst ? worst.r <= limit : null,
    worst: worst ? worst.where : 'not measured',
    checked,
  };
}

/** Checks the benchmark's targets on the idle-scaling cells of one run. */
export function targets(index: CellIndex): TargetResult[] {
  const idle = index.cells.filter((c) => c.scenario === 'idle-scaling');
  const mine = (backend: string, api: string) => idle.filter((c) => c.backend === backend && c.api === api);
  const vs = (cells: Cell[], floor: (c: Cell) => Cell | undefined) => cells.map((c) => [c, floor(c)] as [Cell, Cell | undefined]);
  const napi = (c: Cell) => index.napiFloor(c);
  const cMt = (c: Cell) => index.cThreaded(c);
  const big = (cells: Cell[]) => cells.filter((c) => c.n >= 1000);
  const out: TargetResult[] = [];
  out.push(check('epoll pollInto() <= 1.05x the N-API floor (epoll_wait into an Int32Array), every N', vs(mine('epoll', 'pollInto'), napi), 1.05));
  out.push(check('epoll poll() <= 1.2x the N-API floor (epoll_wait into a fixed buffer), every N', vs(mine('epoll', 'raw'), napi), 1.2));
  out.push(check('DefaultSelector (epoll) select() <= 1.2x the N-API floor, every N', vs(mine('epoll', 'selectors'), napi), 1.2));
  out.push(check('poll poll() <= 1.1x C-mt poll at N >= 1000', vs(big(mine('poll', 'raw')), cMt), 1.1));
  out.push(check('select() (allowLargeFds) <= 1.1x C-mt select at N >= 1000', vs(big(mine('select', 'raw')), cMt), 1.1));
  const cp = index.cells
    .filter((c) => c.backend === 'epoll')
    .map((c) => [c, index.cpython(c)] as [Cell, Cell | undefined]);
  out.push(check("faster than CPython's same call in every epoll cell", cp, 1.0));
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
 * Explains missed targets from the figures: how far over the floor each miss is, in ns and as
 * a ratio, whether that gap is a fixed cost per call or grows with N, and what the floors
 * themselves cost over each other (C -> C with a thread -> the thinnest Node-API call). The
 * profiles behind the fixed costs are in docs/benchmark.md.
 */
export function causes(index: CellIndex, results: TargetResult[]): string[] {
  const out: string[] = [];
  const idle = index.cells.filter((c) => c.scenario === 'idle-scaling' && c.timeoutMs === 0);
  const missed = (prefix: string) => results.some((r) => r.met === false && r.name.startsWith(prefix));
  for (const [api, prefix] of [['pollInto', 'epoll pollInto()'], ['raw', 'epoll poll()'], ['selectors', 'DefaultSelector']] as const) {
    if (!missed(prefix)) continue;
    const cells = idle.filter((c) => c.backend === 'epoll' && c.api === api && index.napiFloor(c));
    // The fastest batches, as the ratios (medians taken a few ms apart can even come out negative).
    const gaps = cells.map((c) => c.minNs - index.napiFloor(c)!.minNs);
    const ratios = cells.map((c) => ratio(c, index.napiFloor(c)));
    const napiOverC = cells.map((c) => ratio(index.napiFloor(c)!, index.cThreaded(c)));
    const gapSlope = slope(cells.map((c, i) => [c.n, gaps[i]]));
    out.push(
      `${prefix}: ${range(ratios, fmtRatio)} the N-API floor, ${range(gaps, fmtNs)} more per call (fastest batches, timeout 0); the gap ` +
        `${Math.abs(gapSlope) < 0.005 ? 'does not grow with N' : `changes by ${gapSlope.toFixed(3)} ns per idle fd`}, so it is ` +
        `work per call in the addon and in lib/ (argument checks, unwrapping, ${api === 'pollInto' ? 'the (fd, events) copy' : 'building the result arrays'}), ` +
        `not kernel work; the N-API floor itself costs ${range(napiOverC, fmtRatio)} C with a thread.`,
    );
  }
  for (const backend of ['poll', 'select']) {
    const name = backend === 'poll' ? 'poll poll()' : 'select()';
    if (!missed(name)) continue;
    // Steady cells (theirs and their floors' p75 <= 1.5 x p25) when there are any; a busy
    // machine's scattered cells are used otherwise, and said to be.
    const all = idle.filter((c) => c.backend === backend && c.api === 'raw' && c.n >= 1000 && index.cThreaded(c));
    const steady = all.filter((c) => ![c, index.cThreaded(c), index.napiFloor(c)].some(scattered));
    const cells = steady.length ? steady : all;
    if (cells.length === 0) continue;
    const vsMt = cells.map((c) => ratio(c, index.cThreaded(c)));
    const vsNapi = cells.map((c) => ratio(c, index.napiFloor(c)));
    const napiVsMt = cells.map((c) => (index.napiFloor(c) ? ratio(index.napiFloor(c)!, index.cThreaded(c)) : NaN));
    const where = `${steady.length ? 'steady cells' : 'no cell was steady (the machine was busy): all cells'}: ${cells.map((c) => `N=${c.n}`).join(', ')}`;
    out.push(
      `${name} at N >= 1000 (${where}): ${range(vsMt, fmtRatio)} C with a thread, ${range(vsNapi, fmtRatio)} ` +
        `the N-API floor, which itself costs ${range(napiVsMt, fmtRatio)} C with a thread. Both floors pay the ` +
        `kernel's per-fd work; what stays above the N-API floor is iomux's own per-call work in JS and the addon` +
        `${backend === 'select' ? ' (raw select() rebuilds its fd array and three result arrays on every call)' : ''}.`,
    );
  }
  if (missed('faster than CPython')) {
    const losers = new Map<string, { n: number; worst: number }>();
    for (const c of index.cells) {
      const py = index.cpython(c);
      const r = ratio(c, py);
      if (c.backend !== 'epoll' || !py || !(r > 1)) continue;
      const k = `${c.scenario} ${seriesOf(c)}`;
      const e = losers.get(k) ?? { n: 0, worst: 0 };
      losers.set(k, { n: e.n + 1, worst: Math.max(e.worst, r) });
    }
    const list = [...losers].sort((a, b) => b[1].worst - a[1].worst).map(([k, v]) => `${k} (${v.n} cells, up to ${fmtRatio(v.worst)})`);
    out.push(`slower than CPython in: ${list.join('; ')}.`);
  }
  return out;
}
