/** The published entry points: require('iomux') and import 'iomux' give the same API and types exist. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..');
const dist = path.join(root, 'dist', 'lib');

function run(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' }).trim();
}

describe('package entry points (dist/, built by `npm run build:ts`)', () => {
  it('has CommonJS, ESM and declaration files', () => {
    for (const f of ['index.js', 'index.mjs', 'index.d.ts', 'index.d.mts']) expect(fs.existsSync(path.join(dist, f)), f).toBe(true);
  });

  it('require("iomux") and import("iomux") export the same names', () => {
    const cjs = run(['-e', 'console.log(Object.keys(require("iomux")).sort().join(","))']);
    const esm = run([
      '--input-type=module',
      '-e',
      'import * as m from "iomux"; console.log(Object.keys(m).filter((k) => k !== "default").sort().join(","))',
    ]);
    expect(cjs.split(',')).toContain('constants');
    expect(esm).toBe(cjs);
  });

  it('ESM and CommonJS share one addon instance', () => {
    const out = run([
      '--input-type=module',
      '-e',
      'import { createRequire } from "node:module"; import { constants } from "iomux"; const r = createRequire(import.meta.url); console.log(r("iomux").constants === constants)',
    ]);
    expect(out).toBe('true');
  });
});
