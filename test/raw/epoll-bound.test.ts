/** The bound fast path of Epoll#pollInto: same results, and safe once its object is gone. */
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
    const wait = ep.boundPollInto!();
    const out = new Int32Array(6);
    expect(wait(out, 0, 3)).toBe(1);
    expect(Array.from(out.subarray(0, 3))).toEqual([r, constants.EPOLLIN, 7]);
    expect(wait(out, 0, 2)).toBe(1);
    expect(Array.from(out.subarray(0, 2))).toEqual([r, constants.EPOLLIN]);
    ep.close();
    expect(() => wait(out, 0, 2)).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
  });

  it('checks its arguments like the method', () => {
    const ep = new native.Epoll!(-1, true);
    const wait = ep.boundPollInto!();
    expect(() => wait(new Int32Array(1), 0, 2)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => wait([] as unknown as Int32Array, 0, 2)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => wait(new Int32Array(4), 0, 4)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    ep.close();
  });

  it('outlives its Epoll safely: ERR_CLOSED after the object is collected', async () => {
    let wait: ((out: Int32Array, ms: number, stride: number) => number) | undefined;
    (() => {
      const ep = new native.Epoll!(-1, true);
      wait = ep.boundPollInto!();
    })();
    for (let i = 0; i < 5; i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(() => wait!(new Int32Array(2), 0, 2)).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
  });
});
