/** The bound fast paths of Epoll (pollInto, epoll_ctl): same results, and safe once their object is gone. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { native } from '../../lib/binding';
import { constants } from '../../lib/constants';
import { write } from '../../lib/fd';
import { testPipe } from '../helpers/fds';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe.skipIf(!native.has.epoll)('Epoll boundPollInto (Linux)', () => {
  it('returns what pollInto returns, tags included', () => {
    const ep = new native.Epoll!(-1, true);
    const [r, w] = testPipe();
    ep.register(r, constants.EPOLLIN, 7);
    write(w, Buffer.from('x'));
    const wait3 = ep.boundPollInto!(3);
    const wait2 = ep.boundPollInto!(2);
    const out = new Int32Array(6);
    expect(wait3(out, 0)).toBe(1);
    expect(Array.from(out.subarray(0, 3))).toEqual([r, constants.EPOLLIN, 7]);
    expect(wait2(out, 0)).toBe(1);
    expect(Array.from(out.subarray(0, 2))).toEqual([r, constants.EPOLLIN]);
    ep.close();
    expect(() => wait2(out, 0)).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
  });

  it('checks its arguments like the method', () => {
    const ep = new native.Epoll!(-1, true);
    const wait = ep.boundPollInto!(3);
    expect(() => wait(new Int32Array(2), 0)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => wait([] as unknown as Int32Array, 0)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => wait(new Int32Array(3), NaN)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => ep.boundPollInto!(4 as 3)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    ep.close();
  });

  it('outlives its Epoll safely: ERR_CLOSED after the object is collected', async () => {
    let wait: ((out: Int32Array, ms: number) => number) | undefined;
    (() => {
      const ep = new native.Epoll!(-1, true);
      wait = ep.boundPollInto!(2);
    })();
    for (let i = 0; i < 5; i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(() => wait!(new Int32Array(2), 0)).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
  });
});

describe.skipIf(!native.has.epoll)('Epoll boundCtl (Linux)', () => {
  it('registers, modifies and unregisters like the methods, tags included', () => {
    const ep = new native.Epoll!(-1, true);
    const [r, w] = testPipe();
    const [add, mod, del] = (['register', 'modify', 'unregister'] as const).map((name) => ep.boundCtl!(name));
    write(w, Buffer.from('x'));
    const out = new Int32Array(6);
    add(r, constants.EPOLLIN, 7);
    expect(ep.pollInto(out, 0, 3)).toBe(1);
    expect(Array.from(out.subarray(0, 3))).toEqual([r, constants.EPOLLIN, 7]);
    mod(r, constants.EPOLLOUT, 8);
    expect(ep.pollInto(out, 0, 3)).toBe(0);
    del(r);
    expect(() => ep.unregister(r)).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'epoll_ctl' }));
    expect(() => add(r, constants.EPOLLIN, 0)).not.toThrow();
    expect(() => add(r, constants.EPOLLIN, 0)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    expect(() => add('3' as unknown as number, constants.EPOLLIN, 0)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    ep.close();
    expect(() => del(r)).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
  });

  it('refuses a name it does not know', () => {
    const ep = new native.Epoll!(-1, true);
    for (const bad of ['wait', undefined, 1]) {
      expect(() => ep.boundCtl!(bad as 'register')).toThrow(expect.objectContaining({ name: 'TypeError' }));
    }
    ep.close();
  });

  it('outlives its Epoll safely: ERR_CLOSED after the object is collected', async () => {
    let add: ((fd: number, events?: number, tag?: number) => void) | undefined;
    const [r] = testPipe();
    (() => {
      const ep = new native.Epoll!(-1, true);
      add = ep.boundCtl!('register');
    })();
    for (let i = 0; i < 5; i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(() => add!(r, constants.EPOLLIN, 0)).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
  });
});
