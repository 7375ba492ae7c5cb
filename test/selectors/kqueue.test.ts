/** KqueueSelector against the kernel (or libkqueue): the shared suite, then kqueue's own cases. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isatty } from 'node:tty';
import { native, type NativeKqueue } from '../../lib/binding';
import { EVENT_READ, EVENT_WRITE } from '../../lib/constants';
import { dup2, write } from '../../lib/fd';
import { canUse, DefaultSelector, defaultBackend } from '../../lib/selectors/default';
import { withSeams } from '../../lib/selectors/seams';
import { KqueueSelector } from '../../lib/selectors/kqueue';
import { closeNow, openFdCount, testPipe, testSocketPair } from '../helpers/fds';
import { selectorConformance } from './conformance';
import { errnoError } from './fake-native';

const RW = EVENT_READ | EVENT_WRITE;
const ONE = new Uint8Array([120]);

if (!canUse('kqueue')) {
  console.log('KqueueSelector tests skipped: this build has no kqueue (macOS/BSD, or Linux with IOMUX_KQUEUE_PREFIX=<libkqueue prefix>)');
}

describe.skipIf(canUse('kqueue'))('KqueueSelector without kqueue', () => {
  it('throws ERR_NOT_SUPPORTED naming the platform and the build flag', () => {
    expect(() => new KqueueSelector()).toThrow(expect.objectContaining({ code: 'ERR_NOT_SUPPORTED' }));
    expect(() => new KqueueSelector()).toThrow(/IOMUX_KQUEUE_PREFIX/);
  });
});

describe.skipIf(!canUse('kqueue'))('KqueueSelector', () => {
  selectorConformance(() => new KqueueSelector());

  it('is the kqueue backend and owns an fd', () => {
    new KqueueSelector().close(); // libkqueue makes its process-wide monitoring fds on first use
    const before = openFdCount();
    const sel = new KqueueSelector();
    expect(sel.backend).toBe('kqueue');
    expect(sel.fileno()).toBeGreaterThanOrEqual(0);
    sel.close();
    expect(sel.fileno()).toBe(-1);
    // libkqueue frees a closed kqueue's helper fds from its monitoring thread; close() waits
    // for that, so the count is back at once.
    expect(openFdCount()).toBe(before);
  });

  it('DefaultSelector picks kqueue on macOS/BSD only, epoll or poll first on Linux', () => {
    const bsd = ['darwin', 'freebsd', 'openbsd', 'netbsd'].includes(process.platform);
    const saved = process.env.IOMUX_BACKEND;
    delete process.env.IOMUX_BACKEND;
    try {
      expect(defaultBackend() === 'kqueue').toBe(bsd);
      const sel = new DefaultSelector({ backend: 'kqueue' });
      expect(sel).toBeInstanceOf(KqueueSelector);
      sel.close();
    } finally {
      if (saved !== undefined) process.env.IOMUX_BACKEND = saved;
    }
  });

  it('a read+write fd with both ready fills one entry, and maxevents counts filters (gh-110038)', () => {
    const sel = new KqueueSelector();
    try {
      const fds: number[] = [];
      for (let i = 0; i < 5; i++) {
        const [s, peer] = testSocketPair();
        write(peer, ONE);
        sel.register(s, RW);
        fds.push(s);
      }
      // Five fds, ten filters ready: each fd must come back once with both events.
      const ready = sel.select(1000);
      expect(ready.map(([k, ev]) => [k.fd, ev]).sort((a, b) => a[0] - b[0])).toEqual(fds.sort((a, b) => a - b).map((fd) => [fd, RW]));
    } finally {
      sel.close();
    }
  });

  it('modify makes the fewest kernel changes and keeps the registration', () => {
    const sel = new KqueueSelector();
    const [s, peer] = testSocketPair();
    try {
      write(peer, ONE);
      sel.register(s, EVENT_READ);
      const kq = sel.fileno();
      expect(sel.select(0).map(([, ev]) => ev)).toEqual([EVENT_READ]);
      sel.modify(s, RW);
      expect(sel.select(0).map(([, ev]) => ev)).toEqual([RW]);
      sel.modify(s, EVENT_WRITE);
      expect(sel.select(0).map(([, ev]) => ev)).toEqual([EVENT_WRITE]);
      sel.modify(s, EVENT_READ, 'x');
      expect(sel.select(0).map(([k, ev]) => [k.data, ev])).toEqual([['x', EVENT_READ]]);
      expect(sel.fileno()).toBe(kq);
    } finally {
      sel.close();
    }
  });

  it('a closed fd gives EBADF or is forgotten by itself; unregister works either way', () => {
    const sel = new KqueueSelector();
    const [a] = testSocketPair();
    try {
      sel.register(a, RW);
      closeNow(a);
      expect(sel.select(0)).toEqual([]);
      expect(sel.unregister(a).fd).toBe(a);
      expect(sel.getMap().size).toBe(0);
      expect(() => sel.register(a, EVENT_READ)).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'kevent' }));
      expect(sel.getMap().size).toBe(0);
    } finally {
      sel.close();
    }
  });

  it('registers pipes (only named FIFOs are refused, and only on macOS)', () => {
    const sel = new KqueueSelector();
    const [r, w] = testPipe();
    try {
      sel.register(r, EVENT_READ);
      sel.register(w, EVENT_WRITE);
      write(w, ONE);
      expect(sel.select(1000).map(([k, ev]) => [k.fd, ev]).sort((a, b) => a[0] - b[0])).toEqual([
        [r, EVENT_READ],
        [w, EVENT_WRITE],
      ].sort((a, b) => a[0] - b[0]));
    } finally {
      sel.close();
    }
  });

  it.skipIf(process.platform === 'win32')('a named FIFO: refused on macOS with the cause, watched elsewhere', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-fifo-'));
    const fifo = path.join(dir, 'f');
    execFileSync('mkfifo', [fifo]);
    const rd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const wr = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    const sel = new KqueueSelector();
    try {
      if (process.platform === 'darwin') {
        expect(() => sel.register(rd, EVENT_READ)).toThrow(
          expect.objectContaining({ code: 'ERR_NOT_SUPPORTED', message: expect.stringMatching(/named FIFO.*PollSelector/) }),
        );
        expect(sel.getMap().size).toBe(0);
      } else {
        sel.register(rd, EVENT_READ);
        // More than 8 KiB: the size past which macOS's kqueue stops reporting (python/cpython#95600).
        fs.writeSync(wr, Buffer.alloc(10_000, 1));
        expect(sel.select(1000).map(([k, ev]) => [k.fd, ev])).toEqual([[rd, EVENT_READ]]);
      }
    } finally {
      sel.close();
      fs.closeSync(rd);
      fs.closeSync(wr);
      fs.rmSync(dir, { recursive: true });
    }
  });

  it('stale events of an older registration of the same fd number are dropped (udata tag)', () => {
    const sel = new KqueueSelector();
    const [a, aPeer] = testSocketPair();
    try {
      write(aPeer, ONE);
      sel.register(a, EVENT_READ, 'first');
      sel.unregister(a);
      sel.register(a, EVENT_WRITE, 'second');
      // The fd is readable and writable; only the current registration (write) is reported.
      expect(sel.select(0).map(([k, ev]) => [k.data, ev])).toEqual([['second', EVENT_WRITE]]);
    } finally {
      sel.close();
    }
  });
});

async function rejection(p: Promise<unknown>): Promise<NodeJS.ErrnoException> {
  try {
    await p;
  } catch (err) {
    return err as NodeJS.ErrnoException;
  }
  throw new Error('expected a rejection');
}

describe.skipIf(!canUse('kqueue'))('KqueueSelector#selectAsync', () => {
  it('resolves when an fd turns ready, merging read and write, while the loop runs', async () => {
    using sel = new KqueueSelector<string>();
    const [s, peer] = testSocketPair();
    const [r] = testPipe();
    sel.register(r, EVENT_READ, 'idle');
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const t0 = performance.now();
    setTimeout(() => {
      sel.register(s, RW, 'sock');
      write(peer, ONE);
    }, 50);
    const ready = await sel.selectAsync(5000);
    clearInterval(timer);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(45);
    expect(ticks).toBeGreaterThan(0);
    expect(ready.map(([k, ev]) => [k.data, ev])).toEqual([['sock', RW]]);
  });

  it('timeouts: [] after about the timeout; 0 and negative do not wait', async () => {
    using sel = new KqueueSelector();
    const [r] = testPipe();
    sel.register(r, EVENT_READ);
    const t0 = performance.now();
    expect(await sel.selectAsync(60)).toEqual([]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(59);
    const t1 = performance.now();
    expect(await sel.selectAsync(0)).toEqual([]);
    expect(await sel.selectAsync(-5)).toEqual([]);
    expect(performance.now() - t1).toBeLessThan(100);
  });

  it('ERR_BUSY for a second wait, ERR_CLOSED on close during the wait, AbortError', async () => {
    const sel = new KqueueSelector();
    const [r, w] = testPipe();
    sel.register(r, EVENT_READ);
    const first = sel.selectAsync(5000);
    expect((await rejection(sel.selectAsync(10))).code).toBe('ERR_BUSY');
    expect(() => sel.select(0)).toThrow(expect.objectContaining({ code: 'ERR_BUSY' }));
    const ac = new AbortController();
    first.catch(() => {});
    sel.close();
    expect((await rejection(first)).code).toBe('ERR_CLOSED');
    expect((await rejection(sel.selectAsync(0))).code).toBe('ERR_CLOSED');
    using again = new KqueueSelector();
    again.register(r, EVENT_READ);
    const aborted = again.selectAsync(undefined, { signal: ac.signal });
    setTimeout(() => ac.abort('enough'), 10);
    const err = await rejection(aborted);
    expect(err).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: 'enough' });
    write(w, ONE);
    expect((await again.selectAsync(1000)).map(([k]) => k.fd)).toEqual([r]);
  });

  it('stale events do not end the wait early (closed-and-reused fd)', async () => {
    using sel = new KqueueSelector<string>();
    const [a, aPeer] = testSocketPair();
    write(aPeer, ONE);
    sel.register(a, EVENT_READ, 'old');
    const [keep] = testPipe();
    dup2(a, keep);
    const [b, bPeer] = testSocketPair();
    dup2(b, a);
    sel.unregister(a);
    sel.register(a, EVENT_READ, 'new');
    const t0 = performance.now();
    expect(await sel.selectAsync(60)).toEqual([]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(55);
    setTimeout(() => write(bPeer, ONE), 10);
    expect((await sel.selectAsync(2000)).map(([k, ev]) => [k.data, ev])).toEqual([['new', EVENT_READ]]);
  });
});

/** A NativeKqueue whose every change fails with errno `code` (waits return nothing). */
function failingKqueue(code: string): NativeKqueue {
  let closed = false;
  const fail = (n: number): number => {
    if (n > 0) throw errnoError(code, 'kevent');
    return 0;
  };
  return {
    fileno: () => (closed ? -1 : 1000),
    get closed() {
      return closed;
    },
    close: () => {
      closed = true;
    },
    control: (_changes, nchanges) => fail(nchanges),
    stats: () => ({ calls: 0, syscalls: 0, fds: 0, events: 0, bytesIn: 0, syscallNs: 0, callNs: 0, timing: false }),
    resetStats: () => {},
    setStatsTiming: () => {},
  };
}

/** A pseudo-terminal master: a tty fd without a terminal attached to the test run. */
function openPty(): number | undefined {
  try {
    return fs.openSync('/dev/ptmx', fs.constants.O_RDWR | fs.constants.O_NOCTTY);
  } catch {
    return undefined;
  }
}

describe('KqueueSelector terminals', () => {
  const pty = openPty();
  if (pty !== undefined) fs.closeSync(pty);

  it.skipIf(pty === undefined)('with macOS rules, the kernel\'s EINVAL for a tty becomes a clear ERR_NOT_SUPPORTED', () => {
    const fd = openPty() as number;
    const sel = withSeams({ kernel: () => failingKqueue('EINVAL'), platform: 'darwin' }, () => new KqueueSelector());
    try {
      expect(isatty(fd)).toBe(true);
      let err: (Error & { code?: string; cause?: { code?: string } }) | undefined;
      try {
        sel.register(fd, EVENT_READ);
      } catch (e) {
        err = e as typeof err;
      }
      expect(err?.code).toBe('ERR_NOT_SUPPORTED');
      expect(err?.message).toMatch(new RegExp(`fd ${fd} is a terminal.*PollSelector`));
      expect(err?.cause?.code).toBe('EINVAL');
      expect(sel.getMap().size).toBe(0);
      // Not a terminal: the kernel's EINVAL is passed on as it is.
      const [p] = testSocketPair();
      expect(() => sel.register(p, EVENT_READ)).toThrow(expect.objectContaining({ code: 'EINVAL', syscall: 'kevent' }));
      // Elsewhere the rule does not apply.
      const linuxRules = withSeams({ kernel: () => failingKqueue('EINVAL'), platform: 'linux' }, () => new KqueueSelector());
      expect(() => linuxRules.register(fd, EVENT_READ)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
      linuxRules.close();
    } finally {
      sel.close();
      fs.closeSync(fd);
    }
  });

  it.skipIf(pty === undefined || !canUse('kqueue') || !native.has.libkqueue)('libkqueue watches a terminal (epoll underneath)', () => {
    const fd = openPty() as number;
    const sel = new KqueueSelector();
    try {
      sel.register(fd, EVENT_WRITE);
      expect(sel.select(1000).map(([k, ev]) => [k.fd, ev])).toEqual([[fd, EVENT_WRITE]]);
    } finally {
      sel.close();
      fs.closeSync(fd);
    }
  });
});
