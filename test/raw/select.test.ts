// Raw select(2). Ports CPython's Lib/test/test_select.py and adds the large-fd and bad-input cases.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { getSystemErrorName } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { native } from '../../lib/binding';
import { FD_SETSIZE } from '../../lib/constants';
import { dup2, getNofileLimit, read, setNofileLimit, write } from '../../lib/fd';
import { select } from '../../lib/select';
import type { FileLike } from '../../lib/validate';
import { closeNow, testPipe, testSocketPair, track } from '../helpers/fds';
import { timed, withSignalDuringWait } from '../helpers/timing';
import { thrown } from '../helpers/thrown';

const TYPE = 'ERR_INVALID_ARG_TYPE';
const RANGE = 'ERR_OUT_OF_RANGE';


function isOpen(fd: number): boolean {
  try {
    fs.fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

/** The first fd number at or above `from` that is not open (never assume fd numbers). */
function freeFdFrom(from: number): number {
  let fd = from;
  while (isOpen(fd)) fd++;
  return fd;
}


describe('select', () => {
  it('returns three new arrays holding the very objects given (CPython test_returned_list_identity)', () => {
    const [r, w] = testPipe();
    const rl = [{ fileno: () => r }];
    const wl = [{ fd: w }];
    const xl: Array<{ fd: number }> = [];
    const [a, b, c] = select<{ fd: number } | { fileno(): number }>(rl, wl, xl, 0);
    expect(a).toEqual([]);
    expect(b).toHaveLength(1);
    expect(b[0]).toBe(wl[0]);
    expect(c).toEqual([]);
    for (const out of [a, b, c]) for (const input of [rl, wl, xl]) expect(out).not.toBe(input);
    expect(a).not.toBe(c);
    write(w, Buffer.from('x'));
    const [a2] = select(rl, [], [], 0);
    expect(a2).toHaveLength(1);
    expect(a2[0]).toBe(rl[0]);
  });

  it('reports readable, writable and nothing in input order, duplicates included', () => {
    const [r1, w1] = testPipe();
    const [r2, w2] = testPipe();
    write(w2, Buffer.from('x'));
    expect(select([r1, r2, r2], [w1, r1], [r1, w1], 0)).toEqual([[r2, r2], [w1], []]);
    write(w1, Buffer.from('y'));
    expect(select([r2, r1], [], [], 0)).toEqual([[r2, r1], [], []]);
  });

  it('accepts any iterable: Set, generator, Map keys', () => {
    const [a, b] = testSocketPair();
    write(b, Buffer.from('x'));
    function* gen(): Generator<number> {
      yield a;
    }
    expect(select(new Set([a]), gen(), new Map([[b, 1]]).keys(), 0)).toEqual([[a], [a], []]);
  });

  it('calls fileno() once per item per call', () => {
    const [r, w] = testPipe();
    let calls = 0;
    const obj = {
      fileno(): number {
        calls++;
        return w;
      },
    };
    const [, ready] = select([], [obj], [], 0);
    expect(ready).toEqual([obj]);
    expect(calls).toBe(1);
    write(w, Buffer.from('x'));
    // Each list resolves the object again (three more calls), and each result holds what that
    // list's fd is ready for: the pipe's write end is writable only, its read end readable.
    expect(select([obj, r], [obj], [obj], 0)).toEqual([[r], [obj], []]);
    expect(calls).toBe(4);
  });

  it('uses the fd that fileno() returns in this call when it changes between calls', () => {
    const [r, w] = testPipe();
    let next = r;
    const obj = { fileno: (): number => next };
    expect(select([obj], [obj], [], 0)).toEqual([[], [], []]);
    next = w;
    expect(select([obj], [obj], [], 0)).toEqual([[], [obj], []]);
    write(w, Buffer.from('x'));
    next = r;
    expect(select([obj], [], [], 0)).toEqual([[obj], [], []]);
  });

  it('stops at the new end when fileno() shrinks the list (CPython test_select_mutated)', () => {
    const [, w] = testPipe();
    const a: Array<{ fileno(): number }> = [];
    const f = {
      fileno(): number {
        a.pop();
        return w;
      },
    };
    for (let i = 0; i < 10; i++) a.push(f);
    const before = a.slice();
    const [rl, wl, xl] = select([], a, [], 0);
    expect(rl).toEqual([]);
    expect(wl).toEqual(before.slice(0, 5));
    expect(xl).toEqual([]);
  });

  it('survives a fileno() that itself calls select (re-entrant)', () => {
    const [r, w] = testPipe();
    write(w, Buffer.from('x'));
    const inner = {
      fileno(): number {
        expect(select([r], [w], [], 0)).toEqual([[r], [w], []]);
        return r;
      },
    };
    const many = Array.from({ length: 100 }, () => w);
    const [rl, wl] = select<FileLike>([inner], many, [], 0);
    expect(rl).toEqual([inner]);
    expect(wl).toHaveLength(100);
  });

  it('grows its scratch buffer for long lists', () => {
    const [, w] = testPipe();
    const many = Array.from({ length: 3000 }, () => ({ fd: w }));
    const [, wl] = select([], many, [], 0);
    expect(wl).toHaveLength(3000);
    expect(wl[2999]).toBe(many[2999]);
  });

  it('follows a child that writes lines, timeouts growing (CPython test_select)', () => {
    const [r, w] = testPipe(false);
    const child = spawn('sh', ['-c', 'for i in 0 1 2 3 4; do echo testing...; sleep 0.05; done'], {
      stdio: ['ignore', w, 'ignore'],
    });
    closeNow(w);
    const buf = Buffer.alloc(64);
    let text = '';
    let eof = false;
    for (const t of [0, 10, 20, 40, 80, 160, ...Array<null>(20).fill(null)]) {
      const [rl, wl, xl] = select([r], [], [], t);
      if (rl.length === 0) {
        expect([wl, xl]).toEqual([[], []]);
        continue;
      }
      expect(rl).toEqual([r]);
      const n = read(r, buf)!;
      if (n === 0) {
        eof = true;
        break;
      }
      text += buf.toString('utf8', 0, n);
    }
    expect(eof).toBe(true);
    expect(text).toBe('testing...\n'.repeat(5));
    child.kill();
  });

  describe('timeouts', () => {
    it('0 returns at once; 50 waits about 50 ms on nothing ready', () => {
      const [r] = testPipe();
      const [res0, t0] = timed(() => select([r], [], [], 0));
      expect(res0).toEqual([[], [], []]);
      expect(t0).toBeLessThan(50);
      const [res50, t50] = timed(() => select([r], [], [r], 50));
      expect(res50).toEqual([[], [], []]);
      expect(t50).toBeGreaterThanOrEqual(49);
      expect(t50).toBeLessThan(1000);
      const [resEmpty, tEmpty] = timed(() => select([], [], [], 20));
      expect(resEmpty).toEqual([[], [], []]);
      expect(tEmpty).toBeGreaterThanOrEqual(19);
    });

    it('honours a fractional timeout: 0.3 ms waits, never a busy 0', () => {
      const [r] = testPipe();
      for (let i = 0; i < 5; i++) {
        const [res, t] = timed(() => select([r], [], [], 0.3));
        expect(res).toEqual([[], [], []]);
        expect(t).toBeGreaterThanOrEqual(0.28);
        expect(t).toBeLessThan(500);
      }
    });

    it('waits forever for undefined and null, returning when data is ready', () => {
      const [r, w] = testPipe();
      write(w, Buffer.from('x'));
      expect(select([r], [], [])).toEqual([[r], [], []]);
      expect(select([r], [], [], null)).toEqual([[r], [], []]);
    });

    it('refuses negative, NaN, too large and non-number timeouts', () => {
      const [r] = testPipe();
      for (const t of [-1, -0.5, NaN, 2 ** 31, Infinity]) {
        const err = thrown(() => select([r], [], [], t));
        expect(err).toBeInstanceOf(RangeError);
        expect(err.code).toBe(RANGE);
      }
      for (const t of ['1', {}, 1n]) {
        const err = thrown(() => select([r], [], [], t as unknown as number));
        expect(err).toBeInstanceOf(TypeError);
        expect(err.code).toBe(TYPE);
      }
    });

    it('retries after a signal with the time left (PEP 475)', async () => {
      const [r] = testPipe();
      await withSignalDuringWait(() => {
        const [res, t] = timed(() => select([r], [], [], 400));
        expect(res).toEqual([[], [], []]);
        expect(t).toBeGreaterThanOrEqual(395);
        expect(t).toBeLessThan(3000);
      });
    });
  });

  describe('errors', () => {
    it('gives EBADF (syscall select) for a closed fd', () => {
      const [r] = testPipe();
      closeNow(r);
      const err = thrown(() => select([r], [], [], 0));
      expect(err.code).toBe('EBADF');
      expect(err.syscall).toBe('select');
      expect(getSystemErrorName(err.errno!)).toBe('EBADF');
      expect(err.message).toBe('EBADF: bad file descriptor, select');
    });

    const items: Array<[string, unknown, string, ErrorConstructor]> = [
      ['a string', '3', TYPE, TypeError],
      ['NaN', NaN, RANGE, RangeError],
      ['-1', -1, RANGE, RangeError],
      ['2**40', 2 ** 40, RANGE, RangeError],
      ['1.5', 1.5, RANGE, RangeError],
      ['null', null, TYPE, TypeError],
      ['an object without fd', {}, TYPE, TypeError],
      ['fileno() returning a string', { fileno: () => 'fileno' }, TYPE, TypeError],
      ['fileno() returning 1.5', { fileno: () => 1.5 }, RANGE, RangeError],
    ];
    it.each(items)('refuses %s as an item, in every list', (_name, item, code, Ctor) => {
      const [, w] = testPipe();
      for (const lists of [[[item], [], []], [[], [w, item], []], [[], [], [item]]]) {
        const err = thrown(() => select(...(lists as [number[], number[], number[]]), 0));
        expect(err).toBeInstanceOf(Ctor);
        expect(err.code).toBe(code);
      }
    });

    it('passes a throwing fileno() error through unchanged', () => {
      const boom = new Error('boom');
      expect(thrown(() => select([{ fileno: () => { throw boom; } }], [], [], 0))).toBe(boom);
    });

    it('refuses lists that are not iterable (CPython select(1, 2, 3))', () => {
      for (const bad of [1, null, undefined, {}, () => [], Symbol('x')]) {
        const err = thrown(() => select(bad as unknown as number[], [], [], 0));
        expect(err).toBeInstanceOf(TypeError);
        expect(err.code).toBe(TYPE);
      }
      expect(thrown(() => select([], [], 3 as unknown as number[], 0)).code).toBe(TYPE);
      // A string is iterable, but its items are strings, not file-likes.
      expect(thrown(() => select('abc' as unknown as number[], [], [], 0)).code).toBe(TYPE);
    });

    it('refuses bad options', () => {
      expect(thrown(() => select([], [], [], 0, 'x' as unknown as object)).code).toBe(TYPE);
      expect(thrown(() => select([], [], [], 0, { allowLargeFds: 1 as unknown as boolean })).code).toBe(TYPE);
    });

    it('native select refuses what TS would have caught, without writing out of bounds', () => {
      const [r] = testPipe();
      expect(thrown(() => native.select(new Int32Array([r, -1]), 2, 0, 0, 0, false)).code).toBe(RANGE);
      expect(thrown(() => native.select(new Int32Array([-5]), 1, 0, 0, 0, true)).code).toBe(RANGE);
      expect(thrown(() => native.select(new Int32Array([FD_SETSIZE]), 1, 0, 0, 0, false)).code).toBe(RANGE);
      expect(thrown(() => native.select(new Int32Array([1 << 30]), 1, 0, 0, 0, false)).code).toBe(RANGE);
      expect(thrown(() => native.select(new Int32Array([r]), 1, 1, 0, 0, false)).code).toBe(RANGE);
      expect(thrown(() => native.select(new Int32Array([r]), -1, 0, 0, 0, false)).code).toBe(RANGE);
      expect(thrown(() => native.select([r] as unknown as Int32Array, 1, 0, 0, 0, false)).code).toBe(TYPE);
      expect(thrown(() => native.select(new Int32Array([r]), 1, 0, 0, NaN, false)).code).toBe(RANGE);
    });

    it('leaves the process healthy after all of that', () => {
      const [r, w] = testPipe();
      write(w, Buffer.from('ok'));
      expect(select([r], [w], [], 0)).toEqual([[r], [w], []]);
    });
  });
});

const limits = getNofileLimit();
const canGoLarge = limits.hard === Infinity || limits.hard > 5100;

// Needs RLIMIT_NOFILE above 5100 so that fds 1500 and 5000 can exist; the soft limit is raised
// to the hard one for the test and put back after.
describe.skipIf(!canGoLarge)('select with fds >= FD_SETSIZE', () => {
  let saved = limits;
  beforeAll(() => {
    saved = getNofileLimit();
    const want = saved.hard === Infinity ? 65536 : saved.hard;
    if (saved.soft < want) setNofileLimit(want);
  });
  afterAll(() => {
    setNofileLimit(saved.soft, saved.hard);
  });

  function highPipe(at: number): [number, number] {
    const [r, w] = testPipe();
    const high = track(dup2(r, freeFdFrom(at)));
    return [high, w];
  }

  it('throws ERR_FD_SETSIZE without allowLargeFds, before any fileno() after it', () => {
    const [high] = highPipe(1500);
    let later = 0;
    const after = {
      fileno(): number {
        later++;
        return 0;
      },
    };
    for (const lists of [[[high, after], [], []], [[], [high], []], [[], [], [high]]]) {
      const err = thrown(() => select(...(lists as [number[], number[], number[]]), 0));
      expect(err).toBeInstanceOf(RangeError);
      expect(err.code).toBe('ERR_FD_SETSIZE');
      expect(err.message).toContain(`fd ${high}`);
    }
    expect(later).toBe(0);
    expect(thrown(() => select([{ fd: FD_SETSIZE }], [], [], 0)).code).toBe('ERR_FD_SETSIZE');
  });

  it('watches fds 1500 and 5000 with allowLargeFds', () => {
    const [r1500, w1500] = highPipe(1500);
    const [r5000, w5000] = highPipe(5000);
    const [low, lowW] = testPipe();
    expect(r1500).toBeGreaterThanOrEqual(1500);
    expect(r5000).toBeGreaterThanOrEqual(5000);
    const opts = { allowLargeFds: true };
    expect(select([r1500, r5000, low], [], [r5000], 0, opts)).toEqual([[], [], []]);
    write(w5000, Buffer.from('x'));
    expect(select([r1500, r5000, low], [], [r1500, r5000], 0, opts)).toEqual([[r5000], [], []]);
    write(w1500, Buffer.from('x'));
    write(lowW, Buffer.from('x'));
    expect(select([low, r5000, r1500], [], [], null, opts)).toEqual([[low, r5000, r1500], [], []]);
    const [res, t] = timed(() => select([], [], [r5000], 30, opts));
    expect(res).toEqual([[], [], []]);
    expect(t).toBeGreaterThanOrEqual(29);
  });

  it('gives EBADF for a closed large fd', () => {
    const [high] = highPipe(3000);
    closeNow(high);
    const err = thrown(() => select([high], [], [], 0, { allowLargeFds: true }));
    expect(err.code).toBe('EBADF');
    expect(err.syscall).toBe('select');
  });
});
