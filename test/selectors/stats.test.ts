/**
 * Selector wait statistics: for a known sequence of select()/selectAsync() calls, every counter
 * matches exactly, per backend; and the thread waiter's own counters.
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createWaiter, threadedWait, WAIT_POLL } from '../helpers/threaded-wait';
import type { NativeWaiter } from '../../lib/binding';
import { constants, EVENT_READ, FD_SETSIZE } from '../../lib/constants';
import type { BaseSelector } from '../../lib/selectors/base';
import { canUse } from '../../lib/selectors/default';
import { EpollSelector } from '../../lib/selectors/epoll';
import { PollSelector } from '../../lib/selectors/poll';
import { SelectSelector } from '../../lib/selectors/select';
import { write } from '../../lib/fd';
import type { WaitStats } from '../../lib/stats';
import { testSocketPair } from '../helpers/fds';

const ONE = new Uint8Array([1]);
const POLLFD_BYTES = 8;
/** What select(2) copies in: three bitmaps of maxfd + 1 bits, in whole longs (64-bit Linux). */
const setsBytes = (maxfd: number): number => 3 * (Math.floor(maxfd / 64) + 1) * 8;

/** The fds opened while fn runs (Linux /proc), to find a waiter's wake-up fd. */
async function newFds(fn: () => Promise<unknown>): Promise<number[]> {
  const list = (): number[] => fs.readdirSync('/proc/self/fd').map(Number);
  const before = new Set(list());
  await fn();
  return list().filter((fd) => !before.has(fd));
}

type Counts = Omit<WaitStats, 'syscallNs' | 'callNs' | 'timing'>;

function counts(s: WaitStats): Counts {
  const { calls, syscalls, fds, events, bytesIn } = s;
  return { calls, syscalls, fds, events, bytesIn };
}

/** Per backend: what one sync wait on fds and one threaded wait (fds + the wake-up fd) add. */
interface Cost {
  syncFds: (fds: number[]) => number;
  syncBytes: (fds: number[]) => number;
  threadFds: (fds: number[], wake: number) => number;
  threadBytes: (fds: number[], wake: number) => number;
}

const backends: Array<{ name: string; make: () => BaseSelector<unknown>; cost: Cost; threaded: boolean }> = [
  {
    name: 'epoll',
    make: () => new EpollSelector(),
    cost: { syncFds: () => 0, syncBytes: () => 0, threadFds: () => 0, threadBytes: () => 0 },
    threaded: false,
  },
  {
    name: 'poll',
    make: () => new PollSelector(),
    cost: {
      syncFds: (fds) => fds.length,
      syncBytes: (fds) => fds.length * POLLFD_BYTES,
      threadFds: (fds) => fds.length + 1,
      threadBytes: (fds) => (fds.length + 1) * POLLFD_BYTES,
    },
    threaded: true,
  },
  {
    name: 'select',
    make: () => new SelectSelector(),
    cost: {
      syncFds: (fds) => fds.length,
      syncBytes: (fds) => setsBytes(Math.max(...fds)),
      threadFds: (fds) => fds.length + 1,
      threadBytes: (fds, wake) => setsBytes(Math.max(wake, ...fds)),
    },
    threaded: true,
  },
];

const open: Array<BaseSelector<unknown> | NativeWaiter> = [];
afterEach(() => {
  for (const o of open.splice(0)) o.close();
});

for (const { name, make, cost, threaded } of backends) {
  // The byte counts assume Linux's 64-bit fd_set words and its /proc.
  describe.skipIf(!canUse(name as 'epoll') || process.platform !== 'linux')(`${name} selector stats`, () => {
    it('counts a known sequence of waits exactly', async () => {
      const sel = make();
      open.push(sel);
      const [rd, peer] = testSocketPair();
      const [idle] = testSocketPair();
      expect(Math.max(rd, idle)).toBeLessThan(FD_SETSIZE);
      sel.register(rd, EVENT_READ);
      sel.register(idle, EVENT_READ);
      sel.resetStats();
      const want: Counts = { calls: 0, syscalls: 0, fds: 0, events: 0, bytesIn: 0 };
      const sync = (events: number): void => {
        want.calls++;
        want.syscalls++;
        want.fds += cost.syncFds([rd, idle]);
        want.bytesIn += cost.syncBytes([rd, idle]);
        want.events += events;
      };

      expect(sel.select(0)).toEqual([]);
      sync(0);
      expect(counts(sel.stats())).toEqual(want);

      write(peer, ONE);
      expect(sel.select(0).length).toBe(1);
      sync(1);
      expect(counts(sel.stats())).toEqual(want);

      // One async wait on a file that is ready already: epoll drains once when its fd turns
      // readable; poll and select make one threaded wait, whose records are the answer.
      let ready = 0;
      const opened = await newFds(async () => (ready = (await sel.selectAsync()).length));
      expect(ready).toBe(1);
      // The threaded backends make their waiter (its wake-up fd) on the first async wait.
      expect(opened.length).toBe(threaded ? 1 : 0);
      if (threaded) {
        want.calls++;
        want.syscalls++;
        want.fds += cost.threadFds([rd, idle], opened[0]);
        want.bytesIn += cost.threadBytes([rd, idle], opened[0]);
        want.events += 1;
      } else {
        want.calls++;
        want.syscalls++;
        want.events++;
      }
      expect(counts(sel.stats())).toEqual(want);

      // A timeout of 0 is one select(0).
      expect((await sel.selectAsync(0)).length).toBe(1);
      sync(1);
      expect(sel.stats()).toEqual({ ...want, syscallNs: 0, callNs: 0, timing: false });

      // Registrations changed after the thread found rd ready but before its answer was taken:
      // poll and select do not trust it and make one zero-timeout wait on the current set. (The
      // JS thread is blocked for a while so that the thread has answered before the change.)
      sel.resetStats();
      const p = sel.selectAsync(2000);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
      sel.unregister(idle);
      expect((await p).map(([k, ev]) => [k.fd, ev])).toEqual([[rd, EVENT_READ]]);
      const wake = opened[0];
      const changed: Counts = threaded
        ? {
            calls: 2,
            syscalls: 2,
            fds: cost.threadFds([rd, idle], wake) + cost.syncFds([rd]),
            events: 1 + 1,
            bytesIn: cost.threadBytes([rd, idle], wake) + cost.syncBytes([rd]),
          }
        : { calls: 1, syscalls: 1, fds: 0, events: 1, bytesIn: 0 };
      expect(counts(sel.stats())).toEqual(changed);

      sel.resetStats();
      expect(counts(sel.stats())).toEqual({ calls: 0, syscalls: 0, fds: 0, events: 0, bytesIn: 0 });
    });

    it('timing: off by default, measured once switched on, kept across resetStats()', async () => {
      const sel = make();
      open.push(sel);
      const [rd, peer] = testSocketPair();
      sel.register(rd, EVENT_READ);
      sel.select(0);
      expect(sel.stats()).toMatchObject({ syscallNs: 0, callNs: 0, timing: false });
      sel.setStatsTiming(true);
      write(peer, ONE);
      await sel.selectAsync();
      sel.select(0);
      const s = sel.stats();
      expect(s.timing).toBe(true);
      expect(s.syscallNs).toBeGreaterThan(0);
      expect(s.callNs).toBeGreaterThan(0);
      sel.resetStats();
      expect(sel.stats()).toMatchObject({ calls: 0, syscallNs: 0, callNs: 0, timing: true });
      sel.setStatsTiming(false);
      expect(sel.stats().timing).toBe(false);
    });
  });
}

describe('Waiter stats', () => {
  it('counts each finished wait on the JS thread: ready, timed out, cancelled; not one ended by close()', async () => {
    const waiter = createWaiter();
    open.push(waiter);
    const [rd, peer] = testSocketPair();
    const fds = new Int32Array([rd, constants.POLLIN]);
    const out = new Int32Array(2);
    const pollfd = (n: number): number => n * POLLFD_BYTES;
    expect(counts(waiter.stats())).toEqual({ calls: 0, syscalls: 0, fds: 0, events: 0, bytesIn: 0 });

    write(peer, ONE);
    expect(await threadedWait(waiter, WAIT_POLL, fds, 1, -1, out)).toBe(1);
    expect(counts(waiter.stats())).toEqual({ calls: 1, syscalls: 1, fds: 2, events: 1, bytesIn: pollfd(2) });

    const quiet = new Int32Array([rd, 0]); // no events asked: never ready
    expect(await threadedWait(waiter, WAIT_POLL, quiet, 1, 5, out)).toBe(0);
    expect(counts(waiter.stats())).toEqual({ calls: 2, syscalls: 2, fds: 4, events: 1, bytesIn: pollfd(4) });

    const ac = new AbortController();
    const aborted = threadedWait(waiter, WAIT_POLL, quiet, 1, -1, out, { signal: ac.signal });
    setTimeout(() => ac.abort(), 10);
    await expect(aborted).rejects.toMatchObject({ code: 'ABORT_ERR' });
    expect(counts(waiter.stats())).toEqual({ calls: 3, syscalls: 3, fds: 6, events: 1, bytesIn: pollfd(6) });

    const closed = threadedWait(waiter, WAIT_POLL, quiet, 1, -1, out);
    setTimeout(() => waiter.close(), 10);
    await expect(closed).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    expect(counts(waiter.stats())).toEqual({ calls: 3, syscalls: 3, fds: 6, events: 1, bytesIn: pollfd(6) });
  });
});
