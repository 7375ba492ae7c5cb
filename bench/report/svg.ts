/**
 * `--svg FILE`: log-log ns/call against N, one line per backend/API and peer, drawn with
 * vega-lite (compiled to a vega spec) and rendered by vega's headless View.toSVG().
 */
import { writeFileSync } from 'node:fs';
import { type Cell, familyOf, seriesOf } from './cells';

// vega and vega-lite are ES modules only; this keeps a real import() after tsc compiles the
// bench to CommonJS (tsc would otherwise turn it into require(), which cannot load them).
const importEsm = new Function('m', 'return import(m)') as (m: string) => Promise<any>;

/** The vega-lite spec for the idle-scaling cells at one timeout. */
export function scalingSpec(cells: Cell[], timeoutMs = 0): Record<string, unknown> {
  const values = cells
    .filter((c) => c.scenario === 'idle-scaling' && c.timeoutMs === timeoutMs)
    .map((c) => ({ n: c.n, ns: c.medianNs, p25: c.p25Ns, p75: c.p75Ns, series: seriesOf(c), family: familyOf(c.backend) }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `iomux: cost of one wait call vs watched sockets (timeout ${timeoutMs} ms, 1 active)`,
      subtitle: 'median ns per call, log-log; solid: iomux, dashed: C floor, dotted: CPython',
    },
    width: 640,
    height: 420,
    background: 'white',
    data: { values },
    encoding: {
      x: { field: 'n', type: 'quantitative', scale: { type: 'log' }, title: 'N idle sockets' },
      y: { field: 'ns', type: 'quantitative', scale: { type: 'log' }, title: 'ns per call (median)' },
      color: { field: 'series', type: 'nominal', title: 'backend / peer' },
      strokeDash: {
        field: 'family',
        type: 'nominal',
        scale: { domain: ['iomux', 'C', 'CPython'], range: [[1, 0], [6, 3], [2, 2]] },
        title: 'family',
      },
    },
    layer: [
      { mark: { type: 'line', point: { filled: true, size: 30 } } },
      {
        mark: { type: 'rule', opacity: 0.5 },
        encoding: { y: { field: 'p25', type: 'quantitative' }, y2: { field: 'p75' }, strokeDash: { value: [1, 0] } },
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
