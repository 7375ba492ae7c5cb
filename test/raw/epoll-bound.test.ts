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
