// epoll(7) as it is: a port of CPython's Lib/test/test_epoll.py plus this package's own rules
// (ERR_CLOSED without touching a reused fd number, CLOEXEC, fractional timeouts, pollInto,
// tags, the finalizer).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getSystemErrorName } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { native } from '../../lib/binding';
import { constants } from '../../lib/constants';
import { Epoll } from '../../lib/epoll';
import { dup2, read, write } from '../../lib/fd';
import { closeNow, fdFlags, O_CLOEXEC, testPipe, testSocketPair, track } from '../helpers/fds';
import { thrown } from '../helpers/thrown';

const hasEpoll = native.has.epoll;
const { EPOLLIN = 0, EPOLLOUT = 0, EPOLLPRI = 0, EPOLLET = 0, EPOLLONESHOT = 0 } = constants;
const repoRoot = path.resolve(__dirname, '../..');

const epolls: Epoll[] = [];
afterEach(() => {
  for (const ep of epolls.splice(0)) ep.close();
});

function make(options?: { sizehint?: number; cloexec?: boolean }): Epoll {
  const ep = new Epoll(options);
  epolls.push(ep);
  return ep;
}

/** A number no fd currently uses (checked through /proc/self/fdinfo). */
function freeFd(from = 700): number {
  let n = from;
  while (fdFlags(n) !== undefined) n++;
  return n;
}

function sorted(events: Array<[number, number]>): Array<[number, number]> {
  return [...events].sort((a, b) => a[0] - b[0]);
}

function elapsedMs(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

describe.runIf(!hasEpoll)('Epoll where the build has no epoll', () => {
  it('throws ERR_NOT_SUPPORTED naming the platform', () => {
    const err = thrown(() => new Epoll());
    expect(err.code).toBe('ERR_NOT_SUPPORTED');
    expect(err.message).toContain(process.platform);
    expect(native.epollPwait2Supported?.() ?? false).toBe(false);
  });
});

describe.skipIf(!hasEpoll)('Epoll', () => {
  it('creates, reports fileno and closed, and closes idempotently (test_create)', () => {
    const ep = make({ sizehint: 16 });
    expect(ep.fileno()).toBeGreaterThanOrEqual(0);
    expect(ep.closed).toBe(false);
    ep.close();
    expect(ep.closed).toBe(true);
    expect(() => ep.fileno()).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
    ep.close();
    expect(ep.closed).toBe(true);
  });

  it('closes through Symbol.dispose (test_context_manager)', () => {
    const ep = make();
    const fd = ep.fileno();
    expect(fd).toBeGreaterThanOrEqual(0);
    ep[Symbol.dispose]();
    expect(ep.closed).toBe(true);
    expect(() => ep.fileno()).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
  });

  it('is CLOEXEC by default and not with cloexec: false', () => {
    expect(fdFlags(make().fileno())! & O_CLOEXEC).toBe(O_CLOEXEC);
    expect(fdFlags(make({ cloexec: true }).fileno())! & O_CLOEXEC).toBe(O_CLOEXEC);
    expect(fdFlags(make({ cloexec: false }).fileno())! & O_CLOEXEC).toBe(0);
  });

  it('registers numbers and file-likes; a second register is EEXIST (test_add)', () => {
    const [a, b] = testSocketPair();
    const ep = make({ sizehint: 2 });
    ep.register(a, EPOLLIN | EPOLLOUT);
    ep.register({ fd: b }, EPOLLIN | EPOLLOUT);
    const ep2 = make();
    ep2.register({ fileno: () => a });
    ep2.register(b);
    const err = thrown(() => ep.register(a, EPOLLIN));
    expect(err).toMatchObject({ code: 'EEXIST', syscall: 'epoll_ctl', message: 'EEXIST: file already exists, epoll_ctl' });
    expect(getSystemErrorName(err.errno!)).toBe('EEXIST');
    // A failed add changed nothing: a still reports both directions.
    expect(sorted(ep.poll(0))).toEqual(sorted([[a, EPOLLOUT], [b, EPOLLOUT]]));
  });

  it('gives ENOENT for modify and unregister of an unknown fd, EBADF for a closed one', () => {
    const [r] = testPipe();
    const ep = make();
    expect(thrown(() => ep.modify(r, EPOLLIN))).toMatchObject({ code: 'ENOENT', syscall: 'epoll_ctl' });
    expect(thrown(() => ep.unregister(r))).toMatchObject({ code: 'ENOENT', syscall: 'epoll_ctl' });
    expect(thrown(() => ep.register(freeFd(), EPOLLIN))).toMatchObject({ code: 'EBADF', syscall: 'epoll_ctl' });
  });

  it('unregisters after a register, and an fd closed since gives EBADF (test_unregister_closed)', () => {
    const [a, b] = testSocketPair();
    const ep = make();
    ep.register(a);
    ep.register(b);
    ep.unregister(b);
    expect(ep.poll(0)).toEqual([[a, EPOLLOUT]]);
    closeNow(a);
    expect(thrown(() => ep.unregister(a))).toMatchObject({ code: 'EBADF', syscall: 'epoll_ctl' });
    expect(ep.poll(0)).toEqual([]);
  });

  it('refuses a regular file with EPERM', () => {
    const file = path.join(os.tmpdir(), `iomux-epoll-${process.pid}.txt`);
    const fd = track(fs.openSync(file, 'w+'));
    fs.unlinkSync(file);
    const ep = make();
    expect(thrown(() => ep.register(fd, EPOLLIN))).toMatchObject({ code: 'EPERM', syscall: 'epoll_ctl', errno: -1 });
  });

  it('control and wait with socketpairs, edge-triggered (test_control_and_wait)', () => {
    const [client, server] = testSocketPair();
    const ep = make({ sizehint: 16 });
    ep.register(server, EPOLLIN | EPOLLOUT | EPOLLET);
    ep.register(client, EPOLLIN | EPOLLOUT | EPOLLET);
    let events: Array<[number, number]> = [];
    expect(elapsedMs(() => (events = ep.poll(1000, 4)))).toBeLessThan(500);
    expect(sorted(events)).toEqual(sorted([[client, EPOLLOUT], [server, EPOLLOUT]]));
    // The edges were consumed: nothing more until something changes.
    expect(ep.poll(100, 4)).toEqual([]);
    write(client, Buffer.from('Hello!'));
    write(server, Buffer.from('world!!!'));
    expect(elapsedMs(() => (events = ep.poll(1000, 4)))).toBeLessThan(500);
    expect(sorted(events)).toEqual(sorted([[client, EPOLLIN | EPOLLOUT], [server, EPOLLIN | EPOLLOUT]]));
    ep.unregister(client);
    ep.modify(server, EPOLLOUT);
    expect(ep.poll(1000, 4)).toEqual([[server, EPOLLOUT]]);
  });

  it('delivers an EPOLLET edge once, and again only after a new write', () => {
    const [r, w] = testPipe();
    const ep = make();
    ep.register(r, EPOLLIN | EPOLLET);
    write(w, Buffer.from('a'));
    expect(ep.poll(0)).toEqual([[r, EPOLLIN]]);
    expect(ep.poll(0)).toEqual([]);
    write(w, Buffer.from('b'));
    expect(ep.poll(0)).toEqual([[r, EPOLLIN]]);
    // Level-triggered, for contrast, reports it on every call while data is there.
    ep.modify(r, EPOLLIN);
    expect(ep.poll(0)).toEqual([[r, EPOLLIN]]);
    expect(ep.poll(0)).toEqual([[r, EPOLLIN]]);
  });

  it('disarms an EPOLLONESHOT fd after one event until modify() re-arms it', () => {
    const [r, w] = testPipe();
    const ep = make();
    ep.register(r, EPOLLIN | EPOLLONESHOT);
    write(w, Buffer.from('a'));
    expect(ep.poll(0)).toEqual([[r, EPOLLIN]]);
    expect(ep.poll(0)).toEqual([]);
    // Still registered (ADD would be EEXIST), just disarmed.
    expect(thrown(() => ep.register(r, EPOLLIN)).code).toBe('EEXIST');
    ep.modify(r, EPOLLIN | EPOLLONESHOT);
    expect(ep.poll(0)).toEqual([[r, EPOLLIN]]);
  });

  it('accepts EPOLLET in its signed and unsigned forms', () => {
    const [a, b] = testSocketPair();
    const ep = make();
    expect(EPOLLET).toBe(-(2 ** 31));
    ep.register(a, EPOLLOUT | EPOLLET);
    ep.register(b, (EPOLLOUT | EPOLLET) >>> 0);
    expect(sorted(ep.poll(0))).toEqual(sorted([[a, EPOLLOUT], [b, EPOLLOUT]]));
    expect(ep.poll(0)).toEqual([]);
  });

  it('fromFd twins share one interest list; the second close sees EBADF (test_fromfd)', () => {
    const [a, b] = testSocketPair();
    const ep = make({ sizehint: 2 });
    // A dup'd fd names the same epoll instance, so each object can own its own number.
    const twin = Epoll.fromFd(dup2(ep.fileno(), freeFd()));
    twin.register(a, EPOLLIN | EPOLLOUT);
    twin.register(b, EPOLLIN | EPOLLOUT);
    expect(ep.poll(1000, 4)).toHaveLength(2);
    expect(twin.poll(900, 4)).toHaveLength(2);
    twin.close();
    expect(ep.poll(0, 4)).toHaveLength(2);
    // CPython's own case: two objects on the very same fd number.
    const same = Epoll.fromFd(ep.fileno());
    expect(same.fileno()).toBe(ep.fileno());
    ep.close();
    expect(thrown(() => same.poll(0))).toMatchObject({ code: 'EBADF', syscall: expect.stringMatching(/^epoll_p?wait2?$/) });
    expect(thrown(() => same.close())).toMatchObject({ code: 'EBADF', syscall: 'close' });
    expect(same.closed).toBe(true);
  });

  it('refuses everything after close with ERR_CLOSED and never touches the reused fd number', () => {
    const [r, w] = testPipe();
    const ep = make();
    const n = ep.fileno();
    ep.close();
    // Put a live pipe end on the number the epoll fd had.
    expect(dup2(r, n)).toBe(n);
    track(n);
    const calls: Array<() => unknown> = [
      () => ep.fileno(),
      () => ep.register(n, EPOLLIN),
      () => ep.modify(n, EPOLLIN),
      () => ep.unregister(n),
      () => ep.poll(0),
      () => ep.pollInto(new Int32Array(2), 0),
    ];
    for (const call of calls) {
      const err = thrown(call);
      expect(err.code).toBe('ERR_CLOSED');
      expect(err.message).toMatch(/closed epoll/);
    }
    ep.close();
    write(w, Buffer.from('still here'));
    const buf = Buffer.alloc(16);
    expect(read(n, buf)).toBe(10);
    expect(buf.subarray(0, 10).toString()).toBe('still here');
  });

  describe('timeouts', () => {
    it('0 does not wait', () => {
      const [r] = testPipe();
      const ep = make();
      ep.register(r, EPOLLIN);
      expect(elapsedMs(() => expect(ep.poll(0)).toEqual([]))).toBeLessThan(100);
    });

    it('50 ms waits about 50 ms', () => {
      const [r] = testPipe();
      const ep = make();
      ep.register(r, EPOLLIN);
      const ms = elapsedMs(() => expect(ep.poll(50)).toEqual([]));
      expect(ms).toBeGreaterThanOrEqual(49);
      expect(ms).toBeLessThan(2000);
    });

    it('a fractional 0.3 ms waits at least 0.3 ms (never a busy 0)', () => {
      const [r] = testPipe();
      const ep = make();
      ep.register(r, EPOLLIN);
      const buf = new Int32Array(2);
      for (let i = 0; i < 5; i++) {
        expect(elapsedMs(() => expect(ep.poll(0.3)).toEqual([]))).toBeGreaterThanOrEqual(0.29);
        expect(elapsedMs(() => expect(ep.pollInto(buf, 0.3)).toBe(0))).toBeGreaterThanOrEqual(0.29);
      }
    });

    it.each([undefined, null, -1])('%s waits until an fd is ready', (timeout) => {
      const [r, w] = testPipe();
      const ep = make();
      ep.register(r, EPOLLIN);
      // A child process writes after 100 ms while this thread is blocked in the wait.
      const child = spawn(process.execPath, ['-e', "setTimeout(() => require('fs').writeSync(3, 'x'), 100)"], {
        stdio: ['ignore', 'ignore', 'inherit', w],
      });
      let events: Array<[number, number]> = [];
      const ms = elapsedMs(() => (events = ep.poll(timeout)));
      expect(events).toEqual([[r, EPOLLIN]]);
      expect(ms).toBeGreaterThanOrEqual(50);
      child.kill();
    });

    it('goes on with the time left when signals interrupt the wait (PEP 475)', () => {
      const script = `
        const b = require('node-gyp-build')(${JSON.stringify(repoRoot)});
        // SIGCHLD, caught by libuv's handler for this child (no JS listener: one would end the
        // wait with EINTR, see sync-interrupt.test.ts).
        const sleeper = require('child_process').spawn('sleep', ['10'], { stdio: 'ignore' });
        const { Worker } = require('worker_threads');
        const code = "const t = setInterval(() => process.kill(process.pid, 'SIGCHLD'), 10);" +
          "setTimeout(() => clearInterval(t), 1500);";
        const wk = new Worker(code, { eval: true });
        wk.on('online', () => setTimeout(() => {
          const ep = new b.Epoll(-1, true);
          const [r] = b.pipe(true);
          ep.register(r, 1, 0);
          const ms = (fn) => { const t = process.hrtime.bigint(); const v = fn(); return [v, Number(process.hrtime.bigint() - t) / 1e6]; };
          const [events, pollMs] = ms(() => ep.poll(300, 4));
          const [count, intoMs] = ms(() => ep.pollInto(new Int32Array(2), 200.5, 2));
          // Each interrupted wait is one more syscall in the counters.
          const signals = ep.stats().syscalls - 2;
          setImmediate(() => {
            console.log(JSON.stringify({ events, pollMs, count, intoMs, signals }));
            wk.terminate();
            sleeper.kill();
          });
        }, 50));
      `;
      const res = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
      expect(res.stderr).toBe('');
      const out = JSON.parse(res.stdout) as { events: unknown[]; pollMs: number; count: number; intoMs: number; signals: number };
      expect(out.signals).toBeGreaterThan(5);
      expect(out.events).toEqual([]);
      expect(out.pollMs).toBeGreaterThanOrEqual(299);
      expect(out.count).toBe(0);
      expect(out.intoMs).toBeGreaterThanOrEqual(200.4);
    });

    it('rounds fractions up to whole ms where epoll_pwait2 is not used', () => {
      const script = `
        const b = require('node-gyp-build')(${JSON.stringify(repoRoot)});
        const ep = new b.Epoll(-1, true);
        const [r] = b.pipe(true);
        ep.register(r, 1, 0);
        const ms = (fn) => { const t = process.hrtime.bigint(); fn(); return Number(process.hrtime.bigint() - t) / 1e6; };
        const frac = Math.min(...Array.from({ length: 5 }, () => ms(() => ep.poll(0.3, 4))));
        const into = Math.min(...Array.from({ length: 5 }, () => ms(() => ep.pollInto(new Int32Array(2), 0.3, 2))));
        const fifty = ms(() => ep.poll(50, 4));
        console.log(JSON.stringify({ supported: b.epollPwait2Supported(), frac, into, fifty }));
      `;
      const res = spawnSync(process.execPath, ['-e', script], {
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, IOMUX_EPOLL_PWAIT2: '0' },
      });
      expect(res.stderr).toBe('');
      const out = JSON.parse(res.stdout) as { supported: boolean; frac: number; into: number; fifty: number };
      expect(out.supported).toBe(false);
      // 0.3 was not rounded down to a busy 0. (A blocking wait goes through ppoll, which
      // watches the interrupt fd too and takes a timespec: no rounding up to whole ms either.)
      expect(out.frac).toBeGreaterThanOrEqual(0.29);
      expect(out.into).toBeGreaterThanOrEqual(0.29);
      expect(out.fifty).toBeGreaterThanOrEqual(49);
    });

    it('where epoll_pwait2 is reported, a 0.3 ms wait ends before the 1 ms epoll_wait would take', () => {
      const supported = native.epollPwait2Supported?.() ?? false;
      const [major, minor] = os.release().split('.').map(Number);
      // The kernel has it from 5.11; only a sandbox that filters it could say no there.
      if (major < 5 || (major === 5 && minor < 11)) expect(supported).toBe(false);
      if (!supported) return;
      const ep = make();
      const [r] = testPipe();
      ep.register(r, EPOLLIN);
      // epoll_wait() can only sleep whole ms (>= 1 ms for 0.3); the fastest of 20 precise waits
      // is far below that even on a loaded machine. A probe that lied would fail here.
      const fastest = Math.min(...Array.from({ length: 20 }, () => elapsedMs(() => ep.poll(0.3))));
      expect(fastest).toBeGreaterThanOrEqual(0.29);
      expect(fastest).toBeLessThan(0.9);
    });
  });

  describe('pollInto', () => {
    it('a buffer waited into again is bound natively; detaching it later is refused, never written', () => {
      const ep = make();
      const [, w] = testPipe();
      ep.register(w, EPOLLOUT);
      const out = new Int32Array(4);
      for (let i = 0; i < 4; i++) {
        out.fill(0);
        expect(ep.pollInto(out, 0)).toBe(1);
        expect(Array.from(out.subarray(0, 2))).toEqual([w, EPOLLOUT]);
      }
      // Transfer the memory away: the public call says detached, and the native bound function
      // (held here directly) refuses instead of writing into memory that has a new owner now.
      const nat = new native.Epoll!(-1, true);
      nat.register(w, EPOLLOUT, 0);
      const buf = new Int32Array(4);
      const bound = nat.boundPollInto!(2, buf)!;
      expect(bound(0)).toBe(1);
      const moved = new Int32Array(structuredClone(buf.buffer, { transfer: [buf.buffer] }));
      moved.fill(-7);
      expect(() => bound(0)).toThrow(RangeError);
      expect(Array.from(moved)).toEqual([-7, -7, -7, -7]);
      structuredClone(out.buffer, { transfer: [out.buffer] });
      expect(() => ep.pollInto(out, 0)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
      // A resizable buffer could shrink under a bound length: it is never bound.
      const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer;
      const growing = new Int32Array(new Resizable(16, { maxByteLength: 64 }));
      expect(nat.boundPollInto!(2, growing)).toBeUndefined();
      const live = nat.boundPollInto!(2, new Int32Array(2))!;
      nat.close();
      expect(() => live(0)).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
    });

    it('writes at most out.length / 2 pairs and never past them; the rest come next time', () => {
      const pipes = [testPipe(), testPipe(), testPipe()];
      const ep = make();
      for (const [, w] of pipes) ep.register(w, EPOLLOUT);
      const whole = new Int32Array(8).fill(-7);
      const out = whole.subarray(2, 4);
      const seen = new Set<number>();
      for (let i = 0; i < 3; i++) {
        expect(ep.pollInto(out, 0)).toBe(1);
        expect(out[1]).toBe(EPOLLOUT);
        seen.add(out[0]);
        expect([...whole.subarray(0, 2), ...whole.subarray(4)]).toEqual([-7, -7, -7, -7, -7, -7]);
      }
      // Level-triggered fds go to the back of the ready list, so three calls saw all three.
      expect([...seen].sort()).toEqual(pipes.map(([, w]) => w).sort());
      const big = new Int32Array(10).fill(-7);
      expect(ep.pollInto(big, 0)).toBe(3);
      expect([...big.subarray(6)]).toEqual([-7, -7, -7, -7]);
    });

    it.each([
      ['odd length', new Int32Array(3), 'ERR_OUT_OF_RANGE'],
      ['empty', new Int32Array(0), 'ERR_OUT_OF_RANGE'],
      ['Uint32Array', new Uint32Array(2), 'ERR_INVALID_ARG_TYPE'],
      ['plain array', [0, 0], 'ERR_INVALID_ARG_TYPE'],
    ])('refuses a buffer that is %s', (_name, out, code) => {
      const ep = make();
      expect(() => ep.pollInto(out as Int32Array, 0)).toThrow(expect.objectContaining({ code }));
    });

    it('returns tags with stride 3 and keeps to whole records (the selectors path)', () => {
      const [a, b] = testSocketPair();
      const nep = new native.Epoll!(-1, true);
      try {
        nep.register(a, EPOLLOUT, 12345);
        nep.register(b, EPOLLOUT, 2 ** 32 - 1);
        const out = new Int32Array(8).fill(-7);
        expect(nep.pollInto(out, 0, 3)).toBe(2);
        const records = sorted([[out[0], out[2]], [out[3], out[5]]]);
        expect(records).toEqual(sorted([[a, 12345], [b, -1]]));
        expect([out[1], out[4], out[6], out[7]]).toEqual([EPOLLOUT, EPOLLOUT, -7, -7]);
        nep.modify(b, EPOLLOUT, 7);
        nep.unregister(a);
        const small = new Int32Array(5).fill(-7);
        expect(nep.pollInto(small, 0, 3)).toBe(1);
        expect([...small]).toEqual([b, EPOLLOUT, 7, -7, -7]);
        expect(() => nep.pollInto(new Int32Array(6), 0, 4)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
        expect(() => nep.pollInto(new Int32Array(2), 0, 3)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
      } finally {
        nep.close();
      }
    });
  });

  it('counts its waits in stats(), timing only when asked', () => {
    const [a, b] = testSocketPair();
    const ep = make();
    ep.register(a, EPOLLOUT);
    ep.register(b, EPOLLIN);
    expect(ep.stats()).toEqual({ calls: 0, syscalls: 0, fds: 0, events: 0, bytesIn: 0, syscallNs: 0, callNs: 0, timing: false });
    ep.poll(0);
    ep.pollInto(new Int32Array(4), 0);
    ep.poll(1);
    let s = ep.stats();
    expect(s).toMatchObject({ calls: 3, syscalls: 3, fds: 0, events: 3, bytesIn: 0, syscallNs: 0, callNs: 0 });
    ep.setStatsTiming(true);
    ep.poll(2);
    s = ep.stats();
    expect(s.timing).toBe(true);
    expect(s.syscallNs).toBeGreaterThan(0);
    expect(s.callNs).toBeGreaterThanOrEqual(s.syscallNs);
    ep.resetStats();
    expect(ep.stats()).toMatchObject({ calls: 0, syscalls: 0, events: 0, syscallNs: 0, timing: true });
  });

  it('honours maxevents', () => {
    const pipes = [testPipe(), testPipe(), testPipe()];
    const ep = make();
    for (const [, w] of pipes) ep.register(w, EPOLLOUT);
    expect(ep.poll(0, 1)).toHaveLength(1);
    expect(ep.poll(0, 2)).toHaveLength(2);
    expect(ep.poll(0, -1)).toHaveLength(3);
    expect(ep.poll(0)).toHaveLength(3);
  });

  describe('bad inputs', () => {
    const cases: Array<[string, (ep: Epoll, fd: number) => unknown, string]> = [
      ['new Epoll({sizehint: 0})', () => new Epoll({ sizehint: 0 }), 'ERR_OUT_OF_RANGE'],
      ['new Epoll({sizehint: -2})', () => new Epoll({ sizehint: -2 }), 'ERR_OUT_OF_RANGE'],
      ['new Epoll({sizehint: 1.5})', () => new Epoll({ sizehint: 1.5 }), 'ERR_OUT_OF_RANGE'],
      ["new Epoll({sizehint: 'foo'})", () => new Epoll({ sizehint: 'foo' as unknown as number }), 'ERR_INVALID_ARG_TYPE'],
      ["new Epoll({cloexec: 'yes'})", () => new Epoll({ cloexec: 'yes' as unknown as boolean }), 'ERR_INVALID_ARG_TYPE'],
      ['new Epoll(5)', () => new Epoll(5 as unknown as object), 'ERR_INVALID_ARG_TYPE'],
      ["Epoll.fromFd('3')", () => Epoll.fromFd('3' as unknown as number), 'ERR_INVALID_ARG_TYPE'],
      ['Epoll.fromFd(-1)', () => Epoll.fromFd(-1), 'ERR_OUT_OF_RANGE'],
      ['register(object())', (ep) => ep.register({} as unknown as number), 'ERR_INVALID_ARG_TYPE'],
      ['register(null)', (ep) => ep.register(null as unknown as number), 'ERR_INVALID_ARG_TYPE'],
      ['register(-1)', (ep) => ep.register(-1), 'ERR_OUT_OF_RANGE'],
      ['register(1.5)', (ep) => ep.register(1.5), 'ERR_OUT_OF_RANGE'],
      ["register({fileno: () => '3'})", (ep) => ep.register({ fileno: () => '3' as unknown as number }), 'ERR_INVALID_ARG_TYPE'],
      ["register(fd, 'x')", (ep, fd) => ep.register(fd, 'x' as unknown as number), 'ERR_INVALID_ARG_TYPE'],
      ['register(fd, 0x20) (unknown bit)', (ep, fd) => ep.register(fd, 0x20), 'ERR_OUT_OF_RANGE'],
      ['register(fd, 2**32)', (ep, fd) => ep.register(fd, 2 ** 32), 'ERR_OUT_OF_RANGE'],
      ['modify(fd) without events', (ep, fd) => ep.modify(fd, undefined as unknown as number), 'ERR_INVALID_ARG_TYPE'],
      ["poll('1')", (ep) => ep.poll('1' as unknown as number), 'ERR_INVALID_ARG_TYPE'],
      ['poll(NaN)', (ep) => ep.poll(NaN), 'ERR_OUT_OF_RANGE'],
      ['poll(2**31)', (ep) => ep.poll(2 ** 31), 'ERR_OUT_OF_RANGE'],
      ['poll(0, 0)', (ep) => ep.poll(0, 0), 'ERR_OUT_OF_RANGE'],
      ['poll(0, -2)', (ep) => ep.poll(0, -2), 'ERR_OUT_OF_RANGE'],
      ['poll(0, 1.5)', (ep) => ep.poll(0, 1.5), 'ERR_OUT_OF_RANGE'],
      ['poll(0, 2**24 + 1)', (ep) => ep.poll(0, 2 ** 24 + 1), 'ERR_OUT_OF_RANGE'],
      ["poll(0, '4')", (ep) => ep.poll(0, '4' as unknown as number), 'ERR_INVALID_ARG_TYPE'],
      ["pollInto(out, 'x')", (ep) => ep.pollInto(new Int32Array(2), 'x' as unknown as number), 'ERR_INVALID_ARG_TYPE'],
    ];
    it.each(cases)('%s throws %s', (_name, fn, code) => {
      const [r] = testPipe();
      const ep = make();
      expect(() => fn(ep, r)).toThrow(expect.objectContaining({ code }));
      // Nothing half-done: the set is still empty and usable.
      expect(ep.poll(0)).toEqual([]);
    });

    it('native calls with wrong types throw instead of crashing', () => {
      const nep = new native.Epoll!(-1, true);
      try {
        const bad = nep as unknown as Record<string, (...args: unknown[]) => unknown>;
        expect(() => bad.register('x', 1, 0)).toThrow(TypeError);
        expect(() => bad.register(0, 'x', 0)).toThrow(TypeError);
        expect(() => bad.poll('x', 1)).toThrow(TypeError);
        expect(() => bad.poll(0, 0)).toThrow(RangeError);
        expect(() => bad.pollInto([0, 0], 0, 2)).toThrow(TypeError);
        expect(() => bad.waitAsync(0, 1, 'not a function')).toThrow(TypeError);
      } finally {
        nep.close();
      }
    });
  });

  it('closes fds of collected objects, and never an fd that close() already closed', () => {
    const script = `
      const fs = require('fs');
      const b = require('node-gyp-build')(${JSON.stringify(repoRoot)});
      const count = () => fs.readdirSync('/proc/self/fd').length;
      const tick = () => new Promise((resolve) => setImmediate(resolve));
      (async () => {
        const before = count();
        // Closed by close(): its number is then reused by a pipe end the finalizer must spare.
        let closed = new b.Epoll(-1, true);
        const n = closed.fileno();
        closed.close();
        const [r, w] = b.pipe(false);
        if (r !== n) { b.dup2(r, n); b.close(r); }
        const pipeLink = fs.readlinkSync('/proc/self/fd/' + n);
        closed = null;
        // Adopted fds (dup'd onto free numbers) are closed by their finalizer too.
        const base = new b.Epoll(-1, true);
        for (let k = 15000, made = 0; made < 100; k++) {
          if (!fs.existsSync('/proc/self/fd/' + k)) { b.Epoll.fromFd(b.dup2(base.fileno(), k)); made++; }
        }
        base.close();
        for (let i = 0; i < 10000; i++) new b.Epoll(-1, i % 2 === 0);
        const peak = count();
        for (let i = 0; i < 6; i++) { global.gc(); await tick(); }
        const after = count();
        const stillPipe = fs.readlinkSync('/proc/self/fd/' + n) === pipeLink;
        b.write(w, Buffer.from('x'), 0, 1);
        const readBack = b.read(n, Buffer.alloc(1), 0, 1);
        console.log(JSON.stringify({ before, peak, after, stillPipe, readBack, pipeLink }));
      })();
    `;
    const res = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(res.stderr).toBe('');
    const out = JSON.parse(res.stdout) as Record<string, unknown>;
    expect(out.pipeLink).toMatch(/^pipe:/);
    expect(out.peak as number).toBeGreaterThan((out.before as number) + 100);
    // before counted neither the pipe's two ends; after does.
    expect(out.after).toBe((out.before as number) + 2);
    expect(out.stillPipe).toBe(true);
    expect(out.readBack).toBe(1);
  });
});

