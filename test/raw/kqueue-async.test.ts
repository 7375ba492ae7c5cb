// Kqueue#controlAsync: waits in Node's own loop (no thread). Runs where the build has kqueue:
// macOS/BSD, or Linux built with IOMUX_KQUEUE_PREFIX (libkqueue; the loop then watches
// libkqueue's internal epoll fd).
import { once } from 'node:events';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { native } from '../../lib/binding';
import { constants as c } from '../../lib/constants';
import { read, write } from '../../lib/fd';
import { KEvent, Kqueue } from '../../lib/kqueue';
import { testPipe, testSocketPair } from '../helpers/fds';

if (!native.has.kqueue) console.log('controlAsync tests skipped: this build has no kqueue');

const ONE = new Uint8Array([1]);

async function rejection(p: Promise<unknown>): Promise<NodeJS.ErrnoException> {
  try {
    await p;
  } catch (err) {
    return err as NodeJS.ErrnoException;
  }
  throw new Error('expected a rejection');
}

describe.skipIf(!native.has.kqueue)('Kqueue#controlAsync', () => {
  it('resolves when an fd turns readable, while timers keep running', async () => {
    const [r, w] = testPipe();
    using kq = new Kqueue();
    kq.control([new KEvent(r, c.KQ_FILTER_READ, c.KQ_EV_ADD, 0, 0, 42)], 0);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    setTimeout(() => write(w, ONE), 60);
    const t0 = performance.now();
    const events = await kq.controlAsync(null, 4, 5000);
    clearInterval(timer);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(50);
    expect(ticks).toBeGreaterThan(0); // the thread was not blocked (the timer that wrote ran too)
    expect(events.map((e) => [e.ident, e.filter, e.udata, e.data])).toEqual([[r, c.KQ_FILTER_READ, 42, 1]]);
  });

  it('applies changes, and resolves at once with what is ready then', async () => {
    const [, w] = testPipe();
    using kq = new Kqueue();
    const events = await kq.controlAsync([new KEvent(w, c.KQ_FILTER_WRITE, c.KQ_EV_ADD)], 4, 5000);
    expect(events.map((e) => [e.ident, e.filter])).toEqual([[w, c.KQ_FILTER_WRITE]]);
    // A change that fails comes back as an EV_ERROR event.
    const [r] = testPipe();
    const [err] = await kq.controlAsync([new KEvent(r, c.KQ_FILTER_READ, c.KQ_EV_DELETE)], 4, 5000);
    expect(err.flags & c.KQ_EV_ERROR).toBe(c.KQ_EV_ERROR);
    expect(err.data).toBeGreaterThan(0);
  });

  it('times out with [] after about the timeout; 0 does not wait', async () => {
    const [r] = testPipe();
    using kq = new Kqueue();
    kq.control([new KEvent(r, c.KQ_FILTER_READ, c.KQ_EV_ADD)], 0);
    let t0 = performance.now();
    expect(await kq.controlAsync(null, 4, 80.5)).toEqual([]);
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(79);
    expect(ms).toBeLessThan(2000);
    t0 = performance.now();
    expect(await kq.controlAsync(null, 4, 0)).toEqual([]);
    expect(performance.now() - t0).toBeLessThan(100);
  });

  it('a second wait is ERR_BUSY; control() may still apply changes', async () => {
    const [a, peer] = testSocketPair();
    using kq = new Kqueue();
    const pending = kq.controlAsync(null, 4, 5000);
    expect((await rejection(kq.controlAsync(null, 4, 10))).code).toBe('ERR_BUSY');
    expect(() => kq.control(null, 4, 0)).toThrow(expect.objectContaining({ code: 'ERR_BUSY' }));
    kq.control([new KEvent(a, c.KQ_FILTER_READ, c.KQ_EV_ADD)], 0);
    write(peer, ONE);
    const events = await pending;
    expect(events.map((e) => e.ident)).toEqual([a]);
    expect(read(a, new Uint8Array(4))).toBe(1);
  });

  it('close during the wait rejects it with ERR_CLOSED at once; later calls too', async () => {
    const kq = new Kqueue();
    const pending = kq.controlAsync(null, 4);
    setTimeout(() => kq.close(), 20);
    expect((await rejection(pending)).code).toBe('ERR_CLOSED');
    expect((await rejection(kq.controlAsync(null, 4, 0))).code).toBe('ERR_CLOSED');
  });

  it('abort rejects with AbortError (cause = reason) and leaves the object usable', async () => {
    const [r, w] = testPipe();
    using kq = new Kqueue();
    kq.control([new KEvent(r, c.KQ_FILTER_READ, c.KQ_EV_ADD)], 0);
    const ac = new AbortController();
    const pending = kq.controlAsync(null, 4, 5000, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('stop')), 20);
    const err = await rejection(pending);
    expect(err).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect((err.cause as Error).message).toBe('stop');
    expect((await rejection(kq.controlAsync(null, 4, 0, { signal: ac.signal }))).name).toBe('AbortError');
    write(w, ONE);
    expect((await kq.controlAsync(null, 4, 5000)).map((e) => e.ident)).toEqual([r]);
  });

  it('validates its arguments', async () => {
    using kq = new Kqueue();
    expect((await rejection(kq.controlAsync(null, -1))).code).toBe('ERR_OUT_OF_RANGE');
    expect((await rejection(kq.controlAsync(null, 1, Number.NaN))).code).toBe('ERR_OUT_OF_RANGE');
    expect((await rejection(kq.controlAsync(null, 1, 0, { signal: 5 as unknown as AbortSignal }))).code).toBe(
      'ERR_INVALID_ARG_TYPE',
    );
    expect((await rejection(kq.controlAsync(5 as unknown as KEvent[], 1))).code).toBe('ERR_INVALID_ARG_TYPE');
  });

  it('an unawaited, unreferenced object does not keep waits alive after close', async () => {
    for (let i = 0; i < 20; i++) {
      const kq = new Kqueue();
      const p = kq.controlAsync(null, 1, 1000);
      kq.close();
      expect((await rejection(p)).code).toBe('ERR_CLOSED');
    }
  });

  it('counts async waits in stats', async () => {
    const [r, w] = testPipe();
    using kq = new Kqueue();
    kq.control([new KEvent(r, c.KQ_FILTER_READ, c.KQ_EV_ADD)], 0);
    kq.resetStats();
    setTimeout(() => write(w, ONE), 10);
    await kq.controlAsync(null, 4, 5000);
    const s = kq.stats();
    expect(s).toMatchObject({ calls: 1, events: 1, fds: 0 });
    expect(s.syscalls).toBeGreaterThanOrEqual(1);
  });

  it('survives worker_threads terminated mid-wait; the main thread still waits', async () => {
    const root = path.resolve(__dirname, '../..');
    // Each worker waits forever on its own kqueue, then is terminated: the env cleanup hook
    // closes the uv handles.
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const b = require(require.resolve('node-gyp-build', { paths: [workerData] }))(workerData);
      const kq = new b.Kqueue();
      const again = () => kq.waitAsync(new Int32Array(40), 4, -1, again);
      again();
      setInterval(() => {}, 1000);
      parentPort.postMessage('waiting');
    `;
    for (let round = 0; round < 6; round++) {
      const workers = [0, 1, 2].map(() => new Worker(code, { eval: true, workerData: root }));
      await Promise.all(workers.map((w) => once(w, 'message')));
      await Promise.all(workers.map((w) => w.terminate()));
    }
    const [r, w] = testPipe();
    using kq = new Kqueue();
    kq.control([new KEvent(r, c.KQ_FILTER_READ, c.KQ_EV_ADD)], 0);
    setTimeout(() => write(w, ONE), 10);
    expect((await kq.controlAsync(null, 4, 2000)).map((e) => e.ident)).toEqual([r]);
  });
});
