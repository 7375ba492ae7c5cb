/** Socket test helpers: blocking waits in poll(2), whole reads and writes, a TCP loopback pair. */
import { getSystemErrorName } from 'node:util';
import { expect } from 'vitest';
import { constants } from '../../lib/constants';
import { read, write } from '../../lib/fd';
import { Poll } from '../../lib/poll';
import { accept, connect, listen, localAddress, socketError, type AcceptedSocket } from '../../lib/socket';
import { track } from './fds';

/** Blocks in poll(2) until fd has one of `events`; fails the test after 5 s. */
export function waitReady(fd: number, events: number): number {
  const p = new Poll();
  p.register(fd, events);
  const ready = p.poll(5000);
  p.unregister(fd);
  if (ready.length === 0) throw new Error(`fd ${fd} was not ready within 5 s`);
  return ready[0][1];
}

/** Waits for a pending connection, which accept() must then return. */
export function acceptOne(lfd: number): AcceptedSocket {
  waitReady(lfd, constants.POLLIN);
  const c = accept(lfd);
  expect(c).not.toBeNull();
  track(c!.fd);
  return c!;
}

/** Writes all of data (the socket buffers are far bigger than our messages). */
export function writeAll(fd: number, data: Buffer): void {
  expect(write(fd, data)).toBe(data.length);
}

/** Reads until `n` bytes have come, waiting in poll(2) on EAGAIN. */
export function readN(fd: number, n: number): Buffer {
  const buf = Buffer.alloc(n);
  let got = 0;
  while (got < n) {
    waitReady(fd, constants.POLLIN);
    const r = read(fd, buf, got, n - got);
    if (r === 0) throw new Error('unexpected EOF');
    if (r !== null) got += r;
  }
  return buf;
}

/** Waits until fd is readable and reads once: 0 means EOF. */
export function readAfterWait(fd: number): number | null {
  waitReady(fd, constants.POLLIN);
  return read(fd, Buffer.alloc(16));
}

export { thrown } from './thrown';

export function expectErrno(err: NodeJS.ErrnoException, code: string, syscall: string): void {
  expect(err.code).toBe(code);
  expect(err.syscall).toBe(syscall);
  expect(getSystemErrorName(err.errno!)).toBe(code);
  expect(err.message.startsWith(`${code}: `)).toBe(true);
}

/** A TCP loopback pair: [listener, client, accepted]. */
export function tcpPair(host = '127.0.0.1'): [number, number, AcceptedSocket] {
  const lfd = track(listen({ host, port: 0 }));
  const { port } = localAddress(lfd);
  const cfd = track(connect({ host, port }));
  // A non-blocking connect is done when the fd turns writable; SO_ERROR then says how.
  expect(waitReady(cfd, constants.POLLOUT) & constants.POLLOUT).toBe(constants.POLLOUT);
  expect(socketError(cfd)).toBeNull();
  const conn = acceptOne(lfd);
  return [lfd, cfd, conn];
}
