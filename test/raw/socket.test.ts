import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { native } from '../../lib/binding';
import { constants } from '../../lib/constants';
import { read, write } from '../../lib/fd';
import { accept, connect, listen, localAddress, shutdown, socketError } from '../../lib/socket';
import { closeNow, fdFlags, O_CLOEXEC, O_NONBLOCK, openFdCount, testPipe, track } from '../helpers/fds';
import { acceptOne, expectErrno, readAfterWait, readN, tcpPair, thrown, waitReady, writeAll } from '../helpers/sockets';

const isLinux = process.platform === 'linux';
const hasIpv6Loopback = Object.values(os.networkInterfaces()).some((list) =>
  (list ?? []).some((i) => i.family === 'IPv6' && i.address === '::1'),
);

describe('TCP over IPv4 loopback', () => {
  it('listens on port 0 and reports the chosen port', () => {
    const lfd = track(listen({ host: '127.0.0.1', port: 0 }));
    const addr = localAddress(lfd);
    expect(addr.address).toBe('127.0.0.1');
    expect(Number.isInteger(addr.port)).toBe(true);
    expect(addr.port).toBeGreaterThan(0);
  });

  it('defaults host to 127.0.0.1 and maps localhost to it', () => {
    expect(localAddress(track(listen({ port: 0 }))).address).toBe('127.0.0.1');
    expect(localAddress(track(listen({ host: 'localhost', port: 0 }, 8))).address).toBe('127.0.0.1');
  });

  it('accept on an idle listener returns null', () => {
    const lfd = track(listen({ port: 0 }));
    expect(accept(lfd)).toBeNull();
    expect(accept(lfd)).toBeNull();
  });

  it('connects, accepts with the peer address, and carries bytes both ways', () => {
    const [lfd, cfd, conn] = tcpPair();
    expect(conn.address).toBe('127.0.0.1');
    expect(conn.port).toBe(localAddress(cfd).port);
    expect(localAddress(conn.fd)).toEqual(localAddress(lfd));
    writeAll(cfd, Buffer.from('ping'));
    expect((readN(conn.fd, 4)).toString()).toBe('ping');
    writeAll(conn.fd, Buffer.from('pong!'));
    expect((readN(cfd, 5)).toString()).toBe('pong!');
    // Nothing more is pending: a non-blocking read says EAGAIN (null).
    expect(read(cfd, Buffer.alloc(4))).toBeNull();
  });

  it('accepts several queued connections, then returns null', () => {
    const lfd = track(listen({ port: 0 }, 8));
    const { port } = localAddress(lfd);
    const clients = [0, 1, 2].map(() => track(connect({ host: '127.0.0.1', port })));
    const ports = new Set<number>();
    for (let i = 0; i < clients.length; i++) ports.add((acceptOne(lfd)).port!);
    expect(ports).toEqual(new Set(clients.map((c) => localAddress(c).port)));
    expect(accept(lfd)).toBeNull();
  });

  it("shutdown('write') makes the peer read EOF after the data", () => {
    const [, cfd, conn] = tcpPair();
    writeAll(cfd, Buffer.from('last'));
    shutdown(cfd, 'write');
    expect((readN(conn.fd, 4)).toString()).toBe('last');
    const eof = readAfterWait(conn.fd);
    expect(eof).toBe(0);
    // The other direction still works.
    writeAll(conn.fd, Buffer.from('back'));
    expect((readN(cfd, 4)).toString()).toBe('back');
    // Writing on the shut half is EPIPE.
    expectErrno(thrown(() => write(cfd, Buffer.from('x'))), 'EPIPE', 'write');
  });

  it("shutdown() defaults to 'both' and 'read' is accepted", () => {
    const [, cfd, conn] = tcpPair();
    shutdown(conn.fd, 'read');
    shutdown(cfd);
    expect(readAfterWait(conn.fd)).toBe(0);
    expectErrno(thrown(() => write(cfd, Buffer.from('x'))), 'EPIPE', 'write');
  });

  it('a second listen on the same port is EADDRINUSE (SO_REUSEPORT off)', () => {
    const lfd = track(listen({ port: 0 }));
    const { port } = localAddress(lfd);
    const before = openFdCount();
    expectErrno(thrown(() => listen({ port })), 'EADDRINUSE', 'bind');
    expect(openFdCount()).toBe(before);
  });

  it('a host that is not ours is EADDRNOTAVAIL from bind, with no fd left behind', () => {
    const before = openFdCount();
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): never a local address; bind fails before any packet.
    expectErrno(thrown(() => listen({ host: '192.0.2.1', port: 0 })), 'EADDRNOTAVAIL', 'bind');
    expect(openFdCount()).toBe(before);
  });

  it('a connect to a closed port is ECONNREFUSED, at once or in socketError()', () => {
    const lfd = listen({ port: 0 });
    const { port } = localAddress(lfd);
    closeNow(track(lfd));
    const before = openFdCount();
    let code: string;
    try {
      const cfd = track(connect({ host: '127.0.0.1', port }));
      waitReady(cfd, constants.POLLOUT);
      code = socketError(cfd)!;
      // SO_ERROR is cleared by reading it.
      expect(socketError(cfd)).toBeNull();
      closeNow(cfd);
    } catch (e) {
      expectErrno(e as NodeJS.ErrnoException, 'ECONNREFUSED', 'connect');
      code = 'ECONNREFUSED';
    }
    expect(code).toBe('ECONNREFUSED');
    expect(openFdCount()).toBe(before);
  });

  // A link-local IPv6 address without a scope is refused by connect(2) itself (no packet is sent),
  // which exercises the close-before-throw path of connect.
  it.runIf(isLinux && hasIpv6Loopback)('a connect that fails at once throws and leaks no fd', () => {
    const before = openFdCount();
    expectErrno(thrown(() => connect({ host: 'fe80::1', port: 9 })), 'EINVAL', 'connect');
    expect(openFdCount()).toBe(before);
  });

  it.runIf(isLinux)('every fd is non-blocking and close-on-exec', () => {
    const [lfd, cfd, conn] = tcpPair();
    for (const fd of [lfd, cfd, conn.fd]) {
      expect(fdFlags(fd)! & (O_NONBLOCK | O_CLOEXEC)).toBe(O_NONBLOCK | O_CLOEXEC);
    }
  });

  it('syscall errors keep their errno and syscall name', () => {
    const [, cfd] = tcpPair();
    const [r] = testPipe();
    expectErrno(thrown(() => localAddress(r)), 'ENOTSOCK', 'getsockname');
    expectErrno(thrown(() => socketError(r)), 'ENOTSOCK', 'getsockopt');
    expectErrno(thrown(() => shutdown(r)), 'ENOTSOCK', 'shutdown');
    expectErrno(thrown(() => accept(cfd)), 'EINVAL', isLinux ? 'accept4' : 'accept');
    closeNow(r);
    expectErrno(thrown(() => shutdown(r, 'write')), 'EBADF', 'shutdown');
    expectErrno(thrown(() => accept(r)), 'EBADF', isLinux ? 'accept4' : 'accept');
  });
});

describe.skipIf(!hasIpv6Loopback)('TCP over IPv6 loopback (skipped: this host has no ::1)', () => {
  it('listens, connects and accepts on ::1', () => {
    const [lfd, cfd, conn] = tcpPair('::1');
    expect(localAddress(lfd).address).toBe('::1');
    expect(conn.address).toBe('::1');
    expect(conn.port).toBe(localAddress(cfd).port);
    writeAll(cfd, Buffer.from('six'));
    expect((readN(conn.fd, 3)).toString()).toBe('six');
  });
});

describe('Unix-domain sockets', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  function sockPath(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-sock-'));
    dirs.push(dir);
    return path.join(dir, 's.sock');
  }

  it('listens on a path, accepts an unnamed peer as "", and carries bytes', () => {
    const p = sockPath();
    const lfd = track(listen({ path: p }));
    expect(fs.statSync(p).isSocket()).toBe(true);
    expect(localAddress(lfd)).toEqual({ address: p, port: 0 });
    const cfd = track(connect({ path: p }));
    const conn = acceptOne(lfd);
    expect(conn).toEqual({ fd: conn.fd, address: '' });
    expect(localAddress(cfd)).toEqual({ address: '', port: 0 });
    writeAll(cfd, Buffer.from('unix'));
    expect((readN(conn.fd, 4)).toString()).toBe('unix');
    shutdown(conn.fd, 'write');
    expect(readAfterWait(cfd)).toBe(0);
    if (isLinux) {
      for (const fd of [lfd, cfd, conn.fd]) {
        expect(fdFlags(fd)! & (O_NONBLOCK | O_CLOEXEC)).toBe(O_NONBLOCK | O_CLOEXEC);
      }
    }
  });

  it('an existing path is EADDRINUSE; a missing one is ENOENT on connect; no fd leaks', () => {
    const p = sockPath();
    track(listen({ path: p }));
    const before = openFdCount();
    expectErrno(thrown(() => listen({ path: p })), 'EADDRINUSE', 'bind');
    expectErrno(thrown(() => connect({ path: `${p}.missing` })), 'ENOENT', 'connect');
    expectErrno(thrown(() => connect({ path: 'x'.repeat(200) })), 'ENAMETOOLONG', 'connect');
    expectErrno(thrown(() => listen({ path: 'x'.repeat(200) })), 'ENAMETOOLONG', 'bind');
    expect(openFdCount()).toBe(before);
  });
});

describe('bad inputs', () => {
  const TYPE = { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' };
  const RANGE = { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' };
  const VALUE = { code: 'ERR_INVALID_ARG_VALUE' };
  const cases: Array<[string, () => unknown, { name?: string; code: string }]> = [
    ['port -1', () => listen({ port: -1 }), RANGE],
    ['port 65536', () => listen({ port: 65536 }), RANGE],
    ['port 1.5', () => listen({ port: 1.5 }), RANGE],
    ['port NaN', () => listen({ port: NaN }), RANGE],
    ["port '80'", () => listen({ port: '80' as unknown as number }), TYPE],
    ['port missing', () => listen({} as { port: number }), TYPE],
    ['connect port 0', () => connect({ host: '127.0.0.1', port: 0 }), RANGE],
    ['host 123', () => listen({ host: 123 as unknown as string, port: 0 }), TYPE],
    ["host 'example.com'", () => listen({ host: 'example.com', port: 0 }), VALUE],
    ["host '1.2.3.256'", () => connect({ host: '1.2.3.256', port: 80 }), VALUE],
    ["host ''", () => listen({ host: '', port: 0 }), VALUE],
    ["host '::1%nosuchif0' (unknown scope)", () => listen({ host: '::1%nosuchif0', port: 0 }), VALUE],
    ['address null', () => listen(null as unknown as { port: number }), TYPE],
    ["address 'x'", () => connect('x' as unknown as { port: number }), TYPE],
    ["path ''", () => listen({ path: '' }), VALUE],
    ['path with NUL', () => connect({ path: 'a\0b' }), VALUE],
    ['path 5', () => listen({ path: 5 as unknown as string }), TYPE],
    ['backlog -1', () => listen({ port: 0 }, -1), RANGE],
    ['backlog 1.5', () => listen({ port: 0 }, 1.5), RANGE],
    ["backlog '5'", () => listen({ port: 0 }, '5' as unknown as number), TYPE],
    ["how 'sideways'", () => shutdown(0, 'sideways' as 'both'), VALUE],
    ['how 1', () => shutdown(0, 1 as unknown as 'both'), TYPE],
    ['accept fd -1', () => accept(-1), RANGE],
    ["accept fd '3'", () => accept('3' as unknown as number), TYPE],
    ['accept fd NaN', () => accept(NaN), RANGE],
    ['socketError fd -1', () => socketError(-1), RANGE],
    ["localAddress fd '3'", () => localAddress('3' as unknown as number), TYPE],
    ['shutdown fd NaN', () => shutdown(NaN), RANGE],
    // Direct native calls are checked too and never crash.
    ['native listenTcp(1, 0, 1)', () => native.listenTcp(1 as unknown as string, 0, 1), TYPE],
    ["native listenTcp('nope', 0, 1)", () => native.listenTcp('nope', 0, 1), VALUE],
    ["native connectTcp('::1%', 80)", () => native.connectTcp('::1%', 80), VALUE],
    ["native listenTcp('1.2.3.4', 70000, 1)", () => native.listenTcp('1.2.3.4', 70000, 1), RANGE],
    ["native listenUnix('', 1)", () => native.listenUnix('', 1), VALUE],
    ['native shutdown(0, 3)', () => native.shutdown(0, 3), RANGE],
    ['native accept(-1)', () => native.accept(-1), RANGE],
  ];

  it.each(cases)('%s', (_label, fn, expected) => {
    const before = openFdCount();
    const err = thrown(fn);
    expect(err).toMatchObject(expected);
    expect(openFdCount()).toBe(before);
  });
});
