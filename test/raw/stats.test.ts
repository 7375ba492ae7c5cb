import { describe, expect, it } from 'vitest';
import { constants } from '../../lib/constants';
import { write } from '../../lib/fd';
import { Poll } from '../../lib/poll';
import { resetSelectStats, select, selectStats } from '../../lib/select';
import { testPipe } from '../helpers/fds';

const POLLFD_BYTES = 8; // sizeof(struct pollfd): int fd, short events, short revents

describe('wait statistics', () => {
  it('Poll counts a known sequence of calls exactly', () => {
    const p = new Poll();
    const [r1, w1] = testPipe();
    const [r2] = testPipe();
    p.register(r1, constants.POLLIN);
    p.register(r2, constants.POLLIN);
    expect(p.stats()).toEqual({ calls: 0, syscalls: 0, fds: 0, events: 0, bytesIn: 0, syscallNs: 0, callNs: 0, timing: false });
    p.poll(0); // nothing ready
    write(w1, Buffer.from('x'));
    p.poll(0); // r1 ready
    p.pollInto(new Int32Array(4), 0); // r1 ready
    const s = p.stats();
    expect(s).toMatchObject({ calls: 3, syscalls: 3, fds: 6, events: 2, bytesIn: 6 * POLLFD_BYTES, syscallNs: 0, callNs: 0 });
  });

  it('Poll measures time only when asked, and resets', () => {
    const p = new Poll();
    const [r] = testPipe();
    p.register(r, constants.POLLIN);
    p.setStatsTiming(true);
    p.poll(20);
    const s = p.stats();
    expect(s.timing).toBe(true);
    expect(s.syscallNs).toBeGreaterThanOrEqual(19e6);
    expect(s.callNs).toBeGreaterThanOrEqual(s.syscallNs);
    p.resetStats();
    expect(p.stats()).toMatchObject({ calls: 0, syscalls: 0, syscallNs: 0, callNs: 0, timing: true });
  });

  it('raw select() counts its calls, fds, events and fd_set bytes', () => {
    resetSelectStats(false);
    const [r, w] = testPipe();
    select([r], [w], [], 0); // w writable
    select([r], [], [r], 0); // nothing
    const s = selectStats();
    expect(s).toMatchObject({ calls: 2, syscalls: 2, fds: 4, events: 1, syscallNs: 0, timing: false });
    // Three sets, each trimmed to the words that hold fds up to the highest one.
    const wordBytes = process.platform === 'darwin' ? 4 : 8;
    const words = Math.floor(Math.max(r, w) / (wordBytes * 8)) + 1;
    expect(s.bytesIn).toBe(2 * 3 * words * wordBytes);
    resetSelectStats(true);
    select([r], [], [], 5);
    expect(selectStats().syscallNs).toBeGreaterThanOrEqual(4e6);
    resetSelectStats(false);
  });
});
