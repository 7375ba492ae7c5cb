/**
 * The shared selectAsync() suite, run by selectorConformance() for every backend: readiness,
 * many events at once, timeouts, abort, close, ERR_BUSY, Node's loop running on, stale
 * readiness, and the events() loop.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { EVENT_READ, EVENT_WRITE } from '../../lib/constants';
import { dup2, read, write } from '../../lib/fd';
import type { BaseSelector, SelectorKey } from '../../lib/selectors/base';
import { closeNow, testPipe, testSocketPair } from '../helpers/fds';

const ONE = new Uint8Array([120]);

function summary<T>(ready: Array<[SelectorKey<T>, number]>): Array<[unknown, number]> {
  return ready.map(([key, events]): [unknown, number] => [key.data, events]);
}

/** Resolves to how long the promise took to settle, and what it settled with. */
async function timed<R>(p: Promise<R>): Promise<{ ms: number; value?: R; error?: unknown }> {
  const start = performance.now();
  try {
    const value = await p;
    return { ms: performance.now() - start, value };
  } catch (error) {
    return { ms: performance.now() - start, error };
  }
}

/** 'late' when p has not settled within ms. */
function settlesWithin<R>(p: Promise<R>, ms: number): Promise<unknown> {
  return Promise.race([p.then((v) => v, (e: unknown) => e), sleep(ms, 'late')]);
}

/** Runs the async suite; make() gives a selector that is closed after the test. */
export function selectorAsyncConformance(make: () => BaseSelector<unknown>): void {
  describe('selectAsync', () => {
    it('resolves when a file turns ready, with its key and merged events', async () => {
      const sel = make();
      const [rd, peer] = testSocketPair();
      sel.register(rd, EVENT_READ, 'rd');
      let written = false;
      setTimeout(() => {
        written = true;
        write(peer, ONE);
      }, 20);
      const { value } = await timed(sel.selectAsync());
      // It resolved because of the write, not before it (the wait started with nothing ready).
      expect(written).toBe(true);
      expect(summary(value ?? [])).toEqual([['rd', EVENT_READ]]);
      sel.modify(rd, EVENT_READ | EVENT_WRITE, 'both');
      expect(summary(await sel.selectAsync(1000))).toEqual([['both', EVENT_READ | EVENT_WRITE]]);
    });

    it('many ready files come back in one result', async () => {
      const sel = make();
      const want: number[] = [];
      for (let i = 0; i < 12; i++) {
        const [rd, peer] = testSocketPair();
        sel.register(rd, EVENT_READ, i);
        write(peer, ONE);
        want.push(i);
      }
      const ready = await sel.selectAsync(1000);
      expect(ready.map(([key]) => key.data as number).sort((a, b) => a - b)).toEqual(want);
    });

    it('times out with [], fractions too, and 0 or negative do not wait', async () => {
      const sel = make();
      const [rd] = testSocketPair();
      sel.register(rd, EVENT_READ);
      const t = await timed(sel.selectAsync(100));
      expect(t.value).toEqual([]);
      expect(t.ms).toBeGreaterThanOrEqual(90);
      expect(t.ms).toBeLessThan(2000);
      const f = await timed(sel.selectAsync(2.5));
      expect(f.value).toEqual([]);
      expect(f.ms).toBeGreaterThanOrEqual(2);
      for (const timeout of [0, -1, -100]) {
        const z = await timed(sel.selectAsync(timeout));
        expect(z.value).toEqual([]);
        expect(z.ms).toBeLessThan(100);
      }
      const [wr] = testSocketPair();
      sel.register(wr, EVENT_WRITE, 'wr');
      expect(summary(await sel.selectAsync(0))).toEqual([['wr', EVENT_WRITE]]);
    });

    it('bad arguments reject (never throw) with Node codes', async () => {
      const sel = make();
      await expect(sel.selectAsync(NaN)).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
      await expect(sel.selectAsync(2 ** 31)).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
      await expect(sel.selectAsync('1' as unknown as number)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
      await expect(sel.selectAsync(1, { signal: {} as AbortSignal })).rejects.toMatchObject({
        code: 'ERR_INVALID_ARG_TYPE',
      });
      await expect(sel.selectAsync(1, 5 as unknown as object)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    });

    it('an aborted signal rejects before waiting; the selector stays usable', async () => {
      const sel = make();
      const [rd, peer] = testSocketPair();
      sel.register(rd, EVENT_READ, 'rd');
      const reason = new Error('stop');
      const err = await sel.selectAsync(null, { signal: AbortSignal.abort(reason) }).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: reason });
      write(peer, ONE);
      expect(summary(await sel.selectAsync(1000))).toEqual([['rd', EVENT_READ]]);
    });

    it('an abort during the wait rejects at once; the selector stays usable', async () => {
      const sel = make();
      const [rd, peer] = testSocketPair();
      sel.register(rd, EVENT_READ, 'rd');
      const ac = new AbortController();
      const p = timed(sel.selectAsync(null, { signal: ac.signal }));
      setTimeout(() => ac.abort('enough'), 30);
      const { ms, error } = await p;
      expect(error).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: 'enough' });
      expect(ms).toBeLessThan(1000);
      // The same signal, aborted, refuses the next wait; a fresh one works.
      await expect(sel.selectAsync(null, { signal: ac.signal })).rejects.toMatchObject({ code: 'ABORT_ERR' });
      setTimeout(() => write(peer, ONE), 10);
      expect(summary(await sel.selectAsync(1000, { signal: new AbortController().signal }))).toEqual([
        ['rd', EVENT_READ],
      ]);
    });

    it('an abort after the wait ended changes nothing, and leaves no listener behind', async () => {
      const sel = make();
      const [wr] = testSocketPair();
      sel.register(wr, EVENT_WRITE);
      const ac = new AbortController();
      let added = 0;
      let removed = 0;
      const signal = ac.signal;
      const add = signal.addEventListener.bind(signal);
      const remove = signal.removeEventListener.bind(signal);
      signal.addEventListener = ((...args: Parameters<typeof add>) => (added++, add(...args))) as typeof add;
      signal.removeEventListener = ((...args: Parameters<typeof remove>) => (removed++, remove(...args))) as typeof remove;
      for (let i = 0; i < 5; i++) expect((await sel.selectAsync(1000, { signal })).length).toBe(1);
      ac.abort();
      expect(added).toBe(5);
      expect(removed).toBe(5);
    });

    it('close() during the wait settles it at once with ERR_CLOSED', async () => {
      const sel = make();
      const [rd] = testSocketPair();
      sel.register(rd, EVENT_READ);
      const p = sel.selectAsync();
      await sleep(20);
      sel.close();
      expect(await settlesWithin(p, 50)).toMatchObject({ code: 'ERR_CLOSED' });
      await expect(sel.selectAsync()).rejects.toMatchObject({ code: 'ERR_CLOSED' });
      sel.close();
    });

    it('a second wait while one is pending: ERR_BUSY, for select() too', async () => {
      const sel = make();
      const [rd, peer] = testSocketPair();
      sel.register(rd, EVENT_READ, 'rd');
      const first = sel.selectAsync(2000);
      await expect(sel.selectAsync(0)).rejects.toMatchObject({ code: 'ERR_BUSY' });
      await expect(sel.selectAsync(10)).rejects.toMatchObject({ code: 'ERR_BUSY' });
      expect(() => sel.select(0)).toThrow(expect.objectContaining({ code: 'ERR_BUSY' }));
      write(peer, ONE);
      expect(summary(await first)).toEqual([['rd', EVENT_READ]]);
      expect(summary(sel.select(0))).toEqual([['rd', EVENT_READ]]);
    });

    it("Node's loop runs timers while a wait is pending", async () => {
      const sel = make();
      const [rd] = testSocketPair();
      sel.register(rd, EVENT_READ);
      let ticks = 0;
      const timer = setInterval(() => ticks++, 10);
      try {
        expect(await sel.selectAsync(250)).toEqual([]);
      } finally {
        clearInterval(timer);
      }
      expect(ticks).toBeGreaterThanOrEqual(5);
    });

    it('readiness of a closed-and-reused fd never reaches the newer key, nor shortens the wait', async () => {
      const sel = make();
      const [a, aPeer] = testSocketPair();
      write(aPeer, ONE); // the old file is readable and stays so
      sel.register(a, EVENT_READ, 'old');
      const [keep] = testPipe();
      dup2(a, keep); // keeps the old file alive under another number
      const [b, bPeer] = testSocketPair();
      dup2(b, a); // the number `a` now names a new, idle file
      sel.unregister(a);
      sel.register(a, EVENT_READ, 'new');
      const t = await timed(sel.selectAsync(80));
      expect(t.value).toEqual([]);
      expect(t.ms).toBeGreaterThanOrEqual(70);
      setTimeout(() => write(bPeer, ONE), 10);
      expect(summary(await sel.selectAsync(1000))).toEqual([['new', EVENT_READ]]);
    });

    it('a file unregistered during the wait is not reported, and the wait goes on', async () => {
      const sel = make();
      const [a, aPeer] = testSocketPair();
      const [b, bPeer] = testSocketPair();
      sel.register(a, EVENT_READ, 'a');
      sel.register(b, EVENT_READ, 'b');
      setTimeout(() => {
        sel.unregister(a);
        write(aPeer, ONE);
      }, 20);
      setTimeout(() => write(bPeer, ONE), 120);
      const t = await timed(sel.selectAsync(2000));
      expect(summary(t.value ?? [])).toEqual([['b', EVENT_READ]]);
      expect(t.ms).toBeGreaterThanOrEqual(100);
    });

    it('a file registered, or modified, during the wait takes part in that wait', async () => {
      const sel = make();
      const [idle] = testSocketPair();
      sel.register(idle, EVENT_READ, 'idle');
      const [rd, peer] = testSocketPair();
      setTimeout(() => {
        sel.register(rd, EVENT_READ, 'late');
        write(peer, ONE);
      }, 20);
      const t = await timed(sel.selectAsync(5000));
      expect(summary(t.value ?? [])).toEqual([['late', EVENT_READ]]);
      expect(t.ms).toBeLessThan(2500);
      expect(read(rd, new Uint8Array(1))).toBe(1);
      setTimeout(() => sel.modify(idle, EVENT_READ | EVENT_WRITE, 'idle'), 20);
      const m = await timed(sel.selectAsync(5000));
      expect(summary(m.value ?? []).find(([data]) => data === 'idle')).toEqual(['idle', EVENT_WRITE]);
      expect(m.ms).toBeLessThan(2500);
    });

    it('a socket unregistered and closed during the wait is released at once: its peer sees EOF', async () => {
      const sel = make();
      const [a, aPeer] = testSocketPair();
      const [other] = testSocketPair();
      sel.register(a, EVENT_READ, 'a');
      sel.register(other, EVENT_READ, 'other');
      const p = sel.selectAsync(3000).catch((err: unknown) => err);
      await sleep(20);
      sel.unregister(a);
      closeNow(a);
      const start = performance.now();
      const buf = new Uint8Array(1);
      let got: number | null = null;
      while ((got = read(aPeer, buf)) === null && performance.now() - start < 2500) await sleep(5);
      expect(got).toBe(0); // EOF
      expect(performance.now() - start).toBeLessThan(1000);
      sel.close();
      expect(await p).toMatchObject({ code: 'ERR_CLOSED' });
    });

    it('events(): yields entries until close(), then returns', async () => {
      const sel = make();
      const [rd, peer] = testSocketPair();
      sel.register(rd, EVENT_READ, 'rd');
      setTimeout(() => write(peer, new Uint8Array([1, 2, 3])), 10);
      const seen: number[] = [];
      const buf = new Uint8Array(1);
      for await (const [key, events] of sel.events()) {
        expect(events).toBe(EVENT_READ);
        expect(read(key.fd, buf)).toBe(1);
        seen.push(buf[0]);
        if (seen.length === 3) setTimeout(() => sel.close(), 10);
      }
      expect(seen).toEqual([1, 2, 3]);
      expect(sel.closed).toBe(true);
    });

    it('events(): an abort ends the loop with AbortError; an unregistered entry is skipped', async () => {
      const sel = make();
      const [a, aPeer] = testSocketPair();
      const [b, bPeer] = testSocketPair();
      sel.register(a, EVENT_READ, 'a');
      sel.register(b, EVENT_READ, 'b');
      write(aPeer, ONE);
      write(bPeer, ONE);
      const ac = new AbortController();
      const seen: unknown[] = [];
      const run = async (): Promise<void> => {
        for await (const [key] of sel.events({ signal: ac.signal })) {
          seen.push(key.data);
          expect(read(key.fd, new Uint8Array(1))).toBe(1);
          // Whichever comes first unregisters the other: its entry in this batch is skipped.
          sel.unregister(key.fd === a ? b : a);
          setTimeout(() => ac.abort('done'), 20);
        }
      };
      await expect(run()).rejects.toMatchObject({ name: 'AbortError', cause: 'done' });
      expect(seen.length).toBe(1);
      expect(sel.closed).toBe(false);
    });
  });
}
