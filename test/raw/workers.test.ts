// The addon is context-aware: it loads in several worker_threads at once, each with its own
// per-env data (AddonData), and twice in one thread. Each worker drives pipes through Poll and
// select, including the large-fd path whose scratch buffer lives in the per-env data.
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { native } from '../../lib/binding';
import { getNofileLimit, setNofileLimit } from '../../lib/fd';
import { openFdCount } from '../helpers/fds';

const root = path.resolve(__dirname, '../..');
const gypBuild = require.resolve('node-gyp-build', { paths: [root] });

// Plain CommonJS run with `eval: true`: workers do not go through vitest's TS transform, so
// they load the compiled addon straight through node-gyp-build, as lib/binding.ts does.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const addon = require(workerData.gypBuild)(workerData.root);
const { POLLIN, POLLOUT } = addon.constants;
function check(cond, what) {
  if (!cond) throw new Error('worker ' + workerData.id + ': ' + what);
}
const one = Buffer.from('x');
let rounds = 0;
for (let i = 0; i < workerData.rounds; i++) {
  const [r, w] = addon.pipe(true);
  const high = addon.dup2(r, workerData.high);
  try {
    const p = new addon.Poll();
    p.register(r, POLLIN);
    p.register(w, POLLOUT);
    const first = new Int32Array(4);
    check(p.pollInto(first, 0) === 1 && first[0] === w && first[1] === POLLOUT, 'only writable at first');
    addon.write(w, one, 0, 1);
    const out = new Int32Array(4);
    check(p.pollInto(out, -1) === 2, 'both ready');
    const fds = new Int32Array([r, high, w]);
    check(addon.select(fds, 2, 1, 0, 0, true) === 3, 'large select sees all three');
    check(fds[1] === high, 'large fd reported readable');
    const small = new Int32Array([r, w]);
    check(addon.select(small, 1, 1, 0, -1, false) === 2, 'small select');
    addon.read(r, Buffer.alloc(1), 0, 1);
    check(addon.select(new Int32Array([high]), 1, 0, 0, 0.2, true) === 0, 'drained');
    check(p.unregister(r) && !p.unregister(r) && p.size === 1, 'unregister');
    rounds++;
  } finally {
    addon.close(high);
    addon.close(r);
    addon.close(w);
  }
}
parentPort.postMessage({ id: workerData.id, rounds });
`;

function isOpen(fd: number): boolean {
  try {
    fs.fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

function runWorker(id: number, high: number, rounds: number): Promise<{ id: number; rounds: number }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { eval: true, workerData: { id, high, rounds, root, gypBuild } });
    let result: { id: number; rounds: number } | undefined;
    worker.on('message', (m: { id: number; rounds: number }) => (result = m));
    worker.on('error', reject);
    worker.on('exit', (code) => (result && code === 0 ? resolve(result) : reject(new Error(`worker ${id} exited ${code}`))));
  });
}

const limits = getNofileLimit();

// Each worker dup2()s onto its own fd above FD_SETSIZE, so RLIMIT_NOFILE must allow it.
describe.skipIf(!(limits.hard === Infinity || limits.hard > 4200))('worker_threads', () => {
  it('runs Poll and select in 4 workers at once, twice over, leaking no fd', async () => {
    const saved = getNofileLimit();
    if (saved.soft < 4200) setNofileLimit(4200);
    try {
      const before = openFdCount();
      for (let wave = 0; wave < 2; wave++) {
        const highs: number[] = [];
        for (let fd = 2000; highs.length < 4; fd += 37) if (!isOpen(fd)) highs.push(fd);
        const results = await Promise.all(highs.map((high, id) => runWorker(id, high, 200)));
        expect(results).toEqual(highs.map((_, id) => ({ id, rounds: 200 })));
      }
      expect(openFdCount()).toBe(before);
    } finally {
      setNofileLimit(saved.soft, saved.hard);
    }
  });
});

describe('loading twice in one thread', () => {
  it('gives two independent instances through process.dlopen', () => {
    // require() caches a .node file by path, and deleting the cache entry does not unload it;
    // process.dlopen() with a fresh module object runs the addon's init again in a new napi_env
    // with its own instance data, which is what a second copy of the package would get.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const file = (require(gypBuild) as { path(dir: string): string }).path(root);
    const mod = { exports: {} as typeof native };
    process.dlopen(mod, file);
    const second = mod.exports;
    expect(second).not.toBe(native);
    expect(second.Poll).not.toBe(native.Poll);
    const [r, w] = second.pipe(true);
    try {
      const a = new native.Poll();
      const b = new second.Poll();
      a.register(r, native.constants.POLLIN);
      b.register(w, second.constants.POLLOUT);
      expect([a.size, b.size]).toEqual([1, 1]);
      const out = new Int32Array(4);
      expect(b.pollInto(out, 0)).toBe(1);
      expect(Array.from(out.subarray(0, 2))).toEqual([w, second.constants.POLLOUT]);
      expect(a.pollInto(out, 0)).toBe(0);
      expect(second.select(new Int32Array([r, w]), 1, 1, 0, 0, false)).toBe(1);
    } finally {
      second.close(r);
      second.close(w);
    }
  });
});
