/** EpollSelector against the kernel: the shared suite, then epoll(7)'s own cases. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENT_READ, EVENT_WRITE } from '../../lib/constants';
import { canUse } from '../../lib/selectors/default';
import { EpollSelector } from '../../lib/selectors/epoll';
import { close, dup2, write } from '../../lib/fd';
import { closeNow, fdFlags, openFdCount, testSocketPair } from '../helpers/fds';
import { selectorConformance } from './conformance';

describe.skipIf(!canUse('epoll'))('EpollSelector', () => {
  selectorConformance(() => new EpollSelector());

  it('leaves behind a closed fd whose file lives on (dup): no spinning on its stale events', () => {
    const sel = new EpollSelector();
    const [a, b] = testSocketPair();
    const [c, d] = testSocketPair();
    let copy = 3000;
    while (fdFlags(copy) !== undefined) copy++;
    dup2(a, copy); // a's file now lives on through the copy
    try {
      sel.register(a, EVENT_READ, 'orphan');
      sel.register(c, EVENT_READ, 'live');
      write(b, Buffer.from('x')); // a's file stays readable: epoll reports it on every wait
      closeNow(a);
      sel.unregister(a); // the kernel keeps (file, fd) in the set: the fd is closed, the file is not
      const before = sel.fileno();
      sel.resetStats();
      expect(sel.select(200)).toEqual([]);
      // Without the move to a new epoll set, the 200 ms wait spins on the orphan's records.
      expect(sel.stats().syscalls).toBeLessThan(10);
      expect(sel.fileno()).not.toBe(before);
      write(d, Buffer.from('y'));
      expect(sel.select(1000).map(([key, ev]) => [key.data, ev])).toEqual([['live', EVENT_READ]]);
    } finally {
      close(copy);
      sel.close();
    }
  });

  it('is the epoll backend and owns an fd', () => {
    const before = openFdCount();
    const sel = new EpollSelector();
    expect(sel.backend).toBe('epoll');
    expect(sel.fileno()).toBeGreaterThanOrEqual(0);
    expect(openFdCount()).toBe(before + 1);
    sel.close();
    expect(sel.fileno()).toBe(-1);
    expect(openFdCount()).toBe(before);
  });

  it('a regular file gives EPERM and leaves no key behind', () => {
    const file = path.join(os.tmpdir(), `iomux-epoll-${process.pid}.txt`);
    fs.writeFileSync(file, 'x');
    const fd = fs.openSync(file, 'r');
    const sel = new EpollSelector();
    try {
      expect(() => sel.register(fd, EVENT_READ)).toThrow(expect.objectContaining({ code: 'EPERM', syscall: 'epoll_ctl' }));
      expect(sel.getMap().size).toBe(0);
      expect(() => sel.getKey(fd)).toThrow(expect.objectContaining({ code: 'ERR_NOT_REGISTERED' }));
    } finally {
      sel.close();
      fs.closeSync(fd);
      fs.unlinkSync(file);
    }
  });

  it('modify of a closed fd fails with EBADF and unregisters it (bpo-30014)', () => {
    const sel = new EpollSelector();
    const [a] = testSocketPair();
    sel.register(a, EVENT_READ);
    closeNow(a);
    expect(() => sel.modify(a, EVENT_WRITE)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(sel.getMap().size).toBe(0);
    sel.close();
  });

  it('a closed fd leaves the set by itself: nothing is reported for it', () => {
    const sel = new EpollSelector();
    const [a] = testSocketPair();
    sel.register(a, EVENT_READ | EVENT_WRITE);
    closeNow(a);
    expect(sel.select(0)).toEqual([]);
    expect(sel.unregister(a).fd).toBe(a);
    sel.close();
  });
});
