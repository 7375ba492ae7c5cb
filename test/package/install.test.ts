/**
 * The packed tarball, installed as a user installs it: into an empty project, with a PATH that
 * holds node and nothing else (no cc, c++, g++, make or python3). On linux-x64 the prebuild
 * loads, so the install needs no compiler, and `require('iomux')`, `import 'iomux'`,
 * `npx iomux --version`, the README's Install block and its JavaScript blocks work there. With
 * another CPU simulated (npm_config_arch, which node-gyp-build reads), no prebuild matches and the
 * install stops with one line naming the tools to install.
 *
 * Packs with --ignore-scripts after running scripts/prepack.cjs itself: npm's `prepare` would
 * rebuild dist/ while other test files read it. Needs dist/ and build/Release (npm ci).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeBlocks, root, shellCommands } from '../helpers/readme';

const supported = process.platform === 'linux' && process.arch === 'x64';
if (!supported) console.log(`install test skipped: prebuilds are made here for linux-x64 only, this is ${process.platform}-${process.arch}`);

const npmCli = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
let work = '';
let tarball = '';
let bin = '';

/** A PATH with node and sh alone (npm's bins and scripts need them), so no compiler is found. */
function bareEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { HOME: process.env.HOME, PATH: bin, npm_config_update_notifier: 'false', ...extra };
  for (const key of ['npm_config_cache', 'npm_config_registry', 'npm_config_nodedir', 'NODE_EXTRA_CA_CERTS']) {
    if (process.env[key] !== undefined) env[key] = process.env[key];
  }
  return env;
}

function project(name: string): string {
  const dir = path.join(work, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `consumer-${name}`, version: '1.0.0', private: true }));
  return dir;
}

function npm(cwd: string, args: string[], env: NodeJS.ProcessEnv) {
  return spawnSync(process.execPath, [npmCli, ...args, '--no-audit', '--no-fund', '--prefer-offline'], {
    cwd,
    env,
    encoding: 'utf8',
    timeout: 240_000,
  });
}

beforeAll(() => {
  if (!supported) return;
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-install-'));
  bin = path.join(work, 'bin');
  fs.mkdirSync(bin);
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  fs.symlinkSync('/bin/sh', path.join(bin, 'sh')); // npm runs scripts with sh
  // npm and npx as Node's installers lay them out (links to the CLIs, which run on node).
  fs.symlinkSync(npmCli, path.join(bin, 'npm'));
  fs.symlinkSync(path.join(path.dirname(npmCli), 'npx-cli.js'), path.join(bin, 'npx'));
  execFileSync(process.execPath, [path.join(root, 'scripts', 'prepack.cjs')], { cwd: root, stdio: 'ignore' });
  const packed = execFileSync(process.execPath, [npmCli, 'pack', '--ignore-scripts', '--json', '--pack-destination', work], {
    cwd: root,
    encoding: 'utf8',
  });
  const [info] = JSON.parse(packed) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = path.join(work, info!.filename);
}, 120_000);

afterAll(() => {
  if (work !== '') fs.rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!supported)('npm install ./iomux-*.tgz with no compiler on PATH', () => {
  let dir = '';

  it('installs from the prebuild', () => {
    for (const tool of ['cc', 'c++', 'g++', 'clang++', 'make', 'python3']) {
      expect(spawnSync('/bin/sh', ['-c', `command -v ${tool}`], { env: bareEnv() }).status, tool).not.toBe(0);
    }
    dir = project('prebuilt');
    const run = npm(dir, ['install', tarball], bareEnv());
    expect(run.stderr).not.toMatch(/gyp|iomux: no prebuilt/);
    expect(run.status, run.stdout + run.stderr).toBe(0);
    const installed = path.join(dir, 'node_modules', 'iomux');
    expect(fs.existsSync(path.join(installed, 'build'))).toBe(false);
    expect(fs.readdirSync(path.join(installed, 'prebuilds', 'linux-x64'))).toEqual(['iomux.glibc.node']);
  }, 240_000);

  it('loads with require and with import, and npx iomux --version prints the version', () => {
    const node = (args: string[]) => spawnSync(process.execPath, args, { cwd: dir, env: bareEnv(), encoding: 'utf8' });
    const cjs = node(['-e', 'const m = require("iomux"); console.log(typeof m.DefaultSelector, new m.DefaultSelector().backend)']);
    expect(cjs.stderr).toBe('');
    expect(cjs.stdout).toBe('function epoll\n');
    const esm = node(['--input-type=module', '-e', 'import { Poll, constants } from "iomux"; console.log(new Poll().size, constants.POLLIN)']);
    expect(esm.stderr).toBe('');
    expect(esm.stdout).toBe('0 1\n');
    const cli = spawnSync('/bin/sh', ['-c', 'npx iomux --version'], { cwd: dir, env: bareEnv(), encoding: 'utf8' });
    expect(cli.stderr).toBe('');
    expect(cli.stdout).toBe(`${version}\n`);
  });

  it("runs the README's Install block (npm install iomux = this tarball) and its JavaScript blocks", () => {
    const install = readmeBlocks().find((b) => b.heading === 'Install' && b.lang === 'sh');
    expect(install).toBeDefined();
    const here = project('readme');
    for (const line of shellCommands(install!.code)) {
      const command = line === 'npm install iomux' ? `npm install ${tarball} --no-audit --no-fund --prefer-offline` : line;
      const run = spawnSync('/bin/sh', ['-c', command], {
        cwd: here,
        env: bareEnv(),
        encoding: 'utf8',
        timeout: 240_000,
      });
      expect(run.status, `${line}\n${run.stdout}${run.stderr}`).toBe(0);
      if (line.startsWith('npx iomux probe')) expect(run.stdout).toMatch(/^backends\s+.*epoll/m);
    }
    readmeBlocks()
      .filter((b) => b.lang === 'js')
      .forEach((b, i) => {
        const file = path.join(here, `block-${i}.mjs`);
        fs.writeFileSync(file, b.code);
        const run = spawnSync(process.execPath, [file], { cwd: here, env: bareEnv(), encoding: 'utf8', timeout: 30_000 });
        expect(run.stderr, b.heading).toBe('');
        expect(run.status, b.heading).toBe(0);
      });
  }, 300_000);
});

describe.skipIf(!supported)('npm install on a platform with no prebuild, no compiler on PATH', () => {
  it('stops with one line that names what to install', () => {
    const dir = project('unsupported');
    const run = npm(dir, ['install', tarball], bareEnv({ npm_config_arch: 'riscv64' }));
    expect(run.status).not.toBe(0);
    const ours = (run.stdout + run.stderr).split('\n').filter((l) => l.includes('iomux: '));
    expect(ours).toEqual([
      expect.stringMatching(
        /^(npm error )?iomux: no prebuilt binary for linux-riscv64; compiling the addon needs python3, make and a C\+\+17 compiler \(g\+\+ or clang\+\+\), not found on PATH: install them \(Debian\/Ubuntu: apt-get install python3 make g\+\+; .*\) and run npm install again\.$/,
      ),
    ]);
    expect(run.stdout + run.stderr).not.toMatch(/gyp (ERR|info)/);
  }, 240_000);
});
