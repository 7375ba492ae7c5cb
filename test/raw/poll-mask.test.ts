/** Poll masks (issue 12): any 16-bit mask is accepted, as CPython's select.poll (test_poll3). */
import { describe, expect, it } from 'vitest';
import { constants } from '../../lib/constants';
import { write } from '../../lib/fd';
import { Poll } from '../../lib/poll';
import { testPipe } from '../helpers/fds';

describe('Poll masks', () => {
  it('register(fd, 0xffff) and modify with bits the package does not name reach the kernel', () => {
    const [r, w] = testPipe();
    const p = new Poll();
    p.register(r, 0xffff);
    expect(p.poll(0)).toEqual([]);
    write(w, Buffer.from('x'));
    const [[fd, revents]] = p.poll(0);
    expect(fd).toBe(r);
    expect(revents & constants.POLLIN).toBe(constants.POLLIN);
    // A bit no POLL* constant names (0x8000) alone: the kernel ignores it, nothing is ready.
    p.modify(r, 0x8000);
    expect(p.poll(0)).toEqual([]);
    p.register(r, 0);
    expect(p.poll(0)).toEqual([]);
    p.unregister(r);
  });

  it.each([0x10000, -1, 2 ** 31, 1.5])('events %d is ERR_OUT_OF_RANGE', (events) => {
    const [r] = testPipe();
    const p = new Poll();
    expect(() => p.register(r, events)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }));
    p.register(r);
    expect(() => p.modify(r, events)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }));
  });
});
