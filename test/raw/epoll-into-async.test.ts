// The native Epoll#waitIntoAsync that EpollSelector#selectAsync uses: pollInto's records
// (tags included), written when Node's loop sees the epoll fd readable.
import { describe, expect, it } from 'vitest';
import { native, type NativeEpoll } from '../../lib/binding';
import { constants } from '../../lib/constants';
import { write } from '../../lib/fd';
import { testPipe } from '../helpers/fds';

const { EPOLLIN = 0, EPOLLOUT = 0 } = constants;

function waitInto(ep: NativeEpoll, out: Int32Array, ms: number, stride: number): Promise<number> {
  return new Promise((resolve, reject) => {
    ep.waitIntoAsync(out, ms, stride, (err, n) => (err ? reject(err) : resolve(n as number)));
  });
}

describe.skipIf(!native.has.epoll)('Epoll#waitIntoAsync (native)', () => {
  const make = (): NativeEpoll => new (native.Epoll as NonNullable<typeof native.Epoll>)(-1, true);

  it('writes (fd, events, tag) records, as many as fit, and returns their count', async () => {
    const ep = make();
    const pipes = [testPipe(), testPipe(), testPipe()];
    pipes.forEach(([r], i) => ep.register(r, EPOLLIN, 0x7fff0000 + i));
    const out = new Int32Array(9).fill(-5);
    const p = waitInto(ep, out, -1, 3);
    setTimeout(() => pipes.forEach(([, w]) => write(w, new Uint8Array([1]))), 10);
    const n = await p;
    expect(n).toBeGreaterThanOrEqual(1);
    const got = new Map<number, [number, number]>();
    for (let i = 0; i < n; i++) got.set(out[3 * i], [out[3 * i + 1], out[3 * i + 2]]);
    pipes.forEach(([r], i) => {
      if (got.has(r)) expect(got.get(r)).toEqual([EPOLLIN, 0x7fff0000 + i]);
    });
    // Everything is ready now: one wait reports all three, stride 2 leaves the tags out.
    const out2 = new Int32Array(6).fill(-5);
    expect(await waitInto(ep, out2, 1000, 2)).toBe(3);
    expect([out2[0], out2[2], out2[4]].sort()).toEqual(pipes.map(([r]) => r).sort());
    expect([out2[1], out2[3], out2[5]]).toEqual([EPOLLIN, EPOLLIN, EPOLLIN]);
    // Room for one record: one is written, the others wait for the next call.
    const small = new Int32Array(3).fill(-5);
    expect(await waitInto(ep, small, 1000, 3)).toBe(1);
    ep.close();
  });

  it('times out with 0 and leaves out untouched', async () => {
    const ep = make();
    const [r] = testPipe();
    ep.register(r, EPOLLIN, 1);
    const out = new Int32Array(3).fill(-5);
    const t = performance.now();
    expect(await waitInto(ep, out, 30, 3)).toBe(0);
    expect(performance.now() - t).toBeGreaterThanOrEqual(25);
    expect(Array.from(out)).toEqual([-5, -5, -5]);
    ep.close();
  });

  it('bad arguments throw at once; ERR_BUSY while pending; close settles with ERR_CLOSED', async () => {
    const ep = make();
    const [, w] = testPipe();
    ep.register(w, EPOLLOUT, 0);
    const cb = (): void => {};
    expect(() => ep.waitIntoAsync(new Int32Array(4), -1, 4, cb)).toThrow(RangeError);
    expect(() => ep.waitIntoAsync(new Int32Array(2), -1, 3, cb)).toThrow(RangeError);
    expect(() => ep.waitIntoAsync([] as unknown as Int32Array, -1, 3, cb)).toThrow(TypeError);
    expect(() => ep.waitIntoAsync(new Int32Array(3), -1, 3, 5 as unknown as typeof cb)).toThrow(TypeError);
    ep.unregister(w);
    const p = waitInto(ep, new Int32Array(3), -1, 3);
    expect(() => ep.waitIntoAsync(new Int32Array(3), -1, 3, cb)).toThrow(expect.objectContaining({ code: 'ERR_BUSY' }));
    expect(() => ep.pollInto(new Int32Array(3), 0, 3)).toThrow(expect.objectContaining({ code: 'ERR_BUSY' }));
    ep.close();
    await expect(p).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    expect(() => ep.waitIntoAsync(new Int32Array(3), -1, 3, cb)).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
  });

  it('cancelWait() drops the wait: its callback never runs, and out is not written', async () => {
    const ep = make();
    const [r, w] = testPipe();
    ep.register(r, EPOLLIN, 9);
    const out = new Int32Array(3).fill(-5);
    let called = false;
    ep.waitIntoAsync(out, -1, 3, () => (called = true));
    expect(ep.cancelWait()).toBe(true);
    write(w, new Uint8Array([1]));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(called).toBe(false);
    expect(Array.from(out)).toEqual([-5, -5, -5]);
    expect(await waitInto(ep, out, 1000, 3)).toBe(1);
    expect(Array.from(out)).toEqual([r, EPOLLIN, 9]);
    ep.close();
  });
});
