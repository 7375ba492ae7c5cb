// The kqueue object as it is, after CPython's Lib/test/test_kqueue.py. Runs where the build has
// kqueue: macOS/BSD, or Linux built with IOMUX_KQUEUE_PREFIX pointing at a libkqueue install.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { getSystemErrorName } from 'node:util';
import { describe, expect, it } from 'vitest';
import { native } from '../../lib/binding';
import { constants } from '../../lib/constants';
import { read, write } from '../../lib/fd';
import { KEvent, Kqueue } from '../../lib/kqueue';
import { closeNow, fdFlags, O_CLOEXEC, openFdCount, testPipe, testSocketPair } from '../helpers/fds';
import { thrown } from '../helpers/thrown';

const hasKqueue = native.has.kqueue;
const c = constants;

if (!hasKqueue) {
  console.log('kqueue tests skipped: build without kqueue; set IOMUX_KQUEUE_PREFIX to a libkqueue install');
}

/** Runs fn and returns what it threw (fails the test when it does not throw). */
/** A Kqueue closed when the test ends, even if the test fails half-way. */
function withKqueue(fn: (kq: Kqueue) => void): void {
  const kq = new Kqueue();
  try {
    fn(kq);
  } finally {
    kq.close();
  }
}

/** (ident, filter) pairs as sorted strings, for comparing event sets. */
function pairs(events: KEvent[]): string[] {
  return events.map((e) => `${e.ident}:${e.filter}`).sort();
}

describe('KEvent', () => {
  it('has CPython defaults and keeps every field', () => {
    const [fd] = testPipe();
    const ev = new KEvent(fd);
    expect([ev.ident, ev.filter, ev.flags, ev.fflags, ev.data, ev.udata]).toEqual([
      fd,
      c.KQ_FILTER_READ ?? -1,
      c.KQ_EV_ADD ?? 1,
      0,
      0,
      0,
    ]);
    const ev2 = new KEvent(1, 2, 3, 4, 5, 6);
    expect([ev2.ident, ev2.filter, ev2.flags, ev2.fflags, ev2.data, ev2.udata]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(new KEvent({ fileno: () => fd }).ident).toBe(fd);
    expect(new KEvent({ fd }).ident).toBe(fd);
  });

  it('compares like CPython kevents', () => {
    const ev = new KEvent(5);
    const other = new KEvent(1000);
    expect(ev.equals(ev)).toBe(true);
    expect(ev.equals(new KEvent(5))).toBe(true);
    expect(ev.equals(other)).toBe(false);
    expect(ev.equals(null)).toBe(false);
    expect(ev.equals({ ...ev })).toBe(false);
    expect(KEvent.compare(ev, other)).toBeLessThan(0);
    expect(KEvent.compare(other, ev)).toBeGreaterThan(0);
    expect(new KEvent(5, -2).equals(new KEvent(5, -1))).toBe(false);
    expect(new KEvent(0, 0, 0, 0, 2n ** 60n).equals(new KEvent(0, 0, 0, 0, 2 ** 60))).toBe(true);
    expect(thrown(() => KEvent.compare(ev, null as unknown as KEvent)).code).toBe('ERR_INVALID_ARG_TYPE');
  });

  it('keeps flags up to 0xffff, fflags up to 0xffffffff and 64-bit data/udata (bpo-11973)', () => {
    expect(new KEvent(0, 1, 0xffff).flags).toBe(0xffff);
    expect(new KEvent(0, 1, 2, 0xffffffff).fflags).toBe(0xffffffff);
    const big = new KEvent(2n ** 64n - 1n, 1, 2, 3, -(2n ** 63n), 2n ** 64n - 1n);
    expect(big.ident).toBe(2n ** 64n - 1n);
    expect(big.data).toBe(-(2n ** 63n));
    expect(big.udata).toBe(2n ** 64n - 1n);
    expect(new KEvent(0x7fff, 1, 2, 3, 0x7ffe, 0x7fff).data).toBe(0x7ffe);
    expect(new KEvent(0, 1, 2, 3, 7n, 8n).udata).toBe(8);
  });

  it('refuses bad fields with Node error codes', () => {
    const cases: Array<[() => unknown, string]> = [
      [() => new KEvent(0, 1, 0x10000), 'ERR_OUT_OF_RANGE'],
      [() => new KEvent(0, 1, -1), 'ERR_OUT_OF_RANGE'],
      [() => new KEvent(0, 1, 2, 2 ** 32), 'ERR_OUT_OF_RANGE'],
      [() => new KEvent(0, 40000), 'ERR_OUT_OF_RANGE'],
      [() => new KEvent(0, 1.5), 'ERR_OUT_OF_RANGE'],
      [() => new KEvent(0, 1, 2, 3, 2n ** 63n), 'ERR_OUT_OF_RANGE'],
      [() => new KEvent(0, 1, 2, 3, 0, -1), 'ERR_OUT_OF_RANGE'],
      [() => new KEvent(-1), 'ERR_OUT_OF_RANGE'],
      [() => new KEvent(2n ** 64n), 'ERR_OUT_OF_RANGE'],
      [() => new KEvent('3' as unknown as number), 'ERR_INVALID_ARG_TYPE'],
      [() => new KEvent(0, 'a' as unknown as number), 'ERR_INVALID_ARG_TYPE'],
      [() => new KEvent(0, 1, 2, 3, '4' as unknown as number), 'ERR_INVALID_ARG_TYPE'],
      [() => new KEvent({ fileno: () => 'x' } as unknown as number), 'ERR_INVALID_ARG_TYPE'],
    ];
    for (const [fn, code] of cases) expect(thrown(fn).code).toBe(code);
  });
});

describe.skipIf(hasKqueue)('Kqueue without kqueue', () => {
  it('throws ERR_NOT_SUPPORTED naming the platform', () => {
    const err = thrown(() => new Kqueue());
    expect(err.code).toBe('ERR_NOT_SUPPORTED');
    expect(err.message).toContain(process.platform);
    expect(thrown(() => Kqueue.fromFd(0)).code).toBe('ERR_NOT_SUPPORTED');
  });
});

describe.skipIf(!hasKqueue)('Kqueue', () => {
  it('creates, closes idempotently and refuses use after close', () => {
    const kq = new Kqueue();
    expect(kq.fileno()).toBeGreaterThanOrEqual(0);
    expect(kq.closed).toBe(false);
    kq.close();
    expect(kq.closed).toBe(true);
    expect(thrown(() => kq.fileno()).code).toBe('ERR_CLOSED');
    kq.close();
    expect(thrown(() => kq.control(null, 4)).code).toBe('ERR_CLOSED');
    expect(thrown(() => kq.control([new KEvent(0)], 0, 0)).code).toBe('ERR_CLOSED');
  });

  it('makes a close-on-exec fd', () => {
    withKqueue((kq) => {
      const flags = fdFlags(kq.fileno());
      // /proc/self/fdinfo is Linux only; elsewhere there is nothing to read.
      if (process.platform === 'linux') expect(flags! & O_CLOEXEC).toBe(O_CLOEXEC);
    });
  });

  it('disposes with Symbol.dispose', () => {
    const kq = new Kqueue();
    kq[Symbol.dispose]();
    expect(kq.closed).toBe(true);
  });

  it('reports WRITE, then READ+WRITE on a socketpair, through a fromFd twin', () => {
    const [a, b] = testSocketPair();
    const kq = new Kqueue();
    const twin = Kqueue.fromFd(kq.fileno());
    const addEnable = c.KQ_EV_ADD | c.KQ_EV_ENABLE;
    try {
      expect(twin.fileno()).toBe(kq.fileno());
      kq.control([new KEvent(a, c.KQ_FILTER_WRITE, addEnable)], 0);
      kq.control([new KEvent(a, c.KQ_FILTER_READ, addEnable)], 0);
      twin.control([new KEvent(b, c.KQ_FILTER_WRITE, addEnable)], 0);
      twin.control([new KEvent(b, c.KQ_FILTER_READ, addEnable)], 0);
      expect(pairs(kq.control(null, 4, 1000))).toEqual(pairs([new KEvent(a, c.KQ_FILTER_WRITE), new KEvent(b, c.KQ_FILTER_WRITE)]));

      write(a, Buffer.from('Hello!'));
      write(b, Buffer.from('world!!!'));
      const all = [a, b].flatMap((fd) => [new KEvent(fd, c.KQ_FILTER_READ), new KEvent(fd, c.KQ_FILTER_WRITE)]);
      expect(pairs(kq.control(null, 4, 1000))).toEqual(pairs(all));

      // EV_DELETE: drop b entirely and a's read filter; only a's write is left.
      kq.control([new KEvent(b, c.KQ_FILTER_WRITE, c.KQ_EV_DELETE)], 0);
      kq.control([new KEvent(b, c.KQ_FILTER_READ, c.KQ_EV_DELETE)], 0);
      kq.control([new KEvent(a, c.KQ_FILTER_READ, c.KQ_EV_DELETE)], 0, 0);
      expect(pairs(kq.control([], 4, 990))).toEqual([`${a}:${c.KQ_FILTER_WRITE}`]);
    } finally {
      twin.close();
      // The twin closed the shared fd, so the original's close(2) finds it gone.
      expect(thrown(() => kq.close()).code).toBe('EBADF');
      expect(kq.closed).toBe(true);
    }
  });

  it('registers and waits in one call; data is the number of bytes ready', () => {
    const [a, b] = testSocketPair();
    write(a, Buffer.from('foo'));
    withKqueue((kq) => {
      const flags = c.KQ_EV_ADD | c.KQ_EV_ENABLE;
      const r = kq.control([new KEvent(a, c.KQ_FILTER_READ, flags), new KEvent(b, c.KQ_FILTER_READ, flags)], 1, 1000);
      expect(r).toHaveLength(1);
      expect(r[0].flags & c.KQ_EV_ERROR).toBe(0);
      expect(r[0].ident).toBe(b);
      expect(r[0].data).toBe(3);
      const buf = Buffer.alloc(16);
      expect(read(b, buf, 0, r[0].data as number)).toBe(3);
      expect(buf.subarray(0, 3).toString()).toBe('foo');
    });
  });

  it('takes any iterable of KEvent as changes, applied in order (bpo-30058)', () => {
    const [, w] = testPipe();
    withKqueue((kq) => {
      const add = new KEvent(w, c.KQ_FILTER_WRITE, c.KQ_EV_ADD);
      const del = new KEvent(w, c.KQ_FILTER_WRITE, c.KQ_EV_DELETE);
      const writable = [`${w}:${c.KQ_FILTER_WRITE}`];
      expect(kq.control([add], 0)).toEqual([]);
      expect(pairs(kq.control(null, 4, 0))).toEqual(writable);
      kq.control(new Set([del]), 0);
      expect(kq.control(null, 4, 0)).toEqual([]);
      kq.control([add][Symbol.iterator](), 0);
      expect(pairs(kq.control(null, 4, 0))).toEqual(writable);
      function* many(): Generator<KEvent> {
        for (let i = 0; i < 100; i++) yield i % 2 === 0 ? del : add;
      }
      kq.control(many(), 0);
      expect(pairs(kq.control(null, 4, 0))).toEqual(writable);
      expect(thrown(() => kq.control(42 as unknown as KEvent[], 0)).code).toBe('ERR_INVALID_ARG_TYPE');
      expect(thrown(() => kq.control([del, { ident: w }] as KEvent[], 0)).code).toBe('ERR_INVALID_ARG_TYPE');
      // The bad element was caught before anything reached the kernel: w is still registered.
      expect(pairs(kq.control(null, 4, 0))).toEqual(writable);
    });
  });

  it('validates maxevents and timeout', () => {
    withKqueue((kq) => {
      expect(thrown(() => kq.control(null, -1)).code).toBe('ERR_OUT_OF_RANGE');
      expect(thrown(() => kq.control(null, 1.5)).code).toBe('ERR_OUT_OF_RANGE');
      expect(thrown(() => kq.control(null, 2 ** 21)).code).toBe('ERR_OUT_OF_RANGE');
      expect(thrown(() => kq.control(null, '1' as unknown as number)).code).toBe('ERR_INVALID_ARG_TYPE');
      expect(thrown(() => kq.control(null, 1, Number.NaN)).code).toBe('ERR_OUT_OF_RANGE');
      expect(thrown(() => kq.control(null, 1, 2 ** 31)).code).toBe('ERR_OUT_OF_RANGE');
      expect(thrown(() => kq.control(null, 1, '5' as unknown as number)).code).toBe('ERR_INVALID_ARG_TYPE');
    });
  });

  it('waits about the timeout when nothing is ready, and not at all with 0', () => {
    withKqueue((kq) => {
      let t0 = process.hrtime.bigint();
      expect(kq.control(null, 4, 0)).toEqual([]);
      expect(Number(process.hrtime.bigint() - t0) / 1e6).toBeLessThan(500);
      t0 = process.hrtime.bigint();
      expect(kq.control(null, 4, 100.5)).toEqual([]);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      expect(ms).toBeGreaterThanOrEqual(95);
      expect(ms).toBeLessThan(2000);
    });
  });

  it('retries after a signal with the time left, never returning early (PEP 475)', async () => {
    // SIGCHLD is caught by libuv's own handler, not a JS listener: it interrupts the syscall
    // but must not end the wait (a signal JS listens for does: sync-interrupt.test.ts).
    const killer = spawn('sh', ['-c', `sleep 0.1; kill -CHLD ${process.pid}`], { stdio: 'ignore' });
    const exited = once(killer, 'exit');
    withKqueue((kq) => {
      const t0 = process.hrtime.bigint();
      expect(kq.control(null, 1, 400)).toEqual([]);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      expect(ms).toBeGreaterThanOrEqual(390);
      expect(ms).toBeLessThan(3000);
    });
    await exited;
  });

  it('reports a failed change as EV_ERROR when there is room, else throws the errno', () => {
    const [r] = testPipe();
    withKqueue((kq) => {
      const del = new KEvent(r, c.KQ_FILTER_READ, c.KQ_EV_DELETE);
      const err = thrown(() => kq.control([del], 0));
      expect(err.code).toBe('ENOENT');
      expect(err.syscall).toBe('kevent');
      expect(getSystemErrorName(err.errno!)).toBe('ENOENT');
      const [ev] = kq.control([del], 1, 0);
      expect(ev.flags & c.KQ_EV_ERROR).toBe(c.KQ_EV_ERROR);
      expect(ev.ident).toBe(r);
      expect(getSystemErrorName(-Number(ev.data))).toBe('ENOENT');
    });
  });

  it('re-adding a registered socket filter succeeds or gives a real errno, never errno 0', () => {
    const [a] = testSocketPair();
    withKqueue((kq) => {
      const add = new KEvent(a, c.KQ_FILTER_READ, c.KQ_EV_ADD);
      kq.control([add], 0);
      // Native kqueue modifies the knote; libkqueue refuses without setting errno (EINVAL here).
      try {
        kq.control([add], 0);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        expect(err.syscall).toBe('kevent');
        expect(getSystemErrorName(err.errno!)).toBe(err.code);
        expect(err.code).toBe('EINVAL');
      }
    });
  });

  it('leaks no fd over many create/close cycles', () => {
    new Kqueue().close(); // libkqueue makes its process-wide monitoring fds on first use
    const before = openFdCount();
    for (let i = 0; i < 200; i++) new Kqueue().close();
    // libkqueue frees a closed kqueue's helper fds from its monitoring thread; close() waits for
    // that (libkqueue_drain_pending_close), so none is left over, even for a moment.
    expect(openFdCount()).toBe(before);
  });

  it('fromFd refuses an fd that is not open', () => {
    const [r] = testPipe();
    closeNow(r);
    const err = thrown(() => Kqueue.fromFd(r));
    expect(err.code).toBe('EBADF');
    expect(thrown(() => Kqueue.fromFd(-1)).code).toBe('ERR_OUT_OF_RANGE');
    expect(thrown(() => Kqueue.fromFd('3' as unknown as number)).code).toBe('ERR_INVALID_ARG_TYPE');
  });

  it('returns udata unchanged, even a full 64-bit bigint', () => {
    const [, w] = testPipe();
    withKqueue((kq) => {
      const udata = 2n ** 64n - 2n;
      const [ev] = kq.control([new KEvent(w, c.KQ_FILTER_WRITE, c.KQ_EV_ADD, 0, 0, udata)], 1, 1000);
      expect(ev.ident).toBe(w);
      expect(ev.udata).toBe(udata);
      expect(ev.data).toBeGreaterThan(0);
      kq.control([new KEvent(w, c.KQ_FILTER_WRITE, c.KQ_EV_DELETE), new KEvent(w, c.KQ_FILTER_WRITE, c.KQ_EV_ADD, 0, 0, 12345)], 0);
      expect(kq.control(null, 1, 1000)[0].udata).toBe(12345);
    });
  });

  it.skipIf(c.KQ_FILTER_TIMER === undefined)('fires an EVFILT_TIMER after its period', () => {
    withKqueue((kq) => {
      const t0 = process.hrtime.bigint();
      const timer = new KEvent(7, c.KQ_FILTER_TIMER, c.KQ_EV_ADD | c.KQ_EV_ONESHOT, 0, 50);
      const events = kq.control([timer], 1, 5000);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      expect(events).toHaveLength(1);
      expect(events[0].ident).toBe(7);
      expect(events[0].filter).toBe(c.KQ_FILTER_TIMER);
      expect(ms).toBeGreaterThanOrEqual(40);
      expect(ms).toBeLessThan(4000);
      // ONESHOT: it is gone after it fired.
      expect(kq.control(null, 1, 100)).toEqual([]);
    });
  });

  it.skipIf(c.KQ_FILTER_USER === undefined)('wakes on an EVFILT_USER trigger', () => {
    withKqueue((kq) => {
      kq.control([new KEvent(1, c.KQ_FILTER_USER, c.KQ_EV_ADD | c.KQ_EV_CLEAR, 0, 0, 99)], 0);
      expect(kq.control(null, 1, 0)).toEqual([]);
      // The trigger carries udata too: macOS and the BSDs overwrite udata on every modify.
      kq.control([new KEvent(1, c.KQ_FILTER_USER, 0, c.KQ_NOTE_TRIGGER, 0, 99)], 0);
      const events = kq.control(null, 1, 1000);
      expect(events).toHaveLength(1);
      expect(events[0].ident).toBe(1);
      expect(events[0].filter).toBe(c.KQ_FILTER_USER);
      expect(events[0].udata).toBe(99);
      // EV_CLEAR: the trigger was consumed.
      expect(kq.control(null, 1, 0)).toEqual([]);
    });
  });

  it('works in several worker_threads at once', async () => {
    const root = path.resolve(__dirname, '../..');
    // Each worker loads the addon itself and waits on its own kqueue with a user event.
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const b = require(require.resolve('node-gyp-build', { paths: [workerData] }))(workerData);
      const kq = new b.Kqueue();
      const words = new Int32Array(10);
      const out = new Int32Array(10);
      words[2] = b.constants.KQ_FILTER_WRITE; words[3] = b.constants.KQ_EV_ADD;
      const fds = b.pipe(true);
      words[0] = fds[1];
      const n = kq.control(words, 1, out, 1, 1000);
      kq.close(); b.close(fds[0]); b.close(fds[1]);
      parentPort.postMessage({ n, ident: out[0], filter: out[2], fd: fds[1] });
    `;
    const results = await Promise.all(
      [0, 1, 2].map(async () => {
        const w = new Worker(code, { eval: true, workerData: root });
        // Listen for 'exit' first: a worker that ends at once delivers its last message and
        // 'exit' in one turn, and a listener added after the message would miss the exit.
        const exited = once(w, 'exit');
        const [msg] = (await once(w, 'message')) as [{ n: number; ident: number; filter: number; fd: number }];
        await exited;
        return msg;
      }),
    );
    for (const r of results) expect(r).toEqual({ n: 1, ident: r.fd, filter: c.KQ_FILTER_WRITE, fd: r.fd });
  });

  it('counts calls, syscalls, changes, events and changelist bytes exactly', () => {
    const [r, w] = testPipe();
    // sizeof(struct kevent): 32 on macOS and libkqueue; FreeBSD 12+ adds ext[4].
    const KEVENT_BYTES = process.platform === 'freebsd' ? 64 : 32;
    withKqueue((kq) => {
      expect(kq.stats()).toEqual({ calls: 0, syscalls: 0, fds: 0, events: 0, bytesIn: 0, syscallNs: 0, callNs: 0, timing: false });
      kq.control([new KEvent(r, c.KQ_FILTER_READ, c.KQ_EV_ADD), new KEvent(w, c.KQ_FILTER_WRITE, c.KQ_EV_ADD)], 0);
      kq.control(null, 4, 0); // w writable
      write(w, Buffer.from('x'));
      kq.control([new KEvent(w, c.KQ_FILTER_WRITE, c.KQ_EV_DELETE)], 4, 0); // r readable
      expect(thrown(() => kq.control([new KEvent(w, c.KQ_FILTER_WRITE, c.KQ_EV_DELETE)], 0)).code).toBe('ENOENT');
      expect(kq.stats()).toEqual({
        calls: 4, syscalls: 4, fds: 4, events: 2, bytesIn: 4 * KEVENT_BYTES, syscallNs: 0, callNs: 0, timing: false,
      });
      // Argument errors are refused before native code: nothing is counted.
      expect(thrown(() => kq.control(null, -1)).code).toBe('ERR_OUT_OF_RANGE');
      expect(kq.stats().calls).toBe(4);
      kq.resetStats();
      expect(kq.stats()).toMatchObject({ calls: 0, syscalls: 0, fds: 0, events: 0, bytesIn: 0 });
    });
  });

  it('measures time only when asked; stats stay readable after close', () => {
    const kq = new Kqueue();
    kq.setStatsTiming(true);
    kq.control(null, 1, 20);
    const s = kq.stats();
    expect(s.timing).toBe(true);
    expect(s.syscallNs).toBeGreaterThanOrEqual(19e6);
    expect(s.callNs).toBeGreaterThanOrEqual(s.syscallNs);
    kq.setStatsTiming(false);
    kq.resetStats();
    kq.control(null, 1, 0);
    kq.close();
    expect(kq.stats()).toMatchObject({ calls: 1, syscalls: 1, syscallNs: 0, callNs: 0, timing: false });
  });

  it('counts an EINTR retry as a syscall that re-sends no changes', async () => {
    const [r] = testPipe();
    let interrupted = false;
    // A process-directed signal may land on another thread (then nothing is interrupted):
    // try a few times, and check every attempt. A blocking control() is kevent() with the
    // changes and a zero timeout, then a poll on the kqueue and the interrupt fd: two syscalls,
    // a third only when SIGCHLD (libuv's, no JS listener) interrupted the poll.
    for (let attempt = 0; attempt < 4 && !interrupted; attempt++) {
      const killer = spawn('sh', ['-c', `sleep 0.1; kill -CHLD ${process.pid}`], { stdio: 'ignore' });
      const exited = once(killer, 'exit');
      withKqueue((kq) => {
        kq.control([new KEvent(r, c.KQ_FILTER_READ, c.KQ_EV_ADD)], 1, 400);
        const s = kq.stats();
        expect(s).toMatchObject({ calls: 1, fds: 1, events: 0 });
        interrupted = s.syscalls >= 3;
      });
      await exited;
    }
    expect(interrupted).toBe(true);
  });

  it('exports the kqueue constants', () => {
    for (const name of ['KQ_FILTER_READ', 'KQ_FILTER_WRITE', 'KQ_EV_ADD', 'KQ_EV_DELETE', 'KQ_EV_ENABLE', 'KQ_EV_DISABLE', 'KQ_EV_ONESHOT', 'KQ_EV_CLEAR', 'KQ_EV_EOF', 'KQ_EV_ERROR']) {
      expect(typeof c[name], name).toBe('number');
    }
    expect(c.KQ_FILTER_READ).toBe(-1);
    expect(c.KQ_FILTER_WRITE).toBe(-2);
  });
});
