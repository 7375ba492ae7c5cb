/**
 * `iomux bench --quick --json FILE` writes one record per cell with the documented fields;
 * the option parser takes what the issue lists and refuses what it does not know.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseOptions, runBench } from '../../bench/index';
import { CELL_FIELDS } from '../../bench/report/json';
import { toCsv } from '../../bench/report/csv';
import { fdRanges } from '../../bench/peers/run';
import { spawnSync } from 'node:child_process';

const has = (cmd: string) => !spawnSync(cmd, ['--version']).error;

const dir = mkdtempSync(path.join(tmpdir(), 'iomux-bench-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bench options', () => {
  it('has the issue defaults and resolves max', () => {
    const o = parseOptions([], 19000);
    expect(o.sizes).toEqual([10, 100, 1000, 5000, 10000, 19000]);
    expect(o.active).toEqual([1, 10, 100, 500, 1000]);
    expect(o.peers).toEqual(['c', 'c-mt', 'cpython']);
  });

  it('takes lists, --no-peers and --quick', () => {
    const o = parseOptions(['--sizes', '10,max', '--api=raw,pollInto', '--no-peers', '--quick', '--time', '7'], 500);
    expect(o.sizes).toEqual([10, 500]);
    expect(o.apis).toEqual(['raw', 'pollInto']);
    expect(o.peers).toEqual([]);
    expect(o.timeMs).toBe(7);
    expect(parseOptions(['--peers', 'c'], 100).peers).toEqual(['c']);
    expect(parseOptions(['--peers', '--quick'], 100).peers).toEqual(['c', 'c-mt', 'cpython']);
  });

  it('refuses unknown options and bad values', () => {
    expect(() => parseOptions(['--frobnicate'], 100)).toThrow(/unknown option/);
    expect(() => parseOptions(['--sizes', '0'], 100)).toThrow(/positive integer/);
    expect(() => parseOptions(['--api', 'nope'], 100)).toThrow(/unknown API/);
    expect(() => parseOptions(['--peers', 'java'], 100)).toThrow(/unknown peer/);
  });
});

describe('bench --quick --json', () => {
  it('writes one record per cell with the documented fields', async () => {
    const file = path.join(dir, 'out.json');
    const csv = path.join(dir, 'out.csv');
    const code = await runBench(['--quick', '--sizes', '10', '--active', '1,3', '--time', '4', '--json', file, '--csv', csv]);
    expect(code).toBe(0);
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { info: Record<string, unknown>; cells: Array<Record<string, unknown>> };
    expect(doc.info.maxN).toBeGreaterThan(0);
    expect(doc.cells.length).toBeGreaterThan(0);
    for (const c of doc.cells) {
      expect(Object.keys(c)).toEqual([...CELL_FIELDS]);
      expect(['idle-scaling', 'activity-sweep', 'register-churn']).toContain(c.scenario);
      expect(c.backend).toMatch(/^(select|poll|epoll|kqueue|c-(select|poll|epoll)|c-mt-(select|poll)|cpython-(select|poll|epoll))$/);
      expect(['raw', 'pollInto', 'selectors']).toContain(c.api);
      for (const f of ['n', 'active', 'timeoutMs', 'samples'] as const) expect(Number.isInteger(c[f])).toBe(true);
      const [min, p25, med, p75, max] = [c.minNs, c.p25Ns, c.medianNs, c.p75Ns, c.maxNs] as number[];
      expect(min).toBeGreaterThanOrEqual(0);
      expect(min).toBeLessThanOrEqual(p25);
      expect(p25).toBeLessThanOrEqual(med);
      expect(med).toBeLessThanOrEqual(p75);
      expect(p75).toBeLessThanOrEqual(max);
      expect(c.samples as number).toBeGreaterThan(0);
    }
    const idle = doc.cells.filter((c) => c.scenario === 'idle-scaling');
    expect(new Set(idle.map((c) => c.timeoutMs))).toEqual(new Set([0, 1000]));
    expect(idle.every((c) => c.n === 10 && c.active === 1)).toBe(true);
    const sweep = doc.cells.filter((c) => c.scenario === 'activity-sweep');
    expect(new Set(sweep.map((c) => c.active))).toEqual(new Set([1, 3]));
    expect(readFileSync(csv, 'utf8').split('\n')[0]).toBe(CELL_FIELDS.join(','));
    // The peers ran on the same sockets and are named after what they call.
    const backends = new Set(doc.cells.map((c) => c.backend));
    if (has('cc')) for (const b of ['c-select', 'c-poll', 'c-mt-poll']) expect(backends).toContain(b);
    if (has('python3')) for (const b of ['cpython-select', 'cpython-poll']) expect(backends).toContain(b);
    if (process.platform === 'linux' && has('cc')) expect(backends).toContain('c-epoll');
  });

  it('hands peers their fds as compact ranges', () => {
    expect(fdRanges([3, 4, 5, 9, 11, 12])).toBe('3-5,9,11-12');
    expect(fdRanges([7])).toBe('7');
  });

  it('CSV quotes what needs quoting', () => {
    const text = toCsv([
      { scenario: 'a,b', backend: 'x"y', api: 'raw', n: 1, active: 1, timeoutMs: 0, medianNs: 1.25, p25Ns: 1, p75Ns: 2, minNs: 1, maxNs: 3, samples: 4 },
    ]);
    expect(text.split('\n')[1]).toBe('"a,b","x""y",raw,1,1,0,1.3,1,2,1,3,4');
  });
});
