// Issue 12, items 6 and 9: native code must refuse what it cannot allocate and keep no memory
// sized by one call's argument. select() of an fd at or past RLIMIT_NOFILE is EBADF before any
// bitmap is sized to it (2**31 - 1 used to overflow maxfd + 1; 2**31 - 2 said "not ready" and
// kept 768 MiB); Epoll#poll(t, 2**31 - 1) used to abort on std::bad_alloc, and
// Epoll#poll(0, 2**24) kept a 192 MiB buffer for the object's life.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { native } from '../../lib/binding';
import { getNofileLimit } from '../../lib/fd';
import { select } from '../../lib/select';
import { addonExpr } from '../helpers/addon';
import { thrown } from '../helpers/thrown';

const MiB = 1024 * 1024;

/** Resident memory growth (MiB) across fn, after a GC on both sides. */
function rssGrowth(fn: () => void): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage().rss;
  fn();
  gc?.();
  return (process.memoryUsage().rss - before) / MiB;
}

describe('select() with fds at or past RLIMIT_NOFILE', () => {
  const limit = getNofileLimit().soft;
  const badFds = [2 ** 31 - 1, 2 ** 31 - 2, 2 ** 30, ...(Number.isFinite(limit) && limit < 2 ** 31 ? [limit] : [])];

  it.each(badFds)('select([%i]) fails with EBADF (syscall select), allocating nothing', (fd) => {
    let err: NodeJS.ErrnoException | undefined;
    const grew = rssGrowth(() => {
      err = thrown(() => select([fd], [], [], 0, { allowLargeFds: true }));
    });
    expect(err).toMatchObject({ code: 'EBADF', syscall: 'select' });
    expect(grew).toBeLessThan(64);
  });

  it.each(badFds)('the native select([%i]) fails with EBADF too, in any set', (fd) => {
    for (const [nr, nw, nx] of [[1, 0, 0], [0, 1, 0], [0, 0, 1]]) {
      const err = thrown(() => native.select(Int32Array.of(fd), nr, nw, nx, 0, true));
      expect(err).toMatchObject({ code: 'EBADF', syscall: 'select' });
    }
  });

  it.each(badFds)('the thread waiter refuses select of fd %i with EBADF before its thread sizes anything', (fd) => {
    const waiter = new native.Waiter();
    try {
      const err = thrown(() =>
        waiter.wait(1, Int32Array.of(fd, 1), 1, 0, true, new Int32Array(2), () => undefined),
      );
      expect(err).toMatchObject({ code: 'EBADF', syscall: 'select' });
      expect(waiter.pending).toBe(false);
    } finally {
      waiter.close();
    }
  });
});

describe.skipIf(!native.has.epoll)('Epoll#poll maxevents through the internal binding', () => {
  it('poll(0, 2**31 - 1) and pollAsync with it return instead of aborting', () => {
    const script = `
      const b = ${addonExpr()};
      const ep = new b.Epoll(-1, true);
      const [r, w] = b.pipe(true);
      ep.register(r, 1);
      b.write(w, Buffer.from('x'), 0, 1);
      const got = ep.poll(0, 2 ** 31 - 1);
      const into = ep.pollInto(new Int32Array(4), 10, 2);
      ep.waitAsync(10, 2 ** 31 - 1, (err, events) => {
        console.log(JSON.stringify({ got, into, err: err && err.code, events }));
        ep.close();
      });`;
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect({ status: child.status, signal: child.signal }).toEqual({ status: 0, signal: null });
    const fd = JSON.parse(child.stdout).got[0][0];
    expect(JSON.parse(child.stdout)).toEqual({ got: [[fd, 1]], into: 1, err: null, events: [[fd, 1]] });
  });

  it('poll(0, 2**24) keeps no buffer sized to maxevents', () => {
    const ep = new native.Epoll!(-1, true);
    try {
      const grew = rssGrowth(() => {
        for (let i = 0; i < 3; i++) ep.poll(0, 2 ** 24);
        ep.pollInto(new Int32Array(2 * 2 ** 20), 0, 2);
      });
      expect(grew).toBeLessThan(64);
    } finally {
      ep.close();
    }
  });
});
