/**
 * IoUring beyond one thread and one process (issue 15): several worker_threads at once, the
 * finalizer of unclosed rings, the timeout-request path of kernels without EXT_ARG, and a
 * process where io_uring is refused (a seccomp filter, as Docker's default profile).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ioUringSupport } from '../../lib/io-uring-support';
import { addonExpr, repoRoot } from '../helpers/addon';
import { openFdCount } from '../helpers/fds';

const support = ioUringSupport();
if (!support.available) console.log(`IoUring process tests skipped: ${support.reason}`);
const fixtures = path.join(__dirname, 'fixtures');

// Plain CommonJS: workers do not go through vitest's TS transform.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const addon = ${addonExpr()};
const { POLLIN } = addon.constants;
function check(cond, what) { if (!cond) throw new Error('worker ' + workerData.id + ': ' + what); }
(async () => {
  let rounds = 0;
  for (let i = 0; i < workerData.rounds; i++) {
    const ring = new addon.IoUring(8, i % 2 === 1);
    const [r, w] = addon.pipe(true);
    try {
      ring.register(r, POLLIN, 0);
      check(ring.poll(0).length === 0, 'nothing ready');
      addon.write(w, Buffer.from('x'), 0, 1);
      const got = ring.poll(1000);
      check(got.length === 1 && got[0][0] === r && got[0][1] === POLLIN, 'readable: ' + JSON.stringify(got));
      addon.read(r, Buffer.alloc(1), 0, 1);
      const later = new Promise((resolve, reject) => ring.waitAsync(1000, 4, (err, ev) => (err ? reject(err) : resolve(ev))));
      setTimeout(() => addon.write(w, Buffer.from('y'), 0, 1), 1);
      const ev = await later;
      check(ev.length === 1 && ev[0][0] === r, 'async readable');
      ring.unregister(r);
      rounds++;
    } finally {
      ring.close();
      addon.close(r);
      addon.close(w);
    }
  }
  parentPort.postMessage({ id: workerData.id, rounds });
})();
`;

function runWorker(id: number, rounds: number): Promise<{ id: number; rounds: number }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { eval: true, workerData: { id, rounds } });
    let result: { id: number; rounds: number } | undefined;
    worker.on('message', (m: { id: number; rounds: number }) => (result = m));
    worker.on('error', reject);
    worker.on('exit', (code) => (result && code === 0 ? resolve(result) : reject(new Error(`worker ${id} exited ${code}`))));
  });
}

describe.skipIf(!support.available)('IoUring across threads and processes', () => {
  it('runs in 4 worker_threads at once, twice over, leaking no fd', async () => {
    const before = openFdCount();
    for (let wave = 0; wave < 2; wave++) {
      const results = await Promise.all([0, 1, 2, 3].map((id) => runWorker(id, 50)));
      expect(results).toEqual([0, 1, 2, 3].map((id) => ({ id, rounds: 50 })));
    }
    expect(openFdCount()).toBe(before);
  }, 60_000);

  it('the finalizer closes the ring of an unclosed object (registrations and all)', () => {
    const script = `
      const fs = require('node:fs');
      const b = ${addonExpr()};
      const count = () => fs.readdirSync('/proc/self/fd').length;
      const tick = () => new Promise((resolve) => setImmediate(resolve));
      (async () => {
        const [r, w] = b.pipe(true);
        const before = count();
        // In a function of its own, so that no frame of the loop below holds the last ring.
        const make = (i) => {
          const ring = new b.IoUring(2, i % 2 === 0);
          if (i % 3 === 0) { ring.register(r, b.constants.POLLIN, 0); ring.poll(0); }
        };
        for (let i = 0; i < 2000; i++) make(i);
        const peak = count();
        for (let i = 0; i < 6; i++) { global.gc(); await tick(); }
        console.log(JSON.stringify({ before, peak, after: count() }));
      })();
    `;
    const res = spawnSync(process.execPath, ['--expose-gc', '-e', script], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    expect(res.stderr).toBe('');
    const out = JSON.parse(res.stdout) as { before: number; peak: number; after: number };
    expect(out.peak).toBeGreaterThan(out.before + 100);
    expect(out.after).toBe(out.before);
  });

  it('without EXT_ARG (IOMUX_IO_URING_EXT_ARG=0) a wait times out through an IORING_OP_TIMEOUT request', () => {
    const script = `
      const b = ${addonExpr()};
      const ring = new b.IoUring(4, false);
      const [r, w] = b.pipe(true);
      ring.register(r, b.constants.POLLIN, 0);
      const timed = (fn) => { const t0 = performance.now(); const v = fn(); return [v, performance.now() - t0]; };
      const [first, firstMs] = timed(() => ring.poll(100));
      let early = 0;
      for (let i = 0; i < 20; i++) {
        // Ended by data before the timeout fires: its request is removed with the next enter.
        setTimeout(() => {}, 0);
        b.write(w, Buffer.from('x'), 0, 1);
        early += ring.poll(50).length;
      }
      const [last, lastMs] = timed(() => ring.poll(100));
      const [frac, fracMs] = timed(() => ring.poll(2.5));
      console.log(JSON.stringify({ extArg: ring.info().extArg, first, firstMs, early, last, lastMs, frac, fracMs }));
    `;
    const res = spawnSync(process.execPath, ['-e', script], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, IOMUX_IO_URING_EXT_ARG: '0' },
    });
    expect(res.stderr).toBe('');
    const out = JSON.parse(res.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ extArg: false, first: [], early: 20, last: [], frac: [] });
    for (const [key, min] of [['firstMs', 99], ['lastMs', 99], ['fracMs', 2.4]] as const) {
      expect(out[key] as number).toBeGreaterThanOrEqual(min);
      expect(out[key] as number).toBeLessThan(2000);
    }
  });
});

function compileSeccompHelper(): string | undefined {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-seccomp-')), 'deny-io-uring');
  try {
    execFileSync('cc', ['-O1', '-o', out, path.join(fixtures, 'seccomp-deny-io-uring.c')], { stdio: 'pipe' });
    return out;
  } catch (err) {
    console.log(`io_uring refusal tests skipped: cannot compile the seccomp helper with cc (${(err as Error).message.split('\n')[0]})`);
    return undefined;
  }
}

const helper = process.platform === 'linux' ? compileSeccompHelper() : undefined;
if (process.platform !== 'linux') console.log('io_uring refusal tests skipped: seccomp is Linux only');

describe.skipIf(helper === undefined)('where a seccomp filter refuses io_uring_setup', () => {
  it.each(['EPERM', 'ENOSYS'])('%s: ERR_NOT_SUPPORTED, capabilities() says why, DefaultSelector unaffected', (errno) => {
    const res = spawnSync(helper as string, [errno, process.execPath, '--import', 'tsx', path.join(fixtures, 'io-uring-refused.ts')], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(res.stderr).toBe('');
    const out = JSON.parse(res.stdout) as Record<string, Record<string, unknown> | unknown>;
    expect(out.ring).toMatchObject({ code: 'ERR_NOT_SUPPORTED', causeCode: errno });
    expect((out.ring as { message: string }).message).toContain(`io_uring_setup: ${errno}`);
    expect(out.named).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(out.canUse).toBe(false);
    expect(out.backend).toBe('epoll');
    expect(out.ready).toBe(1);
    expect(out.ioUring).toMatchObject({ available: false, code: errno });
    expect((out.ioUring as { reason: string }).reason).toContain(errno);
    expect(out.backends).not.toContain('io_uring');
  });
});
