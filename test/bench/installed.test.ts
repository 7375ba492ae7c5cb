/**
 * `npx iomux bench` works from an installed package: `npm pack`, an install of the tarball into
 * an empty project with --omit=dev (the addon is built on install unless the tarball carries a
 * prebuild), then the quick bench there: compiled JS, no tsx, no devDependencies. --svg names
 * the optional packages it needs when they are missing, and works once they are added.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'iomux-installed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const quiet = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];
// node-gyp on both cores, where the install has to build the addon.
const env = { ...process.env, JOBS: 'max' };

function run(cmd: string, args: string[], cwd: string) {
  return spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 540_000 });
}

describe('npx iomux bench from the packed tarball', () => {
  it('installs with --omit=dev and runs --quick --json --svg', () => {
    // --ignore-scripts: pack the dist/ that `npm ci` / `npm run build:ts` built, rather than let
    // `prepare` rewrite dist/ under the other test files that load it meanwhile.
    expect(existsSync(path.join(root, 'dist', 'bench', 'index.js')), 'dist/ is built (npm run build:ts)').toBe(true);
    const packed = execFileSync(npm, ['pack', '--ignore-scripts', '--pack-destination', dir, '--loglevel=error'], { cwd: root, env, encoding: 'utf8', timeout: 300_000 });
    const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    expect(tgz, packed).toBeDefined();
    const project = path.join(dir, 'project');
    execFileSync('mkdir', ['-p', project]);
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'uses-iomux', version: '1.0.0', private: true }));
    const install = run(npm, ['install', '--omit=dev', ...quiet, path.join(dir, tgz!)], project);
    expect(install.status, install.stderr).toBe(0);
    // Nothing of the repo's devDependencies came along.
    for (const dev of ['tsx', 'tinybench', 'cli-progress', 'vitest', 'typescript']) {
      expect(existsSync(path.join(project, 'node_modules', dev)), dev).toBe(false);
    }

    // The compiled bench parses through the compiled lib/cli-args.js: --help, --version, one line for a bad flag.
    const help = run('npx', ['iomux', 'bench', '--help'], project);
    expect([help.status, help.stderr]).toEqual([0, '']);
    expect(help.stdout).toMatch(/^usage: iomux bench \[options\]/);
    const version = run('npx', ['iomux', 'bench', '--version'], project);
    expect(version.stdout).toBe(`${JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version}\n`);
    const bad = run('npx', ['iomux', 'bench', '--frob'], project);
    expect([bad.status, bad.stderr]).toEqual([2, 'iomux bench: unknown option --frob (see iomux bench --help)\n']);

    const noSvg = run('npx', ['iomux', 'bench', '--quick', '--svg', 'r.svg'], project);
    expect(noSvg.status).toBe(2);
    expect(noSvg.stderr).toContain('iomux bench: --svg needs the optional packages vega and vega-lite: npm install vega vega-lite\n');

    const addVega = run(npm, ['install', ...quiet, 'vega', 'vega-lite'], project);
    expect(addVega.status, addVega.stderr).toBe(0);
    const bench = run('npx', ['iomux', 'bench', '--quick', '--json', 'r.json', '--svg', 'r.svg'], project);
    expect(bench.status, bench.stderr).toBe(0);
    expect(bench.stdout).toMatch(/== idle scaling, timeout 0 ms/);
    expect(bench.stdout).toMatch(/one clock read costs/);
    const doc = JSON.parse(readFileSync(path.join(project, 'r.json'), 'utf8'));
    expect(doc.cells.length).toBeGreaterThan(0);
    expect(doc.cells.every((c: { callsPerSample: number }) => c.callsPerSample >= 1)).toBe(true);
    expect(readFileSync(path.join(project, 'r.svg'), 'utf8')).toMatch(/^<svg/);
    // It ran the compiled bench of the package, not the repo's TypeScript.
    const pkgBench = path.join(project, 'node_modules', 'iomux', 'dist', 'bench', 'index.js');
    expect(existsSync(pkgBench)).toBe(true);
    process.stdout.write(`installed-package run printed:\n${bench.stdout.split('\n').slice(0, 12).join('\n')}\n`);
  }, 900_000);
});
