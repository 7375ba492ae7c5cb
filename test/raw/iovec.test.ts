/** readv/writev: many small buffers, partial writes into a full socketpair, EAGAIN, EOF, IOV_MAX. */
import { describe, expect, it } from 'vitest';
import { native } from '../../lib/binding';
import { constants } from '../../lib/constants';
import { read, write } from '../../lib/fd';
import { IOV_MAX, readv, writev } from '../../lib/iovec';
import { closeNow, testPipe, testSocketPair } from '../helpers/fds';
import { expectErrno, thrown, waitReady } from '../helpers/sockets';

/** n small buffers of varied sizes (1..37 bytes) holding a known pattern. */
function pieces(n: number): Buffer[] {
  let k = 0;
  return Array.from({ length: n }, (_, i) => Buffer.from(Array.from({ length: 1 + (i * 7) % 37 }, () => k++ & 0xff)));
}

describe('writev / readv', () => {
  it('writes 500 small buffers in one call and reads them back scattered into 300 others', () => {
    const [a, b] = testSocketPair();
    const out = pieces(500);
    const total = out.reduce((s, x) => s + x.length, 0);
    expect(writev(a, out)).toBe(total);
    const into = Array.from({ length: 300 }, (_, i) => Buffer.alloc(1 + (i % 50)));
    const room = into.reduce((s, x) => s + x.length, 0);
    let got = 0;
    const collected: Buffer[] = [];
    while (got < total) {
      waitReady(b, constants.POLLIN);
      const n = readv(b, into);
      expect(n).not.toBeNull();
      // readv fills the first buffer, then the next: take the n first bytes across them.
      let left = n!;
      for (const buf of into) {
        if (left === 0) break;
        collected.push(Buffer.from(buf.subarray(0, Math.min(left, buf.length))));
        left -= Math.min(left, buf.length);
      }
      got += n!;
      expect(n!).toBeLessThanOrEqual(room);
    }
    expect(Buffer.concat(collected).equals(Buffer.concat(out))).toBe(true);
  });

  it('partial writes: a full socketpair takes part of a writev, then null (EAGAIN); resuming delivers every byte', () => {
    const [a, b] = testSocketPair();
    const chunk = 64 * 1024;
    const out = Array.from({ length: 64 }, (_, i) => Buffer.alloc(chunk, i)); // 4 MiB, far over the buffer
    const total = chunk * out.length;
    const first = writev(a, out);
    expect(first).not.toBeNull();
    expect(first!).toBeGreaterThan(0);
    expect(first!).toBeLessThan(total); // the kernel took only what fit
    // Resume from the byte count until the socket is full: the next writev says EAGAIN.
    let sent = first!;
    const rest = (): Buffer[] => {
      const i = Math.floor(sent / chunk);
      return [out[i].subarray(sent % chunk), ...out.slice(i + 1)];
    };
    let n: number | null;
    while ((n = writev(a, rest())) !== null) sent += n;
    expect(n).toBeNull();
    // Drain on the other side while writing the rest, checking every byte.
    const buf = Buffer.alloc(chunk);
    let received = 0;
    while (received < total) {
      if (sent < total) {
        const w = writev(a, rest());
        if (w !== null) sent += w;
      }
      const r = read(b, buf);
      if (r === null) {
        waitReady(b, constants.POLLIN);
        continue;
      }
      for (let k = 0; k < r; k++) {
        if (buf[k] !== Math.floor((received + k) / chunk)) throw new Error(`byte ${received + k} is wrong`);
      }
      received += r;
    }
    expect(sent).toBe(total);
    expect(received).toBe(total);
  });

  it('readv is null on EAGAIN and 0 at EOF; empty buffer lists move nothing', () => {
    const [a, b] = testSocketPair();
    expect(readv(b, [Buffer.alloc(4)])).toBeNull();
    expect(writev(a, [])).toBe(0);
    closeNow(a);
    waitReady(b, constants.POLLIN);
    expect(readv(b, [Buffer.alloc(4), Buffer.alloc(4)])).toBe(0);
  });

  it('works on pipes, and takes subarrays (a view\'s offset is honoured)', () => {
    const [r, w] = testPipe();
    const base = Buffer.from('xxheadxx body!');
    expect(writev(w, [base.subarray(2, 6), base.subarray(8)])).toBe(10);
    const a = Buffer.alloc(4);
    const b = Buffer.alloc(8);
    expect(readv(r, [a, b.subarray(2)])).toBe(10);
    expect(a.toString()).toBe('head');
    expect(b.subarray(2).toString()).toBe(' body!');
  });

  it('takes exactly IOV_MAX buffers and refuses one more with a RangeError', () => {
    const [a, b] = testSocketPair();
    const many = Array.from({ length: IOV_MAX }, () => Buffer.from('z'));
    expect(writev(a, many)).toBe(IOV_MAX);
    expect(read(b, Buffer.alloc(IOV_MAX * 2))).toBe(IOV_MAX);
    const err = thrown(() => writev(a, [...many, Buffer.from('z')]));
    expect(err).toBeInstanceOf(RangeError);
    expect(err.code).toBe('ERR_OUT_OF_RANGE');
    // The native check stands on its own too (a direct call cannot overrun the iovec array).
    expect(() => native.readv(b, new Array(IOV_MAX + 1).fill(Buffer.alloc(1)))).toThrow(RangeError);
  });

  it('a peer that has gone is EPIPE (no SIGPIPE), syscall writev; a write-only fd is EBADF for readv', () => {
    const [a, b] = testSocketPair();
    closeNow(b);
    expectErrno(thrown(() => writev(a, [Buffer.from('x')])), 'EPIPE', 'writev');
    const [, w] = testPipe();
    expectErrno(thrown(() => readv(w, [Buffer.alloc(1)])), 'EBADF', 'readv');
  });

  it('a getter that detaches a buffer mid-call cannot make native code use freed memory', () => {
    const [a, b] = testSocketPair();
    const victim = new Uint8Array(new ArrayBuffer(1024)).fill(1);
    const list: Uint8Array[] = [victim];
    Object.defineProperty(list, 1, {
      enumerable: true,
      get() {
        if (victim.buffer.byteLength > 0) structuredClone(victim.buffer, { transfer: [victim.buffer] });
        return new Uint8Array(4);
      },
    });
    // Elements are all fetched before any pointer is taken, so the detached buffer counts as empty.
    expect(native.writev(a, list)).toBe(4);
    expect(read(b, Buffer.alloc(2048))).toBe(4);
    expect(write(a, Buffer.from('ok'))).toBe(2);
  });
});
