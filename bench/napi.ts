/**
 * The Node-API floor (napi-* series): bench/napi/floor.c, the same wait calls as the C floor
 * through the thinnest plain-C Node-API functions, timed in this process exactly as iomux is.
 * It is built with the project (binding.gyp target napi_floor); where it was not (an install
 * from a prebuild), the bench compiles it with `cc` against Node's own headers, or leaves it out.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { activeTable, type Api, wrongFds } from './backends';
import { benchAsset, packageRoot } from './assets';
import type { Fixture } from './fixtures';
import { batchRunner, type Job } from './runner';
import type { Scenario } from './scenarios/scenario';

/** The functions of bench/napi/floor.c. */
export interface NapiFloor {
  setup(fds: Int32Array, out: Int32Array): void;
  epollWait?(timeoutMs: number): number;
  epollWaitInto?(out: Int32Array, timeoutMs: number): number;
  pollWait(timeoutMs: number): number;
  selectWait(timeoutMs: number): number;
  eventWords(): number;
  teardown(): void;
}

function load(file: string): NapiFloor {
  const mod = { exports: {} as NapiFloor };
  process.dlopen(mod, file);
  return mod.exports;
}

/** Node's headers: beside the node binary (official builds), or /usr/include/node. */
function nodeIncludeDir(): string | null {
  const dirs = [path.join(path.dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node'];
  return dirs.find((d) => existsSync(path.join(d, 'node_api.h'))) ?? null;
}

/**
 * Loads the Node-API floor.
 * @returns the module and where it came from, or null with the reason it is missing.
 */
export function loadNapiFloor(): { floor: NapiFloor | null; note: string; cleanup(): void } {
  for (const dir of ['build/Release', 'build-cmake/Release', 'build-cmake']) {
    const file = path.join(packageRoot, dir, 'napi_floor.so');
    if (existsSync(file)) return { floor: load(file), note: `napi-* floor: ${path.join(dir, 'napi_floor.so')} (bench/napi/floor.c, built with the project)`, cleanup() {} };
  }
  const include = nodeIncludeDir();
  if (!include) return { floor: null, note: 'napi-* floor left out: not built with the project, and no Node headers (node_api.h) to compile it', cleanup() {} };
  const dir = mkdtempSync(path.join(tmpdir(), 'iomux-napi-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const out = path.join(dir, 'napi_floor.so');
  const flags = process.platform === 'darwin' ? ['-undefined', 'dynamic_lookup'] : [];
  const r = spawnSync('cc', ['-O2', '-shared', '-fPIC', ...flags, `-I${include}`, '-DNODE_GYP_MODULE_NAME=napi_floor', '-o', out, benchAsset('napi/floor.c')], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    cleanup();
    const why = r.error ? 'no cc on PATH' : `cc failed: ${r.stderr.trim().split('\n')[0]}`;
    return { floor: null, note: `napi-* floor left out: not built with the project, and ${why}`, cleanup() {} };
  }
  return { floor: load(out), note: 'napi-* floor: bench/napi/floor.c compiled here with cc -O2 (no build of it in the package)', cleanup };
}

interface NapiSeries {
  backend: string;
  api: Api;
  /** One call's closure on a set up floor; null when the platform lacks the call. */
  make(floor: NapiFloor, fds: readonly number[], active: number, timeoutMs: number): (() => void) | null;
}

/** The out buffer the fixed-buffer calls copy ready fds into (kept by the floor). */
const outs = new WeakMap<NapiFloor, Int32Array>();

const SERIES: NapiSeries[] = [
  {
    backend: 'napi-epoll',
    api: 'raw',
    make(f, fds, active, t) {
      if (!f.epollWait) return null;
      const wait = f.epollWait;
      const out = outs.get(f)!;
      const isActive = activeTable(fds, active);
      return () => {
        const count = wait(t);
        if (count !== active) wrongFds(count, active);
        for (let i = 0; i < count; i++) if (isActive[out[i]] !== 1) wrongFds(active, active, out[i]);
      };
    },
  },
  {
    backend: 'napi-epoll',
    api: 'pollInto',
    make(f, fds, active, t) {
      if (!f.epollWaitInto) return null;
      const wait = f.epollWaitInto;
      const words = f.eventWords();
      // struct epoll_event: events (1 word), then data, whose first 32 bits hold the fd.
      const arr = new Int32Array(words * Math.max(active, 1024));
      const isActive = activeTable(fds, active);
      return () => {
        const count = wait(arr, t);
        if (count !== active) wrongFds(count, active);
        for (let i = 0; i < count; i++) if (isActive[arr[words * i + 1]] !== 1) wrongFds(active, active, arr[words * i + 1]);
      };
    },
  },
  {
    backend: 'napi-poll',
    api: 'raw',
    make(f, fds, active, t) {
      const out = outs.get(f)!;
      const isActive = activeTable(fds, active);
      return () => {
        const count = f.pollWait(t);
        if (count !== active) wrongFds(count, active);
        for (let i = 0; i < count; i++) if (isActive[out[i]] !== 1) wrongFds(active, active, out[i]);
      };
    },
  },
  {
    backend: 'napi-select',
    api: 'raw',
    make(f, fds, active, t) {
      const out = outs.get(f)!;
      const isActive = activeTable(fds, active);
      return () => {
        const count = f.selectWait(t);
        if (count !== active) wrongFds(count, active);
        for (let i = 0; i < count; i++) if (isActive[out[i]] !== 1) wrongFds(active, active, out[i]);
      };
    },
  },
];

/** The napi-* jobs of a wait scenario (idle scaling, activity sweep) on a fixture. */
export function napiJobs(scenario: Scenario, floor: NapiFloor, fixture: Fixture, n: number, batchMs: number): Job[] {
  return SERIES.filter((s) => s.backend !== 'napi-epoll' || floor.epollWait !== undefined).map((s) => ({
    scenario: scenario.name,
    backend: s.backend,
    api: s.api,
    n,
    active: fixture.activeCount,
    timeouts: scenario.timeouts,
    run: batchRunner(scenario.timeouts, batchMs, (timeoutMs) => {
      const out = new Int32Array(Math.max(fixture.fds.length, 1024));
      outs.set(floor, out);
      floor.setup(Int32Array.from(fixture.fds), out);
      const fn = s.make(floor, fixture.fds, fixture.activeCount, timeoutMs);
      if (!fn) return null;
      return { fn, close: () => floor.teardown() };
    }),
  }));
}
