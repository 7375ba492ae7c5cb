import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { getEventListeners } from 'node:events';
import { getSystemErrorName } from 'node:util';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { createWaiter, threadedWait, WAIT_POLL, WAIT_SELECT } from '../helpers/threaded-wait';
import type { NativeWaiter } from '../../lib/binding';
import { constants, EVENT_READ, EVENT_WRITE, FD_SETSIZE } from '../../lib/constants';
import { dup2, read, write } from '../../lib/fd';
import { closeNow, openFdCount, testPipe, testSocketPair, track } from '../helpers/fds';

const { POLLIN, POLLOUT, POLLNVAL } = constants;
const repoRoot = path.resolve(__dirname, '../..');
const hasProcTasks = fs.existsSync('/proc/self/task');
const kinds = [
  ['poll', WAIT_POLL],
  ['select', WAIT_SELECT],
] as const;

const waiters: NativeWaiter[] = [];
function newWaiter(): NativeWaiter {
  const w = createWaiter();
  waiters.push(w);
  return w;
}
afterEach(() => {
  for (const w of waiters) w.close();
  waiters.length = 0;
});

function pairs(...list: Array<[number, number]>): Int32Array {
  return Int32Array.from(list.flat());
}

function records(out: Int32Array, n: number): Array<[number, number]> {
  const list: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) list.push([out[2 * i], out[2 * i + 1]]);
  return list;
}

function threadCount(): number {
  return fs.readdirSync('/proc/self/task').length;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * An fd number nothing has open: the second free one, so that the waiter's own wake-up fd (made
 * when the wait starts, with the lowest free number) does not take it, and low enough to be
 * inside the kernel's fd table (select(2) ignores bits past it instead of failing with EBADF).
 */
function unusedFd(): number {
  let skipped = false;
  for (let fd = 3; ; fd++) {
    try {
      fs.fstatSync(fd);
    } catch {
      if (skipped) return fd;
      skipped = true;
    }
  }
}

describe.each(kinds)('threadedWait (%s)', (_name, kind) => {
  it('resolves when an fd becomes readable, with (fd, POLLIN)', async () => {
    const [r, w] = testPipe();
    const out = new Int32Array(8);
    const p = threadedWait(newWaiter(), kind, pairs([r, POLLIN]), 1, -1, out);
    setTimeout(() => write(w, Buffer.from('x')), 30);
    const n = await p;
    expect(records(out, n)).toEqual([[r, POLLIN]]);
  });

  it('reports writability as POLLOUT and leaves idle fds out', async () => {
    const [r, w] = testPipe();
    const out = new Int32Array(8);
    const n = await threadedWait(newWaiter(), kind, pairs([r, POLLIN], [w, POLLOUT]), 2, -1, out);
    expect(records(out, n)).toEqual([[w, POLLOUT]]);
  });

  it('reports many ready fds at once, in order, never past out', async () => {
    const fds: Array<[number, number]> = [];
    for (let i = 0; i < 40; i++) {
      const [a, b] = testSocketPair();
      write(b, Buffer.from('x'));
      fds.push([a, POLLIN]);
    }
    const waiter = newWaiter();
    const big = new Int32Array(2 * 64);
    const n = await threadedWait(waiter, kind, pairs(...fds), fds.length, -1, big);
    expect(records(big, n)).toEqual(fds.map(([fd]) => [fd, POLLIN]));
    const small = new Int32Array(2 * 10 + 2).fill(-7);
    const m = await threadedWait(waiter, kind, pairs(...fds), fds.length, -1, small.subarray(0, 20));
    expect(m).toBe(10);
    expect(records(small, 10)).toEqual(fds.slice(0, 10).map(([fd]) => [fd, POLLIN]));
    expect(Array.from(small.subarray(20))).toEqual([-7, -7]);
  });

  it('never reports its wake-up fd, even after a cancel() with nothing pending', async () => {
    const [r, w] = testPipe();
    const waiter = newWaiter();
    expect(waiter.cancel()).toBe(false);
    const out = new Int32Array(16).fill(-1);
    expect(await threadedWait(waiter, kind, pairs([r, POLLIN]), 1, 30, out)).toBe(0);
    // A cancel that comes after the wait finished must not end the next one early.
    write(w, Buffer.from('x'));
    const n = await threadedWait(waiter, kind, pairs([r, POLLIN]), 1, -1, out);
    waiter.cancel();
    expect(records(out, n)).toEqual([[r, POLLIN]]);
    closeNow(w);
    const [r2] = testPipe();
    const t0 = performance.now();
    expect(await threadedWait(waiter, kind, pairs([r2, POLLIN]), 1, 40, out)).toBe(0);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(35);
    expect(Array.from(out.subarray(2)).every((v) => v === -1)).toBe(true);
  });

  it('times out after 50 ms, and after a fractional 20.5 ms, with 0 records', async () => {
    const [r] = testPipe();
    const waiter = newWaiter();
    const out = new Int32Array(2);
    for (const ms of [50, 20.5]) {
      const t0 = performance.now();
      expect(await threadedWait(waiter, kind, pairs([r, POLLIN]), 1, ms, out)).toBe(0);
      const took = performance.now() - t0;
      expect(took).toBeGreaterThanOrEqual(ms - 1);
      expect(took).toBeLessThan(ms + 1000);
    }
  });

  it('timeout 0 polls once and returns at once', async () => {
    const [r, w] = testPipe();
    const waiter = newWaiter();
    const out = new Int32Array(2);
    const t0 = performance.now();
    expect(await threadedWait(waiter, kind, pairs([r, POLLIN]), 1, 0, out)).toBe(0);
    expect(performance.now() - t0).toBeLessThan(500);
    write(w, Buffer.from('x'));
    expect(await threadedWait(waiter, kind, pairs([r, POLLIN]), 1, 0, out)).toBe(1);
  });

  it('waits on nothing until the timeout', async () => {
    const t0 = performance.now();
    expect(await threadedWait(newWaiter(), kind, new Int32Array(0), 0, 30, new Int32Array(2))).toBe(0);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(29);
  });

  it('abort before the wait rejects at once with AbortError and starts nothing', async () => {
    const [r] = testPipe();
    const waiter = newWaiter();
    const reason = new Error('stop');
    const signal = AbortSignal.abort(reason);
    const err = await threadedWait(waiter, kind, pairs([r, POLLIN]), 1, -1, new Int32Array(2), { signal }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: reason });
    expect(waiter.pending).toBe(false);
  });

  it('abort during the wait rejects at once, and the waiter stays usable', async () => {
    const [r, w] = testPipe();
    const waiter = newWaiter();
    const ac = new AbortController();
    const out = new Int32Array(2);
    const p = threadedWait(waiter, kind, pairs([r, POLLIN]), 1, -1, out, { signal: ac.signal });
    expect(waiter.pending).toBe(true);
    await sleep(20);
    const t0 = performance.now();
    ac.abort('enough');
    await expect(p).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: 'enough' });
    expect(performance.now() - t0).toBeLessThan(500);
    expect(waiter.pending).toBe(false);
    write(w, Buffer.from('x'));
    expect(await threadedWait(waiter, kind, pairs([r, POLLIN]), 1, -1, out, { signal: new AbortController().signal })).toBe(1);
  });

  it('close() during the wait rejects with ERR_CLOSED; later waits too; close is idempotent', async () => {
    const [r] = testPipe();
    const waiter = newWaiter();
    const p = threadedWait(waiter, kind, pairs([r, POLLIN]), 1, -1, new Int32Array(2));
    await sleep(10);
    waiter.close();
    await expect(p).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    expect(waiter.closed).toBe(true);
    expect(waiter.pending).toBe(false);
    waiter.close();
    await expect(threadedWait(waiter, kind, pairs([r, POLLIN]), 1, 0, new Int32Array(2))).rejects.toMatchObject({
      code: 'ERR_CLOSED',
    });
    expect(() => waiter.wait(kind, pairs([r, POLLIN]), 1, 0, false, new Int32Array(2), () => {})).toThrow(
      expect.objectContaining({ code: 'ERR_CLOSED' }),
    );
  });

  it('a second wait while one is pending rejects with ERR_BUSY and leaves the first alone', async () => {
    const [r, w] = testPipe();
    const waiter = newWaiter();
    const out = new Int32Array(2);
    const first = threadedWait(waiter, kind, pairs([r, POLLIN]), 1, -1, out);
    await expect(threadedWait(waiter, kind, pairs([r, POLLIN]), 1, -1, new Int32Array(2))).rejects.toMatchObject({
      code: 'ERR_BUSY',
    });
    expect(() => waiter.wait(kind, pairs([r, POLLIN]), 1, 0, false, new Int32Array(2), () => {})).toThrow(
      expect.objectContaining({ code: 'ERR_BUSY' }),
    );
    write(w, Buffer.from('x'));
    expect(await first).toBe(1);
  });

  it('an abort racing with readiness always rejects, and never breaks the next wait', async () => {
    const [r, w] = testPipe();
    const waiter = newWaiter();
    const out = new Int32Array(2);
    const drain = Buffer.alloc(64);
    for (let i = 0; i < 200; i++) {
      const ac = new AbortController();
      const p = threadedWait(waiter, kind, pairs([r, POLLIN]), 1, -1, out, { signal: ac.signal });
      // The thread may already have found the fd ready when abort() comes; until the result
      // reaches the JS thread the abort still wins.
      const ready = i % 2 === 1;
      if (i % 4 < 2) {
        if (ready) write(w, Buffer.from('x'));
        ac.abort();
      } else {
        setImmediate(() => {
          if (ready) write(w, Buffer.from('x'));
          ac.abort();
        });
      }
      await expect(p).rejects.toMatchObject({ name: 'AbortError' });
      read(r, drain);
    }
    write(w, Buffer.from('x'));
    expect(await threadedWait(waiter, kind, pairs([r, POLLIN]), 1, 1000, out)).toBe(1);
  });

  it("keeps Node's timers running while a wait is pending", async () => {
    const [r] = testPipe();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 20);
    try {
      expect(await threadedWait(newWaiter(), kind, pairs([r, POLLIN]), 1, 200, new Int32Array(2))).toBe(0);
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThanOrEqual(5);
  });

  it('gives the copy of fds, not the live array, to the thread', async () => {
    const [r, w] = testPipe();
    const [r2] = testPipe();
    const fds = pairs([r, POLLIN]);
    const out = new Int32Array(2);
    const p = threadedWait(newWaiter(), kind, fds, 1, -1, out);
    fds[0] = r2;
    write(w, Buffer.from('x'));
    expect(records(out, await p)).toEqual([[r, POLLIN]]);
  });
});

describe('threadedWait: kind-specific behaviour', () => {
  // The waiter is made first: its wake-up fd would otherwise take the number just closed.
  it('poll reports a closed fd as POLLNVAL', async () => {
    const waiter = newWaiter();
    // A number no fd uses, high enough that the waiter's own wake-up fd (made when the wait
    // starts) does not take it, as a just-closed low number would be.
    const r = unusedFd();
    const out = new Int32Array(2);
    const n = await threadedWait(waiter, WAIT_POLL, pairs([r, POLLIN]), 1, -1, out);
    expect(records(out, n)).toEqual([[r, POLLNVAL]]);
  });

  it('select on a closed fd rejects with EBADF shaped like Node errors', async () => {
    const waiter = newWaiter();
    const r = unusedFd();
    const err = await threadedWait(waiter, WAIT_SELECT, pairs([r, POLLIN]), 1, -1, new Int32Array(2)).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'EBADF', syscall: 'select' });
    expect(getSystemErrorName((err as { errno: number }).errno)).toBe('EBADF');
  });

  it('select refuses fd >= FD_SETSIZE (RangeError) unless large fd sets are asked for', async () => {
    const [r, w] = testPipe();
    const big = track(dup2(r, FD_SETSIZE + 476));
    write(w, Buffer.from('x'));
    const waiter = newWaiter();
    const out = new Int32Array(2);
    await expect(threadedWait(waiter, WAIT_SELECT, pairs([big, POLLIN]), 1, -1, out)).rejects.toBeInstanceOf(RangeError);
    expect(() => waiter.wait(WAIT_SELECT, pairs([big, POLLIN]), 1, -1, false, out, () => {})).toThrow(RangeError);
    const n = await threadedWait(waiter, WAIT_SELECT, pairs([big, POLLIN]), 1, -1, out, { allowLargeFds: true });
    expect(records(out, n)).toEqual([[big, POLLIN]]);
    expect(await threadedWait(waiter, WAIT_POLL, pairs([big, POLLIN]), 1, -1, out)).toBe(1);
  });

  it('never crashes on direct native misuse: bad arguments throw Node codes', () => {
    const [r] = testPipe();
    const waiter = newWaiter();
    const out = new Int32Array(2);
    const w = waiter as unknown as { wait: (...args: unknown[]) => void };
    expect(() => w.wait(5, pairs([r, 1]), 1, 0, false, out, () => {})).toThrow(RangeError);
    expect(() => w.wait(0, 'x', 1, 0, false, out, () => {})).toThrow(TypeError);
    expect(() => w.wait(0, pairs([r, 1]), 9, 0, false, out, () => {})).toThrow(RangeError);
    expect(() => w.wait(0, pairs([-3, 1]), 1, 0, false, out, () => {})).toThrow(RangeError);
    expect(() => w.wait(0, pairs([r, 1]), 1, NaN, false, out, () => {})).toThrow(RangeError);
    expect(() => w.wait(0, pairs([r, 1]), 1, 0, false, new Int32Array(0), () => {})).toThrow(RangeError);
    expect(() => w.wait(0, pairs([r, 1]), 1, 0, false, out, 'nope')).toThrow(TypeError);
    expect(waiter.pending).toBe(false);
  });
});

describe('Waiter resources', () => {
  it.runIf(hasProcTasks)('1000 sequential waits and 100 waiters leave no fd or thread behind', async () => {
    const [r, w] = testPipe();
    write(w, Buffer.from('x'));
    const out = new Int32Array(2);
    const warm = newWaiter();
    await threadedWait(warm, WAIT_POLL, pairs([r, POLLIN]), 1, 0, out);
    // The thread and its wake-up fd end once the settling callback has returned.
    const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    await turn();
    const fds0 = openFdCount();
    const threads0 = threadCount();
    const { signal } = new AbortController();
    for (let i = 0; i < 1000; i++) {
      const n = await threadedWait(warm, i % 2 ? WAIT_SELECT : WAIT_POLL, pairs([r, POLLIN]), 1, -1, out, { signal });
      expect(n).toBe(1);
    }
    // Each wait removes its abort listener: a long-lived signal does not collect them.
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    await turn();
    expect(openFdCount()).toBe(fds0);
    expect(threadCount()).toBe(threads0);
    for (let i = 0; i < 100; i++) {
      const waiter = createWaiter();
      const p = threadedWait(waiter, i % 2 ? WAIT_SELECT : WAIT_POLL, pairs([r, POLLIN]), 1, -1, out);
      if (i % 3 === 0) {
        waiter.close();
        await expect(p).rejects.toMatchObject({ code: 'ERR_CLOSED' });
      } else {
        expect(await p).toBe(1);
        waiter.close();
      }
    }
    expect(openFdCount()).toBe(fds0);
    expect(threadCount()).toBe(threads0);
  });

  it('an idle waiter does not keep the process alive; a pending one does until it ends', () => {
    const script = `
      const native = require('node-gyp-build')(${JSON.stringify(repoRoot)});
      const idle = new native.Waiter();
      const busy = new native.Waiter();
      const t0 = Date.now();
      busy.wait(0, new Int32Array(0), 0, 300, false, new Int32Array(2), (err, n) => {
        console.log(JSON.stringify({ err, n, took: Date.now() - t0 }));
      });
    `;
    const res = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 });
    expect(res.status).toBe(0);
    const line = JSON.parse(res.stdout.trim()) as { err: unknown; n: number; took: number };
    expect(line).toMatchObject({ err: null, n: 0 });
    expect(line.took).toBeGreaterThanOrEqual(290);
  });

  it('process.exit() during a pending wait exits at once and cleanly', () => {
    const script = `
      const native = require('node-gyp-build')(${JSON.stringify(repoRoot)});
      const [r] = native.pipe(true);
      for (const kind of [0, 1]) {
        new native.Waiter().wait(kind, new Int32Array([r, 1]), 1, -1, false, new Int32Array(2), () => {
          console.log('callback must not run');
        });
      }
      setTimeout(() => process.exit(7), 50);
    `;
    const t0 = performance.now();
    const res = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 });
    expect(res.status).toBe(7);
    expect(res.stdout).toBe('');
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('an exception thrown by a callback reaches uncaughtException; the waiter stays usable', () => {
    const script = `
      const native = require('node-gyp-build')(${JSON.stringify(repoRoot)});
      const w = new native.Waiter();
      process.on('uncaughtException', (err) => {
        console.log('caught ' + err.message);
        w.wait(0, new Int32Array(0), 0, 0, false, new Int32Array(2), (e, n) => { console.log('again ' + n); w.close(); });
      });
      w.wait(0, new Int32Array(0), 0, 0, false, new Int32Array(2), () => { throw new Error('boom'); });
    `;
    const res = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 10_000 });
    expect(res.stdout).toBe('caught boom\nagain 0\n');
    expect(res.status).toBe(0);
  });

  it('a garbage-collected waiter releases its thread and fds', () => {
    const script = `
      const fs = require('fs');
      const native = require('node-gyp-build')(${JSON.stringify(repoRoot)});
      const count = (d) => fs.readdirSync(d).length;
      const before = [count('/proc/self/fd'), count('/proc/self/task')];
      (function () {
        for (let i = 0; i < 20; i++) {
          const w = new native.Waiter();
          w.wait(0, new Int32Array(0), 0, 0, false, new Int32Array(2), () => {});
        }
      })();
      setTimeout(async () => {
        for (let i = 0; i < 10; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); }
        const after = [count('/proc/self/fd'), count('/proc/self/task')];
        console.log(JSON.stringify({ before, after }));
      }, 100);
    `;
    const res = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(res.status).toBe(0);
    const { before, after } = JSON.parse(res.stdout.trim()) as { before: number[]; after: number[] };
    expect(after).toEqual(before);
  });
});

describe.runIf(hasProcTasks)('Waiter in worker_threads', () => {
  const workerCode = (terminate: boolean) => `
    const { parentPort, workerData: [r, w] } = require('node:worker_threads');
    const native = require('node-gyp-build')(${JSON.stringify(repoRoot)});
    const waiter = new native.Waiter();
    waiter.wait(0, new Int32Array([r, native.constants.POLLIN]), 1, -1, false, new Int32Array(2), (err, n) => {
      parentPort.postMessage({ done: n });
      waiter.close();
    });
    parentPort.postMessage('waiting');
    ${terminate ? '' : 'setTimeout(() => native.write(w, Buffer.from("x"), 0, 1), 20);'}
  `;

  async function runWorker(terminate: boolean): Promise<unknown[]> {
    // The pipe belongs to this thread (closed after the test), so only the waiter's own
    // resources can leak when the worker dies.
    const fds = testPipe();
    const worker = new Worker(workerCode(terminate), { eval: true, workerData: fds });
    const messages: unknown[] = [];
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (m: unknown) => {
        messages.push(m);
        if (terminate && m === 'waiting') setTimeout(() => void worker.terminate(), 50);
      });
      worker.on('error', reject);
      worker.on('exit', () => resolve());
    });
    fds.forEach(closeNow);
    return messages;
  }

  async function settledCounts(want: [number, number]): Promise<[number, number]> {
    // A thread that has been joined can stay listed in /proc for a moment.
    let now: [number, number] = [openFdCount(), threadCount()];
    for (let i = 0; i < 50 && (now[0] !== want[0] || now[1] !== want[1]); i++) {
      await sleep(20);
      now = [openFdCount(), threadCount()];
    }
    return now;
  }

  it('works in several workers at once, and a worker terminated mid-wait leaves no fd or thread', async () => {
    // The first runs warm up whatever Node starts lazily for workers.
    const both = await Promise.all([runWorker(false), runWorker(false)]);
    for (const m of both) expect(m).toEqual(['waiting', { done: 1 }]);
    await runWorker(true);
    const before: [number, number] = [openFdCount(), threadCount()];
    for (let i = 0; i < 3; i++) expect(await runWorker(true)).toEqual(['waiting']);
    expect(await settledCounts(before)).toEqual(before);
    // The main thread's own waiters still work afterwards.
    const [r, w] = testPipe();
    write(w, Buffer.from('x'));
    expect(await threadedWait(newWaiter(), WAIT_POLL, pairs([r, POLLIN]), 1, -1, new Int32Array(2))).toBe(1);
  });
});
