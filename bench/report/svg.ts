/**
 * `--svg FILE`: log-log ns/call against N, one line per backend/API and peer (the C, C-mt and
 * N-API floors among them), drawn with vega-lite (compiled to a vega spec) and rendered by
 * vega's headless View.toSVG(). vega and vega-lite are optional dependencies: without them
 * --svg says which packages to add.
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { type Cell, familyOf, seriesOf } from './cells';

// vega and vega-lite are ES modules only; this keeps a real import() after tsc compiles the
// bench to CommonJS (tsc would otherwise turn it into require(), which cannot load them). The
// module is located with require.resolve, so that it is found from any working directory.
const importUrl = new Function('u', 'return import(u)') as (url: string) => Promise<any>;
/** The packages --svg needs that cannot be found from here (vega, vega-lite). */
export function missingSvgPackages(): string[] {
  return ['vega', 'vega-lite'].filter((name) => {
    try {
      require.resolve(name);
      return false;
    } catch {
      return true;
    }
  });
}

async function importEsm(name: string): Promise<any> {
  let file: string;
  try {
    file = require.resolve(name);
  } catch {
    throw new Error(`--svg needs the packages vega and vega-lite: npm install vega vega-lite (${name} is missing)`);
  }
  return importUrl(pathToFileURL(file).href);
}

const DASHES: Record<string, number[]> = { iomux: [1, 0], 'N-API': [4, 2], C: [8, 4], 'C+thread': [8, 3, 2, 3], CPython: [2, 3] };
const COLOURS: Record<string, string> = { select: '#d62728', poll: '#1f77b4', epoll: '#2ca02c', kqueue: '#9467bd', io_uring: '#ff7f0e' };

/** The vega-lite spec for the idle-scaling cells at one timeout. */
export function scalingSpec(cells: Cell[], timeoutMs = 0): Record<string, unknown> {
  const values = cells
    .filter((c) => c.scenario === 'idle-scaling' && c.timeoutMs === timeoutMs)
    .map((c) => ({
      n: c.n,
      ns: c.medianNs,
      p25: c.p25Ns,
      p75: c.p75Ns,
      series: seriesOf(c),
      family: familyOf(c.backend),
      mechanism: c.backend.replace(/^(c-mt|c|cpython|napi)-/, ''),
      api: c.api === 'raw' ? 'select() / poll() / wait()' : c.api === 'pollInto' ? 'pollInto() / waitInto()' : 'selectors',
    }));
  const families = (['iomux', 'N-API', 'C', 'C+thread', 'CPython'] as const).filter((f) => values.some((v) => v.family === f));
  const mechanisms = ['select', 'poll', 'epoll', 'kqueue', 'io_uring'].filter((m) => values.some((v) => v.mechanism === m));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `iomux: cost of one wait call vs watched sockets (timeout ${timeoutMs} ms, 1 active)`,
      subtitle: [
        'median ns per call over batches (bars: p25-p75), log-log; colour: mechanism, mark: API,',
        'line: iomux, the N-API floor, the C floor, C with one more thread (C+thread), CPython',
      ],
    },
    width: 640,
    height: 420,
    background: 'white',
    data: { values },
    encoding: {
      x: { field: 'n', type: 'quantitative', scale: { type: 'log', nice: false, padding: 8 }, title: 'N idle sockets (+1 active)' },
      y: { field: 'ns', type: 'quantitative', scale: { type: 'log', nice: false, padding: 8 }, title: 'ns per call (median)' },
      color: {
        field: 'mechanism',
        type: 'nominal',
        scale: { domain: mechanisms, range: mechanisms.map((m) => COLOURS[m] ?? '#7f7f7f') },
        title: 'mechanism',
      },
      detail: { field: 'series', type: 'nominal' },
      tooltip: [{ field: 'series' }, { field: 'n' }, { field: 'ns' }],
    },
    layer: [
      {
        mark: { type: 'line', strokeWidth: 1.5 },
        encoding: {
          strokeDash: {
            field: 'family',
            type: 'nominal',
            scale: { domain: families, range: families.map((f) => DASHES[f]) },
            legend: { symbolType: 'stroke', symbolStrokeColor: '#333', symbolStrokeWidth: 2, symbolSize: 400 },
            title: 'who',
            labelLimit: 200,
          },
        },
      },
      {
        mark: { type: 'point', filled: true, size: 40 },
        encoding: {
          shape: {
            field: 'api',
            type: 'nominal',
            scale: { domain: ['select() / poll() / wait()', 'pollInto() / waitInto()', 'selectors'], range: ['circle', 'triangle-up', 'square'] },
            title: 'API',
          },
        },
      },
      {
        mark: { type: 'rule', opacity: 0.5 },
        encoding: { y: { field: 'p25', type: 'quantitative' }, y2: { field: 'p75' } },
      },
    ],
  };
}

/** Renders the plot to SVG text. */
export async function renderSvg(cells: Cell[], timeoutMs = 0): Promise<string> {
  const vl = await importEsm('vega-lite');
  const vega = await importEsm('vega');
  const compiled = vl.compile(scalingSpec(cells, timeoutMs)).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg: string = await view.toSVG();
  view.finalize();
  return svg;
}

/** Writes the plot to file. */
export async function writeSvg(file: string, cells: Cell[], timeoutMs = 0): Promise<void> {
  writeFileSync(file, await renderSvg(cells, timeoutMs));
}
