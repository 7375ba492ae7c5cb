import { getSystemErrorName } from 'node:util';
import { describe, expect, it } from 'vitest';
import { close, dup2, getNofileLimit, read, setNofileLimit, setNonBlocking, write } from '../../lib/fd';
import { closeNow, fdFlags, O_CLOEXEC, O_NONBLOCK, openFdCount, testPipe, testSocketPair } from '../helpers/fds';

const isLinux = process.platform === 'linux';

describe('fd helpers', () => {
  it('pipe carries bytes, gives null on EAGAIN and 0 at EOF', () => {
    const [r, w] = testPipe();
    expect(read(r, Buffer.alloc(4))).toBeNull();
    expect(write(w, Buffer.from('hello'), 1, 3)).toBe(3);
    const buf = Buffer.alloc(8);
    expect(read(r, buf, 2)).toBe(3);
    expect(buf.subarray(2, 5).toString()).toBe('ell');
    closeNow(w);
    expect(read(r, buf)).toBe(0);
  });

  it.runIf(isLinux)('makes CLOEXEC fds, non-blocking only when asked', () => {
    const [a, b] = testSocketPair(false);
    expect(fdFlags(a)! & O_CLOEXEC).toBe(O_CLOEXEC);
    expect(fdFlags(b)! & O_NONBLOCK).toBe(0);
    setNonBlocking(b);
    expect(fdFlags(b)! & O_NONBLOCK).toBe(O_NONBLOCK);
    setNonBlocking(b, false);
    expect(fdFlags(b)! & O_NONBLOCK).toBe(0);
    const [r] = testPipe(true);
    expect(fdFlags(r)! & (O_CLOEXEC | O_NONBLOCK)).toBe(O_CLOEXEC | O_NONBLOCK);
  });

  it('socket write to a closed peer is EPIPE, not a fatal SIGPIPE', () => {
    const [a, b] = testSocketPair();
    closeNow(b);
    const err = (() => {
      try {
        write(a, Buffer.from('x'));
      } catch (e) {
        return e as NodeJS.ErrnoException;
      }
    })();
    expect(err?.code).toBe('EPIPE');
    expect(err?.syscall).toBe('write');
    expect(getSystemErrorName(err!.errno!)).toBe('EPIPE');
    expect(err?.message).toBe('EPIPE: broken pipe, write');
  });

  it('close of a closed fd is EBADF with Node-shaped fields', () => {
    const [r] = testPipe();
    closeNow(r);
    expect(() => close(r)).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'close', errno: -9 }));
  });

  it('dup2 places an fd at a chosen number and keeps CLOEXEC', () => {
    const [r, w] = testPipe();
    const before = openFdCount();
    // Find a free number well above what the test process uses.
    let target = 900;
    while (fdFlags(target) !== undefined) target++;
    expect(dup2(r, target)).toBe(target);
    if (isLinux) expect(fdFlags(target)! & O_CLOEXEC).toBe(O_CLOEXEC);
    write(w, Buffer.from('z'));
    expect(read(target, Buffer.alloc(1))).toBe(1);
    close(target);
    expect(openFdCount()).toBe(before);
    expect(dup2(r, r)).toBe(r);
  });

  it('reads and sets RLIMIT_NOFILE, keeping the hard limit', () => {
    const { soft, hard } = getNofileLimit();
    expect(soft).toBeGreaterThan(0);
    expect(hard).toBeGreaterThanOrEqual(soft);
    setNofileLimit(Math.min(soft, 256));
    expect(getNofileLimit()).toEqual({ soft: Math.min(soft, 256), hard });
    setNofileLimit(soft);
    expect(getNofileLimit()).toEqual({ soft, hard });
    if (hard !== Infinity) {
      expect(() => setNofileLimit(hard + 1, hard)).toThrow(expect.objectContaining({ code: 'EINVAL', syscall: 'setrlimit' }));
    }
  });

  it.each([
    ['close("3")', () => close('3' as unknown as number), 'ERR_INVALID_ARG_TYPE'],
    ['close(-1)', () => close(-1), 'ERR_OUT_OF_RANGE'],
    ['close(1.5)', () => close(1.5), 'ERR_OUT_OF_RANGE'],
    ['close(NaN)', () => close(NaN), 'ERR_OUT_OF_RANGE'],
    ['close(2**40)', () => close(2 ** 40), 'ERR_OUT_OF_RANGE'],
    ['read into a string', () => read(0, 'abc' as unknown as Uint8Array), 'ERR_INVALID_ARG_TYPE'],
    ['read past the buffer', () => read(0, Buffer.alloc(2), 1, 5), 'ERR_OUT_OF_RANGE'],
    ['write offset past the end', () => write(1, Buffer.alloc(2), 3), 'ERR_OUT_OF_RANGE'],
    ['pipe({nonblocking: 1})', () => testPipe(1 as unknown as boolean), 'ERR_INVALID_ARG_TYPE'],
    ['setNofileLimit(-1)', () => setNofileLimit(-1), 'ERR_OUT_OF_RANGE'],
    ['setNofileLimit("1")', () => setNofileLimit('1' as unknown as number), 'ERR_INVALID_ARG_TYPE'],
  ])('%s throws %s', (_name, fn, code) => {
    expect(fn).toThrow(expect.objectContaining({ code }));
  });
});
