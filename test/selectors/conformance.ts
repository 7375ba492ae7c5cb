/**
 * The shared selector suite, against the real kernel: CPython's Lib/test/test_selectors.py
 * BaseSelectorTestCase and ScalableSelectorMixIn, in milliseconds. Each backend's test file
 * calls selectorConformance() inside its own describe().
 */
import { spawn } from 'node:child_process';
import { afterEach, expect, it } from 'vitest';
import { EVENT_READ, EVENT_WRITE, FD_SETSIZE } from '../../lib/constants';
import { close, dup2, getNofileLimit, pipe, read, setNofileLimit, write } from '../../lib/fd';
import type { BaseSelector, SelectorKey } from '../../lib/selectors/base';
import { closeNow, openFdCount, testPipe, testSocketPair } from '../helpers/fds';
import { selectorAsyncConformance } from './conformance-async';

const RW = EVENT_READ | EVENT_WRITE;
const ONE = new Uint8Array([120]);

/** How to make the selectors under test. */
export interface ConformanceOptions {
  /** A selector that may watch fds above FD_SETSIZE (defaults to the main factory). */
  scalable?: () => BaseSelector<unknown>;
}

function summary<T>(ready: Array<[SelectorKey<T>, number]>): Array<[number, number]> {
  return ready.map(([key, events]): [number, number] => [key.fd, events]).sort((a, b) => a[0] - b[0]);
}

function drain(fd: number): void {
  const buf = new Uint8Array(4096);
  while ((read(fd, buf) ?? 0) > 0);
}

function elapsed(fn: () => void): number {
  const start = performance.now();
  fn();
  return performance.now() - start;
}

/** Runs the suite; call it inside a describe(). */
export function selectorConformance(factory: () => BaseSelector<unknown>, options: ConformanceOptions = {}): void {
  const made: BaseSelector<unknown>[] = [];
  const make = (): BaseSelector<unknown> => {
    const sel = factory();
    made.push(sel);
    return sel;
  };
  afterEach(() => {
    for (const sel of made.splice(0)) sel.close();
  });

  selectorAsyncConformance(make);

  it('register: keys, bad events, twice, same fd through another object', () => {
    const sel = make();
    const [rd, wr] = testSocketPair();
    const key = sel.register(rd, EVENT_READ, 'data');
    expect(key).toMatchObject({ fileobj: rd, fd: rd, events: EVENT_READ, data: 'data' });
    expect(() => sel.register(wr, 0)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => sel.register(wr, 999)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => sel.register(rd, EVENT_READ)).toThrow(expect.objectContaining({ code: 'ERR_ALREADY_REGISTERED' }));
    expect(() => sel.register({ fileno: () => rd }, EVENT_READ)).toThrow(
      expect.objectContaining({ code: 'ERR_ALREADY_REGISTERED' }),
    );
    expect(sel.getMap().size).toBe(1);
  });

  it('unregister, and unregister twice', () => {
    const sel = make();
    const [rd] = testSocketPair();
    sel.register(rd, EVENT_READ);
    expect(sel.unregister(rd).fd).toBe(rd);
    expect(sel.getMap().size).toBe(0);
    expect(() => sel.unregister(rd)).toThrow(expect.objectContaining({ code: 'ERR_NOT_REGISTERED' }));
  });

  it('unregister after the fd was closed', () => {
    const sel = make();
    const [rd, wr] = testSocketPair();
    sel.register(rd, EVENT_READ);
    sel.register(wr, EVENT_WRITE);
    closeNow(rd);
    closeNow(wr);
    sel.unregister(rd);
    sel.unregister(wr);
    expect(sel.getMap().size).toBe(0);
    expect(sel.select(0)).toEqual([]);
  });

  it('unregister after the fd was closed and its number reused', () => {
    const sel = make();
    const [rd, wr] = testSocketPair();
    sel.register(rd, EVENT_READ);
    sel.register(wr, EVENT_WRITE);
    const [rd2, wr2] = testSocketPair();
    dup2(rd2, rd); // closes the registered file and puts another one at its number
    dup2(wr2, wr);
    sel.unregister(rd);
    sel.unregister(wr);
    expect(sel.getMap().size).toBe(0);
  });

  it('unregister of an object whose fileno() fails after close (found by identity)', () => {
    const sel = make();
    const [a] = testSocketPair();
    const sock = { fd: a, fileno(): number { return this.fd; } };
    sel.register(sock, EVENT_READ);
    closeNow(a);
    sock.fd = -1;
    expect(sel.unregister(sock).fd).toBe(a);
  });

  it('readiness of a closed-and-reused fd never reaches the newer key', () => {
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
    expect(sel.select(0)).toEqual([]);
    // Dropped stale records must not shorten the wait either.
    expect(elapsed(() => expect(sel.select(60)).toEqual([]))).toBeGreaterThanOrEqual(50);
    write(bPeer, ONE);
    expect(sel.select(0).map(([k, ev]) => [k.data, ev])).toEqual([['new', EVENT_READ]]);
  });

  it('modify events and data', () => {
    const sel = make();
    const [rd] = testSocketPair();
    const key = sel.register(rd, EVENT_READ);
    const key2 = sel.modify(rd, EVENT_WRITE);
    expect(key2.events).toBe(EVENT_WRITE);
    expect(key2).not.toBe(key);
    expect(sel.getKey(rd)).toBe(key2);
    const key3 = sel.modify(rd, EVENT_WRITE, 'd');
    expect(key3.data).toBe('d');
    expect(summary(sel.select(0))).toEqual([[rd, EVENT_WRITE]]);
    expect(() => sel.modify(999_999, EVENT_READ)).toThrow(expect.objectContaining({ code: 'ERR_NOT_REGISTERED' }));
  });

  it('a modify that fails leaves map and kernel agreeing', () => {
    const sel = make();
    const [rd] = testSocketPair();
    sel.register(rd, EVENT_READ);
    closeNow(rd);
    let failed = false;
    try {
      sel.modify(rd, EVENT_WRITE);
    } catch (err) {
      failed = true;
      expect(err).toMatchObject({ code: 'EBADF' });
    }
    if (failed) {
      expect(() => sel.getKey(rd)).toThrow(expect.objectContaining({ code: 'ERR_NOT_REGISTERED' }));
      expect(sel.getMap().size).toBe(0);
    } else {
      expect(sel.unregister(rd).events).toBe(EVENT_WRITE);
    }
  });

  it('close: idempotent, then ERR_CLOSED and an empty map', () => {
    const sel = make();
    const [rd, wr] = testSocketPair();
    sel.register(rd, EVENT_READ);
    sel.register(wr, EVENT_WRITE);
    const map = sel.getMap();
    sel.close();
    sel.close();
    expect(map.size).toBe(0);
    expect(sel.fileno()).toBe(-1);
    expect(() => sel.getKey(rd)).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
    expect(() => sel.register(rd, EVENT_READ)).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
    expect(() => sel.select(0)).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
  });

  it('close releases the kernel object (no fd leak)', () => {
    const before = openFdCount();
    for (let i = 0; i < 20; i++) factory().close();
    expect(openFdCount()).toBe(before);
  });

  it('getKey and getMap', () => {
    const sel = make();
    const [rd, wr] = testSocketPair();
    const k1 = sel.register(rd, EVENT_READ, 'r');
    const k2 = sel.register({ fd: wr }, EVENT_WRITE, 'w');
    expect(sel.getKey(rd)).toBe(k1);
    expect(sel.getKey(wr)).toBe(k2);
    expect(() => sel.getKey(999_999)).toThrow(expect.objectContaining({ code: 'ERR_NOT_REGISTERED' }));
    const map = sel.getMap();
    expect(map.size).toBe(2);
    expect(map.has(rd) && map.has(wr) && !map.has(999_999)).toBe(true);
    expect(new Set(map.keys())).toEqual(new Set([rd, wr]));
    expect(new Set(map.values())).toEqual(new Set([k1, k2]));
    expect((map as unknown as { set?: unknown }).set).toBeUndefined();
    sel.unregister(rd);
    expect(map.size).toBe(1);
  });

  it('select: one entry per fd, events merged', () => {
    const sel = make();
    const [rd, wr] = testSocketPair();
    sel.register(rd, EVENT_READ);
    sel.register(wr, EVENT_WRITE);
    expect(summary(sel.select(0))).toEqual([[wr, EVENT_WRITE]]);
    write(wr, ONE);
    const ready = summary(sel.select(1000));
    expect(ready).toContainEqual([rd, EVENT_READ]);
  });

  it('read and write ready on one fd give one entry with both', () => {
    const sel = make();
    const [s, peer] = testSocketPair();
    sel.register(s, RW);
    write(peer, ONE);
    expect(summary(sel.select(1000))).toEqual([[s, RW]]);
  });

  it('12 socketpairs: every message arrives', () => {
    const sel = make();
    const writers = new Map<number, number>();
    const readers = new Set<number>();
    for (let i = 0; i < 12; i++) {
      const [rd, wr] = testSocketPair();
      sel.register(rd, EVENT_READ);
      sel.register(wr, EVENT_WRITE);
      writers.set(wr, rd);
      readers.add(rd);
    }
    const received = new Set<number>();
    const buf = new Uint8Array(16);
    while (writers.size > 0 || received.size < 12) {
      const ready = sel.select(2000);
      expect(ready.length).toBeGreaterThan(0);
      for (const [key, events] of ready) {
        if (events & EVENT_WRITE) {
          write(key.fd, ONE);
          sel.unregister(key.fd);
          writers.delete(key.fd);
        }
        if (events & EVENT_READ) {
          expect(read(key.fd, buf)).toBe(1);
          sel.unregister(key.fd);
          received.add(key.fd);
        }
      }
    }
    expect(received).toEqual(readers);
  });

  it('empty select with timeout 0 returns [] at once (bpo-23009)', () => {
    const sel = make();
    expect(sel.select(0)).toEqual([]);
    expect(sel.select(-1)).toEqual([]); // negative: don't wait, as Python
  });

  it('empty select with a timeout waits that long (bpo-29255)', () => {
    const sel = make();
    const t = elapsed(() => expect(sel.select(200)).toEqual([]));
    expect(t).toBeGreaterThanOrEqual(180);
    expect(t).toBeLessThan(2000);
  });

  it('timeouts: 0, negative, and a wait that times out', () => {
    const sel = make();
    const [rd] = testSocketPair();
    sel.register(rd, EVENT_READ);
    expect(elapsed(() => expect(sel.select(0)).toEqual([]))).toBeLessThan(100);
    expect(elapsed(() => expect(sel.select(-100)).toEqual([]))).toBeLessThan(100);
    const t = elapsed(() => expect(sel.select(100)).toEqual([]));
    expect(t).toBeGreaterThanOrEqual(90);
    expect(t).toBeLessThan(2000);
    // A fraction never becomes a busy 0: it waits at least that long.
    expect(elapsed(() => sel.select(0.5))).toBeGreaterThanOrEqual(0.4);
  });

  it('a signal during the wait does not end it early (EINTR retried with the time left)', async () => {
    const sel = make();
    const [rd] = testSocketPair();
    sel.register(rd, EVENT_READ);
    // SIGCHLD: caught by libuv's own handler, not a JS listener (a signal JS listens for does
    // end a sync wait, with EINTR: test/raw/sync-interrupt.test.ts).
    const child = spawn('/bin/sh', ['-c', `sleep 0.15; kill -CHLD ${process.pid}`], { stdio: 'ignore' });
    try {
      const t = elapsed(() => expect(sel.select(600)).toEqual([]));
      expect(t).toBeGreaterThanOrEqual(580);
    } finally {
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
    }
  });

  it('a fileno() that closes the selector or registers its own fd: ERR_CLOSED / ERR_ALREADY_REGISTERED, no key left (issue 12)', () => {
    const [rd] = testSocketPair();
    // register(): the selector is closed while fileno() runs.
    const sel = make();
    expect(() => sel.register({ fileno: () => (sel.close(), rd) }, EVENT_READ)).toThrow(
      expect.objectContaining({ code: 'ERR_CLOSED' }),
    );
    expect(sel.closed).toBe(true);
    expect(sel.getMap().size).toBe(0);
    // register(): fileno() registers the same fd first; the inner key stays, alone.
    const sel2 = make();
    const inner = { fileno: () => rd };
    expect(() => sel2.register({ fileno: () => (sel2.register(inner, EVENT_READ, 'inner'), rd) }, EVENT_WRITE)).toThrow(
      expect.objectContaining({ code: 'ERR_ALREADY_REGISTERED' }),
    );
    expect([...sel2.getMap().values()].map((k) => k.data)).toEqual(['inner']);
    // modify(), unregister(), getKey() through a new object whose fileno() closes the selector.
    for (const call of [
      (s: BaseSelector<unknown>, f: { fileno(): number }) => s.modify(f, EVENT_WRITE),
      (s: BaseSelector<unknown>, f: { fileno(): number }) => s.unregister(f),
      (s: BaseSelector<unknown>, f: { fileno(): number }) => s.getKey(f),
    ]) {
      const s = make();
      s.register(rd, EVENT_READ);
      expect(() => call(s, { fileno: () => (s.close(), rd) })).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
      expect(s.getMap().size).toBe(0);
    }
    // modify(): fileno() unregisters the fd it names.
    const sel3 = make();
    sel3.register(rd, EVENT_READ);
    expect(() => sel3.modify({ fileno: () => (sel3.unregister(rd), rd) }, EVENT_WRITE)).toThrow(
      expect.objectContaining({ code: 'ERR_NOT_REGISTERED' }),
    );
    expect(sel3.getMap().size).toBe(0);
    expect(sel3.select(0)).toEqual([]);
  });

  it('Symbol.dispose closes', () => {
    let outer: BaseSelector<unknown> | undefined;
    {
      using sel = factory();
      outer = sel;
    }
    expect(() => outer?.select(0)).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
  });

  it('above FD_SETSIZE, up to the RLIMIT_NOFILE limit', () => {
    const limits = getNofileLimit();
    const hard = Number.isFinite(limits.hard) ? limits.hard : 65536;
    if (limits.soft < hard) setNofileLimit(hard);
    // Bounded in time: at most 2^14 fds, leaving room for the runner's own.
    const target = Math.min(hard, 2 ** 14) - openFdCount() - 64;
    expect(target, 'needs an RLIMIT_NOFILE above FD_SETSIZE').toBeGreaterThan(FD_SETSIZE);
    const sel = (options.scalable ?? factory)();
    made.push(sel);
    const fds: number[] = [];
    try {
      while (fds.length + 2 <= target) {
        const [rd, wr] = pipe({ nonblocking: true });
        fds.push(rd, wr);
        sel.register(rd, EVENT_READ);
        sel.register(wr, EVENT_WRITE);
      }
      expect(Math.max(...fds)).toBeGreaterThanOrEqual(FD_SETSIZE);
      const ready = sel.select(0);
      expect(ready.length).toBe(fds.length / 2);
      expect(ready.every(([key, ev]) => ev === EVENT_WRITE && key.events === EVENT_WRITE)).toBe(true);
      // A reader beyond FD_SETSIZE: the last pipe.
      const last = fds.length - 2;
      write(fds[last + 1], ONE);
      const again = sel.select(0).filter(([, ev]) => ev === EVENT_READ);
      expect(again.map(([k]) => k.fd)).toEqual([fds[last]]);
      drain(fds[last]);
    } finally {
      sel.close();
      for (const fd of fds) close(fd);
    }
  }, 60_000);
}
