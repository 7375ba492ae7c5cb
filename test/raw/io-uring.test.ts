/** IoUring against the kernel: the ring as it is (issue 15). */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { constants } from '../../lib/constants';
import { close, read, write } from '../../lib/fd';
import { IoUring } from '../../lib/io-uring';
import { createNativeIoUring, ioUringSupport } from '../../lib/io-uring-support';
import { addonExpr, repoRoot } from '../helpers/addon';
import { closeNow, openFdCount, testPipe, testSocketPair } from '../helpers/fds';
import { thrown } from '../helpers/thrown';

const support = ioUringSupport();
if (!support.available) console.log(`IoUring tests skipped: ${support.reason}`);
const { POLLIN, POLLOUT, POLLNVAL, POLLHUP } = constants;
const ONE = Buffer.from('x');

const rings: IoUring[] = [];
function ring(options?: ConstructorParameters<typeof IoUring>[0]): IoUring {
  const r = new IoUring(options);
  rings.push(r);
  return r;
}
afterEach(() => {
  for (const r of rings.splice(0)) r.close();
});

describe.skipIf(!support.available)('IoUring', () => {
  it('owns a close-on-exec fd; close() is idempotent and every use after it is ERR_CLOSED', () => {
    const before = openFdCount();
    const r = new IoUring();
    const fd = r.fileno();
    expect(openFdCount()).toBe(before + 1);
    expect(r.closed).toBe(false);
    r.close();
    r.close();
    expect(r.closed).toBe(true);
    expect(openFdCount()).toBe(before);
    const [a] = testPipe();
    for (const use of [() => r.fileno(), () => r.register(a, POLLIN), () => r.unregister(a), () => r.wait(0), () => r.submit()]) {
      expect(thrown(use)).toMatchObject({ code: 'ERR_CLOSED' });
    }
    expect(fd).toBeGreaterThanOrEqual(0);
  });

  it('wait, waitInto and waitAsync report (fd, revents) as Epoll does', async () => {
    const r = ring();
    const [a, b] = testSocketPair();
    r.register(a, POLLIN);
    expect(r.wait(0)).toEqual([]);
    write(b, ONE);
    expect(r.wait(1000)).toEqual([[a, POLLIN]]);
    write(b, ONE);
    const out = new Int32Array(4);
    expect(r.waitInto(out, 1000)).toBe(1);
    expect([...out.subarray(0, 2)]).toEqual([a, POLLIN]);
    const pending = r.waitAsync(2000);
    setTimeout(() => write(b, ONE), 20);
    expect(await pending).toEqual([[a, POLLIN]]);
    expect(await r.waitAsync(30)).toEqual([]);
  });

  it('multishot (default) is edge-like: unread data is reported once, new data again', () => {
    const r = ring();
    const [a, b] = testSocketPair();
    r.register(a, POLLIN);
    write(b, ONE);
    expect(r.wait(1000)).toEqual([[a, POLLIN]]);
    expect(r.wait(50)).toEqual([]); // still readable, not reported again
    write(b, ONE);
    expect(r.wait(1000)).toEqual([[a, POLLIN]]);
  });

  it('level: true is level-triggered: unread data is reported by every wait', () => {
    const r = ring({ level: true });
    const [a, b] = testSocketPair();
    r.register(a, POLLIN);
    write(b, ONE);
    for (let i = 0; i < 3; i++) expect(r.wait(1000)).toEqual([[a, POLLIN]]);
    // Past 4096 records wait() builds its pairs natively instead: the same answer.
    expect(r.wait(1000, 5000)).toEqual([[a, POLLIN]]);
    expect(r.wait(1000, 65536)).toEqual([[a, POLLIN]]);
    read(a, Buffer.alloc(8));
    expect(r.wait(30)).toEqual([]);
    expect(r.wait(0, 5000)).toEqual([]);
  });

  it('waitIntoAsync (native) writes the records into the buffer; one detached meanwhile gets none', async () => {
    const nat = createNativeIoUring(8, true);
    try {
      const [a, b] = testSocketPair();
      nat.register(a, POLLIN, 77);
      const into = (out: Int32Array, detach = false): Promise<number> =>
        new Promise((resolve, reject) => {
          nat.waitIntoAsync(out, 1000, 3, (err, n) => (err ? reject(err) : resolve(n as number)));
          if (detach) structuredClone(out.buffer, { transfer: [out.buffer] });
          write(b, ONE);
        });
      const out = new Int32Array(6).fill(-1);
      expect(await into(out)).toBe(1);
      expect([...out]).toEqual([a, POLLIN, 77, -1, -1, -1]);
      // Level mode: still ready, so the next wait completes at once, into a detached buffer.
      expect(await into(new Int32Array(6), true)).toBe(0);
      expect(await into(out)).toBe(1);
      expect([...out.subarray(0, 3)]).toEqual([a, POLLIN, 77]);
    } finally {
      nat.close();
    }
  });

  it('batches register, modify and unregister of many fds into the one io_uring_enter of the wait', () => {
    const r = ring();
    const pairs = Array.from({ length: 100 }, () => testSocketPair());
    r.resetStats();
    for (const [a] of pairs) r.register(a, POLLIN);
    for (const [a] of pairs.slice(0, 10)) r.modify(a, POLLIN | POLLOUT);
    for (const [a] of pairs.slice(90)) r.unregister(a);
    expect(r.stats().syscalls).toBe(0); // nothing went to the kernel yet
    const ready = r.wait(0, 1000);
    // 100 adds, 10 removes + 10 adds, 10 removes: 130 SQEs in one enter.
    expect(r.stats()).toMatchObject({ calls: 1, syscalls: 1, fds: 130 });
    expect(ready.sort((x, y) => x[0] - y[0])).toEqual(pairs.slice(0, 10).map(([a]) => [a, POLLOUT]));
  });

  it('a blocking wait submits the queued changes and waits in one io_uring_enter', () => {
    // In a child process of its own: here, vitest's worker messages wake the loop's async fd,
    // which a blocking wait watches (sync_interrupt.h), and each wake-up is one enter more.
    const script = `
      const b = ${addonExpr()};
      const ring = new b.IoUring(8, false);
      const [a] = b.socketpair(true);
      ring.register(a, b.constants.POLLIN, 0);
      const t0 = performance.now();
      const ready = ring.poll(50);
      console.log(JSON.stringify({ ready, ms: performance.now() - t0, stats: ring.stats() }));
    `;
    const res = spawnSync(process.execPath, ['-e', script], { cwd: repoRoot, encoding: 'utf8', timeout: 30_000 });
    expect(res.stderr).toBe('');
    const out = JSON.parse(res.stdout) as { ready: unknown[]; ms: number; stats: Record<string, number> };
    expect(out.ready).toEqual([]);
    expect(out.ms).toBeGreaterThanOrEqual(49);
    // The add, plus the ring's own poll on the thread's interrupt fd (made once, kept).
    expect(out.stats).toMatchObject({ calls: 1, syscalls: 1, fds: 2 });
  });

  it('errors surface at register time: EBADF, EEXIST, ENOENT, and bad arguments', () => {
    const r = ring();
    const [a] = testPipe();
    const [gone] = testPipe();
    closeNow(gone);
    expect(thrown(() => r.register(gone, POLLIN))).toMatchObject({ code: 'EBADF', syscall: 'fcntl' });
    r.register(a, POLLIN);
    expect(thrown(() => r.register(a, POLLIN))).toMatchObject({ code: 'EEXIST' });
    const [b] = testPipe();
    expect(thrown(() => r.modify(b, POLLIN))).toMatchObject({ code: 'ENOENT' });
    expect(thrown(() => r.unregister(b))).toMatchObject({ code: 'ENOENT' });
    for (const bad of [-1, 1.5, 2 ** 31]) expect(thrown(() => r.register(bad, POLLIN))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrown(() => r.register('3' as never, POLLIN))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(thrown(() => r.register(b, 0x10000))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrown(() => r.wait(Number.NaN))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrown(() => r.wait(0, 0))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrown(() => r.wait(0, 65537))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrown(() => r.waitInto(new Int32Array(3), 0))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrown(() => r.waitInto([] as never, 0))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    for (const entries of [0, 32769, 1.5, Number.NaN]) expect(thrown(() => new IoUring({ entries }))).toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    expect(thrown(() => new IoUring({ level: 1 as never }))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
  });

  it('an fd closed after register but before the wait is reported POLLNVAL, once', () => {
    const r = ring();
    const [a] = testPipe();
    r.register(a, POLLIN);
    closeNow(a);
    expect(r.wait(1000)).toEqual([[a, POLLNVAL]]);
    expect(r.wait(20)).toEqual([]);
    r.unregister(a);
  });

  it('never reports a completion of an older registration of a reused fd number', () => {
    const r = ring();
    const [a, b] = testSocketPair();
    r.register(a, POLLIN);
    r.submit();
    write(b, ONE); // the old request completes...
    closeNow(a);
    r.unregister(a); // ...but its registration is gone
    const [c, d] = testSocketPair();
    r.register(c, POLLIN);
    expect(r.wait(30)).toEqual([]);
    write(d, ONE);
    expect(r.wait(1000)).toEqual([[c, POLLIN]]);
    r.modify(c, POLLOUT); // the POLLIN completion of the old mask is not reported
    expect(r.wait(1000)).toEqual([[c, POLLOUT]]);
  });

  it('CQ overflow with a tiny ring: 1000 ready fds, none lost, all re-armed', () => {
    const r = ring({ entries: 4 }); // 4 SQ and 8 CQ entries
    expect(r.info().cqEntries).toBe(8);
    const pairs = Array.from({ length: 1000 }, () => testSocketPair());
    for (const [a, b] of pairs) {
      r.register(a, POLLIN);
      write(b, ONE);
    }
    const seen = new Set<number>();
    const out = new Int32Array(2 * 64);
    for (let i = 0; i < 200 && seen.size < 1000; i++) {
      const n = r.waitInto(out, 1000);
      for (let k = 0; k < n; k++) seen.add(out[2 * k]);
    }
    expect(seen.size).toBe(1000);
    // Linux ends a multishot request whose completion overflowed the CQ (no IORING_CQE_F_MORE).
    expect(r.info().rearms).toBeGreaterThan(0);
    // Multishot requests that the overflow ended were armed again: new data is seen on every fd.
    for (const [a, b] of pairs) {
      read(a, Buffer.alloc(8));
      write(b, ONE);
    }
    const again = new Set<number>();
    for (let i = 0; i < 400 && again.size < 1000; i++) {
      const n = r.waitInto(out, 1000);
      for (let k = 0; k < n; k++) again.add(out[2 * k]);
    }
    expect(again.size).toBe(1000);
  });

  it('close() during a waitAsync settles it with ERR_CLOSED; a second wait is ERR_BUSY; abort works', async () => {
    const r = new IoUring();
    const [a] = testPipe();
    r.register(a, POLLIN);
    const pending = r.waitAsync();
    expect(thrown(() => r.wait(0))).toMatchObject({ code: 'ERR_BUSY' });
    await expect(r.waitAsync(0)).rejects.toMatchObject({ code: 'ERR_BUSY' });
    r.close();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    const s = ring();
    const ac = new AbortController();
    const aborted = s.waitAsync(5000, { signal: ac.signal });
    ac.abort(new Error('stop'));
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(s.wait(0)).toEqual([]);
  });

  it('a peer closed during a wait wakes it with POLLHUP; a change during waitAsync counts at once', async () => {
    const r = ring();
    const [a, b] = testSocketPair();
    r.register(a, POLLIN);
    const pending = r.waitAsync(2000);
    const [c, d] = testSocketPair();
    r.register(c, POLLIN); // submitted at once: the wait makes no enter that would carry it
    write(d, ONE);
    expect(await pending).toEqual([[c, POLLIN]]);
    setTimeout(() => closeNow(b), 20);
    const [[fd, revents]] = await r.waitAsync(2000);
    expect(fd).toBe(a);
    expect(revents & POLLHUP).toBe(POLLHUP);
  });

  describe('signals', () => {
    let child: ChildProcess | undefined;
    afterEach(async () => {
      if (child && child.exitCode === null) {
        const exited = new Promise((resolve) => child!.on('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
    });

    it('an EINTR storm (SIGCHLD every 5 ms) neither ends nor shortens a wait', async () => {
      const r = ring();
      const [a] = testPipe();
      r.register(a, POLLIN);
      child = spawn('sh', ['-c', `while kill -CHLD ${process.pid}; do sleep 0.005; done`], { stdio: 'ignore' });
      await new Promise((resolve) => setTimeout(resolve, 100));
      r.resetStats();
      const t0 = performance.now();
      expect(r.wait(400)).toEqual([]);
      const took = performance.now() - t0;
      expect(took).toBeGreaterThanOrEqual(395);
      expect(took).toBeLessThan(3000);
      // Each signal that hit the wait made it enter again with the time left.
      expect(r.stats().syscalls).toBeGreaterThan(1);
    });
  });

  it('leaves no fd behind after many rings, closed or not', () => {
    const before = openFdCount();
    for (let i = 0; i < 50; i++) new IoUring({ entries: 2 }).close();
    expect(openFdCount()).toBe(before);
    const [x, y] = testPipe();
    close(x);
    close(y);
  });
});
