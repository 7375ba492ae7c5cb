// Raw poll(2): the Poll object as the kernel sees it. Ports CPython's Lib/test/test_poll.py.
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { native } from '../../lib/binding';
import { constants } from '../../lib/constants';
import { read, write } from '../../lib/fd';
import { Poll } from '../../lib/poll';
import { closeNow, testPipe, testSocketPair } from '../helpers/fds';
import { timed, withSignalDuringWait } from '../helpers/timing';
import { thrown } from '../helpers/thrown';

const { POLLIN, POLLOUT, POLLHUP, POLLNVAL } = constants;
const MSG = Buffer.from(' This is a test.');



function readyWith(ready: Array<[number, number]>, flag: number): number[] {
  return ready.filter(([, ev]) => ev & flag).map(([fd]) => fd);
}

function pick<T>(list: T[]): T {
  return list[Math.floor(Math.random() * list.length)];
}

describe('Poll', () => {
  it('drives 12 pipes through a random write/read loop (CPython test_poll1)', () => {
    const p = new Poll();
    const r2w = new Map<number, number>();
    const writers = new Set<number>();
    for (let i = 0; i < 12; i++) {
      const [r, w] = testPipe();
      p.register(r, POLLIN);
      p.register(w, POLLOUT);
      r2w.set(r, w);
      writers.add(w);
    }
    expect(p.size).toBe(24);
    while (writers.size > 0) {
      const readyWriters = readyWith(p.poll(), POLLOUT);
      expect(readyWriters.length).toBeGreaterThan(0);
      expect(readyWriters.every((fd) => writers.has(fd))).toBe(true);
      expect(write(pick(readyWriters), MSG)).toBe(MSG.length);

      const readyReaders = readyWith(p.poll(), POLLIN);
      expect(readyReaders.length).toBe(1);
      const rd = readyReaders[0];
      const buf = Buffer.alloc(MSG.length);
      expect(read(rd, buf)).toBe(MSG.length);
      expect(buf.equals(MSG)).toBe(true);
      const wr = r2w.get(rd)!;
      closeNow(wr);
      closeNow(rd);
      p.unregister(wr);
      p.unregister(rd);
      writers.delete(wr);
    }
    expect(p.size).toBe(0);
  });

  it('reports POLLNVAL for a closed fd (CPython poll_unit_tests)', () => {
    const [r, w] = testPipe();
    const p = new Poll();
    p.register(r);
    p.register(w, POLLOUT);
    closeNow(r);
    const ready = p.poll(0);
    expect(ready).toContainEqual([r, POLLNVAL]);
    // The write end of a pipe whose reader is gone is still a valid fd (POLLERR, not POLLNVAL).
    const writer = ready.find(([fd]) => fd === w);
    expect(writer).toBeDefined();
    expect(writer![1] & POLLNVAL).toBe(0);
  });

  it('reports POLLHUP at end of file (pipe write end closed)', () => {
    const [r, w] = testPipe();
    const p = new Poll();
    p.register(r, POLLIN);
    expect(p.poll(0)).toEqual([]);
    closeNow(w);
    const ready = p.poll(0);
    expect(ready.length).toBe(1);
    expect(ready[0][0]).toBe(r);
    expect(ready[0][1] & POLLHUP).toBe(POLLHUP);
  });

  it('register again modifies; modify and unregister of unknown fds are ERR_NOT_REGISTERED', () => {
    const [a, b] = testSocketPair();
    const p = new Poll();
    p.register(a, POLLIN);
    expect(p.poll(0)).toEqual([]);
    p.register(a, POLLOUT);
    expect(p.size).toBe(1);
    expect(p.poll(0)).toEqual([[a, POLLOUT]]);
    p.modify({ fd: a }, POLLIN);
    expect(p.poll(0)).toEqual([]);
    const mod = thrown(() => p.modify(b, POLLIN));
    expect(mod.code).toBe('ERR_NOT_REGISTERED');
    expect(mod.message).toContain(`fd ${b}`);
    p.unregister({ fileno: () => a });
    const unreg = thrown(() => p.unregister(a));
    expect(unreg.code).toBe('ERR_NOT_REGISTERED');
    expect(unreg.message).toContain(`fd ${a}`);
    expect(p.size).toBe(0);
  });

  it('watches for reading and writing by default (POLLIN | POLLPRI | POLLOUT)', () => {
    const [a, b] = testSocketPair();
    const p = new Poll();
    p.register(a);
    expect(p.poll(0)).toEqual([[a, POLLOUT]]);
    write(b, Buffer.from('x'));
    expect(p.poll(0)).toEqual([[a, POLLIN | POLLOUT]]);
  });

  it('keeps every fd right after unregistering from the middle (swap with last)', () => {
    const p = new Poll();
    const pipes = Array.from({ length: 8 }, () => testPipe());
    for (const [r] of pipes) p.register(r, POLLIN);
    for (const [, w] of pipes) write(w, Buffer.from('x'));
    const gone = [pipes[0][0], pipes[3][0], pipes[7][0], pipes[4][0]];
    for (const fd of gone) p.unregister(fd);
    expect(p.size).toBe(4);
    const left = pipes.map(([r]) => r).filter((fd) => !gone.includes(fd));
    const ready = p.poll(0);
    expect(ready.map(([fd]) => fd).sort((x, y) => x - y)).toEqual(left.sort((x, y) => x - y));
    expect(ready.every(([, ev]) => ev === POLLIN)).toBe(true);
    p.modify(left[0], POLLOUT);
    expect(p.poll(0).map(([fd]) => fd)).not.toContain(left[0]);
  });

  describe('timeouts', () => {
    it('polls nothing: 0 returns at once, 50 waits about 50 ms', () => {
      const p = new Poll();
      const [r0, t0] = timed(() => p.poll(0));
      expect(r0).toEqual([]);
      expect(t0).toBeLessThan(50);
      const [r50, t50] = timed(() => p.poll(50));
      expect(r50).toEqual([]);
      expect(t50).toBeGreaterThanOrEqual(49);
      expect(t50).toBeLessThan(1000);
    });

    it('honours a fractional timeout: 0.3 ms waits, never a busy 0', () => {
      const [r] = testPipe();
      const p = new Poll();
      p.register(r, POLLIN);
      for (let i = 0; i < 5; i++) {
        const [ready, t] = timed(() => p.poll(0.3));
        expect(ready).toEqual([]);
        expect(t).toBeGreaterThanOrEqual(0.28);
        expect(t).toBeLessThan(500);
      }
    });

    it('waits forever for undefined, null and negative, returning when data is ready', () => {
      const [r, w] = testPipe();
      const p = new Poll();
      p.register(r, POLLIN);
      write(w, Buffer.from('x'));
      expect(p.poll()).toEqual([[r, POLLIN]]);
      expect(p.poll(null)).toEqual([[r, POLLIN]]);
      expect(p.poll(-1)).toEqual([[r, POLLIN]]);
      expect(p.poll(-123.5)).toEqual([[r, POLLIN]]);
    });

    it('retries after a signal with the time left (PEP 475)', async () => {
      const [r] = testPipe();
      const p = new Poll();
      p.register(r, POLLIN);
      await withSignalDuringWait(() => {
        const [ready, t] = timed(() => p.poll(400));
        expect(ready).toEqual([]);
        expect(t).toBeGreaterThanOrEqual(395);
        expect(t).toBeLessThan(3000);
      });
    });
  });

  describe('pollInto', () => {
    it('writes pairs, never past out, and rotates so that no fd starves', () => {
      const p = new Poll();
      const readers = Array.from({ length: 5 }, () => testPipe()).map(([r, w]) => {
        write(w, Buffer.from('x'));
        p.register(r, POLLIN);
        return r;
      });
      const backing = new Int32Array(8).fill(-7);
      const out = backing.subarray(2, 6);
      const seen = new Set<number>();
      for (let call = 0; call < 3; call++) {
        expect(p.pollInto(out, 0)).toBe(2);
        expect([backing[0], backing[1], backing[6], backing[7]]).toEqual([-7, -7, -7, -7]);
        expect(out[1]).toBe(POLLIN);
        expect(out[3]).toBe(POLLIN);
        seen.add(out[0]).add(out[2]);
      }
      expect([...seen].sort((x, y) => x - y)).toEqual([...readers].sort((x, y) => x - y));
    });

    it('returns 0 on timeout and the count when fewer are ready than fit', () => {
      const [r, w] = testPipe();
      const p = new Poll();
      p.register(r, POLLIN);
      const out = new Int32Array(16);
      const [n, t] = timed(() => p.pollInto(out, 20));
      expect(n).toBe(0);
      expect(t).toBeGreaterThanOrEqual(19);
      write(w, Buffer.from('x'));
      expect(p.pollInto(out)).toBe(1);
      expect([out[0], out[1]]).toEqual([r, POLLIN]);
    });
  });

  describe('bad input', () => {
    const [TYPE, RANGE] = ['ERR_INVALID_ARG_TYPE', 'ERR_OUT_OF_RANGE'];
    const cases: Array<[string, unknown, string, ErrorConstructor]> = [
      ['a string', '3', TYPE, TypeError],
      ['NaN', NaN, RANGE, RangeError],
      ['-1', -1, RANGE, RangeError],
      ['2**40', 2 ** 40, RANGE, RangeError],
      ['1.5', 1.5, RANGE, RangeError],
      ['an object without fd', {}, TYPE, TypeError],
      ['fileno() returning a string', { fileno: () => 'fileno' }, TYPE, TypeError],
      ['fileno() returning -1', { fileno: () => -1 }, RANGE, RangeError],
      ['null', null, TYPE, TypeError],
    ];
    it.each(cases)('refuses %s as an fd', (_name, fd, code, Ctor) => {
      const p = new Poll();
      for (const call of [() => p.register(fd as number), () => p.modify(fd as number, POLLIN), () => p.unregister(fd as number)]) {
        const err = thrown(call);
        expect(err).toBeInstanceOf(Ctor);
        expect(err.code).toBe(code);
      }
      expect(p.size).toBe(0);
    });

    it('passes a throwing fileno() error through unchanged', () => {
      const boom = new Error('boom');
      const p = new Poll();
      expect(thrown(() => p.register({ fileno: () => { throw boom; } }))).toBe(boom);
    });

    it('refuses unknown, huge and non-number events, in TS and natively', () => {
      const [r] = testPipe();
      const p = new Poll();
      for (const ev of [2 ** 40, 0x10000, 1 << 20, -1, 1.5, NaN]) {
        const err = thrown(() => p.register(r, ev));
        expect(err).toBeInstanceOf(RangeError);
        expect(err.code).toBe(RANGE);
      }
      expect(thrown(() => p.register(r, '1' as unknown as number)).code).toBe(TYPE);
      const raw = new native.Poll();
      for (const ev of [0x10000, -1, 2 ** 31 - 1]) {
        const err = thrown(() => raw.register(r, ev));
        expect(err).toBeInstanceOf(RangeError);
        expect(err.code).toBe(RANGE);
      }
      expect(thrown(() => raw.register(-1, POLLIN)).code).toBe(RANGE);
      raw.register(r, 0xffff);
      expect(raw.size).toBe(1);
      expect(p.size).toBe(0);
    });

    it('refuses bad timeouts', () => {
      const p = new Poll();
      expect(thrown(() => p.poll('1' as unknown as number)).code).toBe(TYPE);
      expect(thrown(() => p.poll(NaN)).code).toBe(RANGE);
      expect(thrown(() => p.poll(2 ** 31)).code).toBe(RANGE);
      expect(thrown(() => p.pollInto(new Int32Array(2), Infinity)).code).toBe(RANGE);
    });

    it('refuses bad out buffers', () => {
      const p = new Poll();
      for (const out of [new Int32Array(0), new Int32Array(1), new Int32Array(3)]) {
        const err = thrown(() => p.pollInto(out, 0));
        expect(err).toBeInstanceOf(RangeError);
        expect(err.code).toBe(RANGE);
      }
      for (const out of [[0, 0], new Uint32Array(2), new Float64Array(2), null]) {
        expect(thrown(() => p.pollInto(out as unknown as Int32Array, 0)).code).toBe(TYPE);
      }
      expect(thrown(() => new native.Poll().pollInto(new Int32Array(1), 0)).code).toBe(RANGE);
    });

    it('leaves the process healthy after all of that', () => {
      const [r, w] = testPipe();
      const p = new Poll();
      p.register(r, POLLIN);
      write(w, Buffer.from('ok'));
      expect(p.poll(0)).toEqual([[r, POLLIN]]);
    });
  });
});
