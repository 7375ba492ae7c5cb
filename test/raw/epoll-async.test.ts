// Epoll#pollAsync: a wait on Node's own loop (a uv_poll_t on the epoll fd, no thread).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { native } from '../../lib/binding';
import { constants } from '../../lib/constants';
import { Epoll } from '../../lib/epoll';
import { dup2, write } from '../../lib/fd';
import { fdFlags, testPipe } from '../helpers/fds';

const { EPOLLIN = 0, EPOLLOUT = 0 } = constants;
const repoRoot = path.resolve(__dirname, '../..');

const epolls: Epoll[] = [];
afterEach(() => {
  for (const ep of epolls.splice(0)) ep.close();
});

function make(): Epoll {
  const ep = new Epoll();
  epolls.push(ep);
  return ep;
}

/** A number no fd currently uses (checked through /proc/self/fdinfo). */
function freeFd(from = 700): number {
  let n = from;
  while (fdFlags(n) !== undefined) n++;
  return n;
}

function later<T>(ms: number, fn: () => T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(fn()), ms));
}

/** Awaits a wait; given a function, times it from before the call (a promise already started
 * would be timed from later than its deadline, by however long this process was descheduled). */
async function settle<T>(p: Promise<T> | (() => Promise<T>)): Promise<{ value?: T; error?: NodeJS.ErrnoException; ms: number }> {
  const t = process.hrtime.bigint();
  try {
    const value = await (typeof p === 'function' ? p() : p);
    return { value, ms: Number(process.hrtime.bigint() - t) / 1e6 };
  } catch (error) {
    return { error: error as NodeJS.ErrnoException, ms: Number(process.hrtime.bigint() - t) / 1e6 };
  }
}

/** Runs a script in a fresh node process (so fd counts and crashes are its own). */
function runChild(script: string, args: string[] = []): { status: number | null; stdout: string; stderr: string } {
  const prelude = `const b = require('node-gyp-build')(${JSON.stringify(repoRoot)});\n`;
  return spawnSync(process.execPath, [...args, '-e', prelude + script], { encoding: 'utf8', timeout: 60_000 });
}

describe.skipIf(!native.has.epoll)('Epoll#pollAsync', () => {
  it('resolves when a registered fd becomes ready', async () => {
    const [r, w] = testPipe();
    const ep = make();
    ep.register(r, EPOLLIN);
    const wait = ep.pollAsync();
    await later(20, () => write(w, Buffer.from('x')));
    expect(await wait).toEqual([[r, EPOLLIN]]);
    // The object is reusable, and a ready fd is reported without waiting.
    expect(await ep.pollAsync(1000)).toEqual([[r, EPOLLIN]]);
  });

  it('returns every event ready at wake-up in one result, up to maxevents', async () => {
    const pipes = Array.from({ length: 50 }, () => testPipe());
    const ep = make();
    for (const [r] of pipes) ep.register(r, EPOLLIN);
    const wait = ep.pollAsync(5000);
    await later(10, () => pipes.forEach(([, w]) => write(w, Buffer.from('x'))));
    const events = await wait;
    expect(events).toHaveLength(50);
    expect(new Set(events.map(([fd]) => fd))).toEqual(new Set(pipes.map(([r]) => r)));
    expect(events.every(([, ev]) => ev === EPOLLIN)).toBe(true);
    expect(await ep.pollAsync(0, { maxevents: 7 })).toHaveLength(7);
    expect(await ep.pollAsync(0, { maxevents: -1 })).toHaveLength(50);
    // One wake-up, one drain: the 50 events came from a single epoll_wait.
    const s = ep.stats();
    expect(s.calls).toBe(3);
    expect(s.events).toBe(107);
    expect(s.syscalls).toBeLessThanOrEqual(4);
  });

  it('times out with [] after the timeout, also a fractional one', async () => {
    const [r] = testPipe();
    const ep = make();
    ep.register(r, EPOLLIN);
    const fifty = await settle(() => ep.pollAsync(50));
    expect(fifty.value).toEqual([]);
    expect(fifty.ms).toBeGreaterThanOrEqual(49);
    expect(fifty.ms).toBeLessThan(2000);
    for (const t of [0.3, 1.5, 0]) {
      const res = await settle(() => ep.pollAsync(t));
      expect(res.value).toEqual([]);
      expect(res.ms).toBeGreaterThanOrEqual(t);
    }
  });

  it('does not spin when an fd stays ready after a wait', async () => {
    const [r, w] = testPipe();
    const ep = make();
    ep.register(r, EPOLLIN);
    write(w, Buffer.from('x'));
    expect(await ep.pollAsync(1000)).toEqual([[r, EPOLLIN]]);
    // r stays readable (level-triggered) and nobody waits: the loop must sleep, not spin.
    const cpu = process.cpuUsage();
    const t = process.hrtime.bigint();
    await later(300, () => undefined);
    const wallUs = Number(process.hrtime.bigint() - t) / 1e3;
    const used = process.cpuUsage(cpu);
    expect(used.user + used.system).toBeLessThan(wallUs * 0.5);
    expect(await ep.pollAsync(0)).toEqual([[r, EPOLLIN]]);
  });

  it('keeps Node timers running while it waits', async () => {
    const [r] = testPipe();
    const ep = make();
    ep.register(r, EPOLLIN);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    try {
      expect(await ep.pollAsync(200)).toEqual([]);
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThanOrEqual(5);
  });

  it('rejects with AbortError for a signal aborted before the wait', async () => {
    const ep = make();
    const reason = new Error('not now');
    const res = await settle(ep.pollAsync(1000, { signal: AbortSignal.abort(reason) }));
    expect(res.error).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: reason });
    expect(res.ms).toBeLessThan(500);
    expect(await ep.pollAsync(0)).toEqual([]);
  });

  it('rejects with AbortError when aborted during the wait, and stays usable', async () => {
    const [r, w] = testPipe();
    const ep = make();
    ep.register(r, EPOLLIN);
    const ac = new AbortController();
    const wait = settle(ep.pollAsync(10_000, { signal: ac.signal }));
    await later(20, () => ac.abort('stop'));
    const res = await wait;
    expect(res.error).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: 'stop' });
    expect(res.ms).toBeLessThan(5000);
    // No longer busy: a new wait starts and sees readiness.
    const next = ep.pollAsync(5000, { signal: new AbortController().signal });
    write(w, Buffer.from('x'));
    expect(await next).toEqual([[r, EPOLLIN]]);
    expect(ep.poll(0)).toEqual([[r, EPOLLIN]]);
  });

  it('rejects a pending wait with ERR_CLOSED at once when closed', async () => {
    const [r] = testPipe();
    const ep = make();
    ep.register(r, EPOLLIN);
    const wait = settle(ep.pollAsync(10_000));
    await later(20, () => ep.close());
    const res = await wait;
    expect(res.error).toMatchObject({ code: 'ERR_CLOSED' });
    expect(res.ms).toBeLessThan(5000);
    expect((await settle(ep.pollAsync(0))).error).toMatchObject({ code: 'ERR_CLOSED' });
  });

  it('refuses a second wait while one is pending with ERR_BUSY', async () => {
    const [r, w] = testPipe();
    const ep = make();
    ep.register(r, EPOLLIN);
    const first = ep.pollAsync(5000);
    expect((await settle(ep.pollAsync(0))).error).toMatchObject({ code: 'ERR_BUSY' });
    expect(() => ep.poll(0)).toThrow(expect.objectContaining({ code: 'ERR_BUSY' }));
    expect(() => ep.pollInto(new Int32Array(2), 0)).toThrow(expect.objectContaining({ code: 'ERR_BUSY' }));
    // The interest list can still change meanwhile.
    ep.modify(r, EPOLLIN | EPOLLOUT);
    write(w, Buffer.from('x'));
    expect(await first).toEqual([[r, EPOLLIN]]);
  });

  it('lets dup-fd twins wait at once; a same-number twin waits on a thread and breaks nothing', async () => {
    const [r, w] = testPipe();
    const ep = make();
    ep.register(r, EPOLLIN);
    const twin = Epoll.fromFd(dup2(ep.fileno(), freeFd()));
    epolls.push(twin);
    const both = Promise.all([ep.pollAsync(5000), twin.pollAsync(5000)]);
    await later(10, () => write(w, Buffer.from('x')));
    expect(await both).toEqual([[[r, EPOLLIN]], [[r, EPOLLIN]]]);
    const same = Epoll.fromFd(ep.fileno());
    // libuv lets one handle watch an fd number; the twin's wait is watched by a thread instead.
    const sameWait = same.pollAsync(5000);
    expect(await ep.pollAsync(5000)).toEqual([[r, EPOLLIN]]);
    expect(await sameWait).toEqual([[r, EPOLLIN]]);
    // Both own one fd number: the first close closes it, the second sees EBADF (as CPython).
    epolls.splice(epolls.indexOf(ep), 1);
    same.close();
    expect(() => ep.close()).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'close' }));
  });

  it.each([
    ["timeout '1'", (ep: Epoll) => ep.pollAsync('1' as unknown as number), 'ERR_INVALID_ARG_TYPE'],
    ['timeout NaN', (ep: Epoll) => ep.pollAsync(NaN), 'ERR_OUT_OF_RANGE'],
    ['maxevents 0', (ep: Epoll) => ep.pollAsync(0, { maxevents: 0 }), 'ERR_OUT_OF_RANGE'],
    ['options 1', (ep: Epoll) => ep.pollAsync(0, 1 as unknown as object), 'ERR_INVALID_ARG_TYPE'],
    ['signal {}', (ep: Epoll) => ep.pollAsync(0, { signal: {} as AbortSignal }), 'ERR_INVALID_ARG_TYPE'],
  ])('rejects %s with %s', async (_name, fn, code) => {
    const ep = make();
    expect((await settle(fn(ep))).error).toMatchObject({ code });
    expect(await ep.pollAsync(0)).toEqual([]);
  });

  it('does not keep the process alive between waits, and keeps the object alive during one', () => {
    const res = runChild(
      `
      const [r, w] = b.pipe(true);
      let ep = new b.Epoll(-1, true);
      ep.register(r, 1, 0);
      ep.waitAsync(-1, 16, (err, events) => {
        console.log(JSON.stringify({ err: err && err.message, events, r }));
        // The object is unreachable now; once collected, its handles must not hold the loop.
        setImmediate(() => global.gc());
      });
      ep = null;
      (async () => {
        for (let i = 0; i < 4; i++) { global.gc(); await new Promise((res) => setImmediate(res)); }
        b.write(w, Buffer.from('x'), 0, 1);
      })();
      `,
      ['--expose-gc'],
    );
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    const out = JSON.parse(res.stdout) as { err: string | null; events: Array<[number, number]>; r: number };
    expect(out.err).toBeNull();
    expect(out.events).toEqual([[out.r, EPOLLIN]]);
  });

  it('sends what a native callback throws to uncaughtException, and exits with a wait pending', () => {
    const res = runChild(`
      process.on('uncaughtException', (e) => {
        console.log('caught ' + e.message);
        // process.exit() with a wait pending: the cleanup hook closes the uv handles.
        const pending = new b.Epoll(-1, true);
        pending.waitAsync(-1, 1, () => console.log('settled?!'));
        setTimeout(() => process.exit(0), 10);
      });
      const ep = new b.Epoll(-1, true);
      ep.waitAsync(0, 1, () => { throw new Error('boom'); });
    `);
    expect(res.stderr).toBe('');
    expect(res.stdout).toBe('caught boom\n');
    expect(res.status).toBe(0);
  });

  it('survives worker_threads terminated mid-wait, leaving no fds open', () => {
    const res = runChild(`
      const fs = require('fs');
      const { Worker } = require('worker_threads');
      const count = () => fs.readdirSync('/proc/self/fd').length;
      const workerCode = \`
        const { parentPort, workerData } = require('worker_threads');
        const b = require('node-gyp-build')(\${JSON.stringify(${JSON.stringify(repoRoot)})});
        const ep = new b.Epoll(-1, true);
        const r = workerData;
        ep.register(r, 1, 0);
        const idle = new b.Epoll(-1, true);
        idle.waitAsync(0, 1, () => {
          // Wait again after every wake-up, so termination can land in the middle of one.
          const again = () => ep.waitAsync(-1, 16, again);
          again();
          setInterval(() => {}, 1000);
          parentPort.postMessage('waiting');
        });
      \`;
      async function round(i) {
        // The pipe is the process's, not the worker's: only the worker's own fds should go.
        const [pr, pw] = b.pipe(true);
        const workers = Array.from({ length: 4 }, () => new Worker(workerCode, { eval: true, workerData: pr }));
        await Promise.all(workers.map((wk) => new Promise((res, rej) => {
          wk.once('message', (m) => (m === 'waiting' ? res() : rej(new Error(m))));
          wk.once('error', rej);
        })));
        // Readiness and termination at about the same moment: wake-ups race the teardown.
        b.write(pw, Buffer.from('x'), 0, 1);
        await new Promise((res) => setTimeout(res, i % 3));
        await Promise.all(workers.map((wk) => wk.terminate()));
        b.close(pr);
        b.close(pw);
      }
      (async () => {
        await round(0);  // Warm up: the first workers load what every later one shares.
        const before = count();
        for (let i = 0; i < 12; i++) await round(i);
        await new Promise((res) => setTimeout(res, 100));
        const after = count();
        // The main thread's own epoll still works.
        const [r, w] = b.pipe(true);
        const ep = new b.Epoll(-1, true);
        ep.register(r, 1, 0);
        b.write(w, Buffer.from('x'), 0, 1);
        ep.waitAsync(1000, 4, (err, events) => {
          console.log(JSON.stringify({ before, after, err: err && err.message, ready: events.length }));
          ep.close(); b.close(r); b.close(w);
        });
      })().catch((e) => { console.error(e); process.exit(1); });
    `);
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    const out = JSON.parse(res.stdout) as { before: number; after: number; err: string | null; ready: number };
    expect(out.after).toBe(out.before);
    expect(out.err).toBeNull();
    expect(out.ready).toBe(1);
  });
});
