/** setsockopt/getsockopt: each option set and read back, and its effect where a test can see it. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getSystemErrorName } from 'node:util';
import { describe, expect, it } from 'vitest';
import { constants } from '../../lib/constants';
import { read, write } from '../../lib/fd';
import { accept, connect, listen, localAddress, remoteAddress } from '../../lib/socket';
import { getsockopt, setsockopt } from '../../lib/sockopt';
import { udpSocket } from '../../lib/udp';
import { closeNow, track } from '../helpers/fds';
import { expectErrno, readN, tcpPair, thrown, waitReady } from '../helpers/sockets';
import { measure } from '../../scripts/servers/nodelay';

const c = constants;
const isLinux = process.platform === 'linux';
const hasIpv6Loopback = Object.values(os.networkInterfaces()).some((list) =>
  (list ?? []).some((i) => i.family === 'IPv6' && i.address === '::1'),
);

describe('flags: set, read back, clear', () => {
  const flags: Array<[string, string, () => number]> = [
    ['SOL_SOCKET', 'SO_REUSEADDR', () => track(udpSocket('ipv4'))],
    ['SOL_SOCKET', 'SO_REUSEPORT', () => track(udpSocket('ipv4'))],
    ['SOL_SOCKET', 'SO_KEEPALIVE', () => tcpPair()[1]],
    ['SOL_SOCKET', 'SO_BROADCAST', () => track(udpSocket('ipv4'))],
    ['IPPROTO_TCP', 'TCP_NODELAY', () => tcpPair()[1]],
    ['IPPROTO_TCP', 'TCP_QUICKACK', () => tcpPair()[1]],
    ['IPPROTO_IPV6', 'IPV6_V6ONLY', () => track(udpSocket('ipv6'))],
  ];
  for (const [level, name, make] of flags) {
    const skip = c[name] === undefined || (name === 'IPV6_V6ONLY' && !hasIpv6Loopback);
    if (skip) console.log(`skipping ${name}: not defined on ${process.platform} or no IPv6 here`);
    it.skipIf(skip)(`${name}`, () => {
      const fd = make();
      setsockopt(fd, c[level], c[name], true);
      expect(getsockopt(fd, c[level], c[name])).toBe(true);
      setsockopt(fd, c[level], c[name], false);
      expect(getsockopt(fd, c[level], c[name])).toBe(false);
      setsockopt(fd, c[level], c[name], 1);
      expect(getsockopt(fd, c[level], c[name])).toBe(true);
    });
  }
});

describe('TCP_NODELAY effect', () => {
  // Behaviour only, with wide bounds (figures: scripts/servers/nodelay.ts and the README). A
  // request sent as two small writes: with Nagle on, the second waits for the ACK of the first,
  // which the server delays (Linux: 40 ms at least); with TCP_NODELAY it leaves at once.
  if (!isLinux) console.log('skipping the TCP_NODELAY effect test: delayed-ACK timing is only known on Linux');
  it.skipIf(!isLinux)('a request in two small writes waits for the delayed ACK with Nagle, not with TCP_NODELAY', () => {
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    const nagle = median(measure(false, 11, 5));
    const nodelay = median(measure(true, 11, 5));
    expect(nagle).toBeGreaterThan(10_000); // µs
    expect(nodelay).toBeLessThan(nagle / 4);
  });
});

describe('numbers: set and read back as the kernel reports them', () => {
  it('SO_RCVBUF and SO_SNDBUF (Linux doubles what was set)', () => {
    const [, cfd] = tcpPair();
    for (const name of ['SO_RCVBUF', 'SO_SNDBUF']) {
      setsockopt(cfd, c.SOL_SOCKET, c[name], 65536);
      const got = getsockopt(cfd, c.SOL_SOCKET, c[name]);
      if (isLinux) expect(got).toBe(131072);
      else expect(got).toBeGreaterThanOrEqual(65536);
    }
  });

  it('keep-alive timing: idle, interval, count', () => {
    const [, cfd] = tcpPair();
    const idle = c.TCP_KEEPIDLE ?? c.TCP_KEEPALIVE;
    expect(idle).toBeDefined();
    setsockopt(cfd, c.IPPROTO_TCP, idle, 30);
    expect(getsockopt(cfd, c.IPPROTO_TCP, idle)).toBe(30);
    if (c.TCP_KEEPINTVL !== undefined) {
      setsockopt(cfd, c.IPPROTO_TCP, c.TCP_KEEPINTVL, 5);
      expect(getsockopt(cfd, c.IPPROTO_TCP, c.TCP_KEEPINTVL)).toBe(5);
    }
    if (c.TCP_KEEPCNT !== undefined) {
      setsockopt(cfd, c.IPPROTO_TCP, c.TCP_KEEPCNT, 4);
      expect(getsockopt(cfd, c.IPPROTO_TCP, c.TCP_KEEPCNT)).toBe(4);
    }
  });

  it.skipIf(c.TCP_DEFER_ACCEPT === undefined)('TCP_DEFER_ACCEPT: a connection that sends nothing is not accepted yet', () => {
    const lfd = track(listen({ port: 0 }));
    setsockopt(lfd, c.IPPROTO_TCP, c.TCP_DEFER_ACCEPT, 5);
    // Linux rounds the seconds to its SYN-ACK retransmission steps: 5 reads back as 7.
    expect(getsockopt(lfd, c.IPPROTO_TCP, c.TCP_DEFER_ACCEPT)).toBeGreaterThanOrEqual(5);
    const cfd = track(connect({ port: localAddress(lfd).port }));
    waitReady(cfd, c.POLLOUT);
    expect(accept(lfd)).toBeNull(); // handshake done on the client side, but no data yet
    write(cfd, Buffer.from('x'));
    waitReady(lfd, c.POLLIN);
    const conn = accept(lfd);
    expect(conn).not.toBeNull();
    track(conn!.fd);
  });
});

describe('SO_LINGER', () => {
  it('reads back { onoff, linger }', () => {
    const [, cfd] = tcpPair();
    expect(getsockopt(cfd, c.SOL_SOCKET, c.SO_LINGER)).toEqual({ onoff: false, linger: 0 });
    setsockopt(cfd, c.SOL_SOCKET, c.SO_LINGER, { onoff: true, linger: 3 });
    expect(getsockopt(cfd, c.SOL_SOCKET, c.SO_LINGER)).toEqual({ onoff: true, linger: 3 });
  });

  it('{ onoff: true, linger: 0 } makes close() reset the connection: the peer reads ECONNRESET', () => {
    const [, cfd, conn] = tcpPair();
    setsockopt(conn.fd, c.SOL_SOCKET, c.SO_LINGER, { onoff: true, linger: 0 });
    closeNow(conn.fd);
    waitReady(cfd, c.POLLIN);
    expectErrno(thrown(() => read(cfd, Buffer.alloc(8))), 'ECONNRESET', 'read');
  });
});

describe('SO_ERROR', () => {
  it('gives a refused connect as a negative errno, then 0 (reading clears it); it is read-only', () => {
    const lfd = listen({ port: 0 });
    const { port } = localAddress(lfd);
    closeNow(track(lfd));
    let fd: number;
    try {
      fd = track(connect({ port }));
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ECONNREFUSED'); // reported at once
      return;
    }
    waitReady(fd, c.POLLOUT);
    const err = getsockopt(fd, c.SOL_SOCKET, c.SO_ERROR) as number;
    expect(err).toBeLessThan(0);
    expect(getSystemErrorName(err)).toBe('ECONNREFUSED');
    expect(getsockopt(fd, c.SOL_SOCKET, c.SO_ERROR)).toBe(0);
    expect(() => setsockopt(fd, c.SOL_SOCKET, c.SO_ERROR, 0)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });
});

describe('errors keep their syscall', () => {
  it('TCP_NODELAY on a Unix socket is the kernel\'s refusal, syscall setsockopt / getsockopt', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-sockopt-'));
    try {
      const lfd = track(listen({ path: path.join(dir, 's') }));
      const e1 = thrown(() => setsockopt(lfd, c.IPPROTO_TCP, c.TCP_NODELAY, true));
      expect(e1.syscall).toBe('setsockopt');
      // Linux says EOPNOTSUPP, which libuv names ENOTSUP (the same number there).
      expect(['ENOTSUP', 'EOPNOTSUPP', 'ENOPROTOOPT', 'EINVAL']).toContain(e1.code);
      expect(getSystemErrorName(e1.errno!)).toBe(e1.code);
      const e2 = thrown(() => getsockopt(lfd, c.IPPROTO_TCP, c.TCP_NODELAY));
      expect(e2.syscall).toBe('getsockopt');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('listen options', () => {
  it('reusePort: two listeners share a port; without it on either side, EADDRINUSE', () => {
    const a = track(listen({ port: 0 }, { reusePort: true }));
    const { port } = localAddress(a);
    expect(getsockopt(a, c.SOL_SOCKET, c.SO_REUSEPORT)).toBe(true);
    const b = track(listen({ port }, { reusePort: true }));
    expect(localAddress(b).port).toBe(port);
    expectErrno(thrown(() => listen({ port })), 'EADDRINUSE', 'bind');
    const lone = track(listen({ port: 0 }));
    expect(getsockopt(lone, c.SOL_SOCKET, c.SO_REUSEPORT)).toBe(false);
    expectErrno(thrown(() => listen({ port: localAddress(lone).port }, { reusePort: true })), 'EADDRINUSE', 'bind');
  });

  it.skipIf(!isLinux)('reusePort: the kernel spreads connections over both listeners (Linux)', () => {
    const a = track(listen({ port: 0 }, { reusePort: true }));
    const { port } = localAddress(a);
    const b = track(listen({ port }, { reusePort: true }));
    const counts = [0, 0];
    // Linux hashes each connection's 4-tuple onto a listener: 32 all on one side is 2^-31.
    for (let i = 0; i < 32; i++) {
      const cfd = track(connect({ port }));
      waitReady(cfd, c.POLLOUT);
      for (;;) {
        const got = [accept(a), accept(b)];
        got.forEach((conn, k) => {
          if (conn) {
            counts[k]++;
            closeNow(track(conn.fd));
          }
        });
        if (got.some((x) => x !== null)) break;
      }
      closeNow(cfd);
    }
    expect(counts[0] + counts[1]).toBe(32);
    expect(counts[0]).toBeGreaterThan(0);
    expect(counts[1]).toBeGreaterThan(0);
  });

  it('backlog as a number or in options; options must be an object of booleans', () => {
    expect(localAddress(track(listen({ port: 0 }, 16))).port).toBeGreaterThan(0);
    expect(localAddress(track(listen({ port: 0 }, { backlog: 16 }))).port).toBeGreaterThan(0);
    expect(() => listen({ port: 0 }, { reusePort: 'yes' as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });

  it.skipIf(!hasIpv6Loopback)('ipv6Only: "::" then refuses IPv4 peers; by default it takes them', () => {
    const only = track(listen({ host: '::', port: 0 }, { ipv6Only: true }));
    expect(getsockopt(only, c.IPPROTO_IPV6, c.IPV6_V6ONLY)).toBe(true);
    const dual = track(listen({ host: '::', port: 0 }));
    expect(getsockopt(dual, c.IPPROTO_IPV6, c.IPV6_V6ONLY)).toBe(false);
    // IPv4 to the dual-stack listener is accepted, as ::ffff:127.0.0.1.
    const ok = track(connect({ port: localAddress(dual).port }));
    waitReady(dual, c.POLLIN);
    const conn = accept(dual)!;
    track(conn.fd);
    expect(conn.address).toBe('::ffff:127.0.0.1');
    expect(remoteAddress(ok)).toEqual({ address: '127.0.0.1', port: localAddress(dual).port });
    // IPv4 to the v6-only one finds no listener on 127.0.0.1 for that port.
    let refused = false;
    try {
      const fd = track(connect({ port: localAddress(only).port }));
      waitReady(fd, c.POLLOUT);
      refused = getsockopt(fd, c.SOL_SOCKET, c.SO_ERROR) !== 0;
    } catch (err) {
      refused = (err as NodeJS.ErrnoException).code === 'ECONNREFUSED';
    }
    expect(refused).toBe(true);
  });
});

describe('remoteAddress', () => {
  it("gives the peer in accept()'s and localAddress()'s shape", () => {
    const [lfd, cfd, conn] = tcpPair();
    expect(remoteAddress(cfd)).toEqual(localAddress(lfd));
    expect(remoteAddress(conn.fd)).toEqual({ address: conn.address, port: conn.port });
    expect(remoteAddress(conn.fd)).toEqual(localAddress(cfd));
    write(cfd, Buffer.from('hi'));
    expect(readN(conn.fd, 2).toString()).toBe('hi');
  });

  it('is ENOTCONN on a listener, syscall getpeername', () => {
    const lfd = track(listen({ port: 0 }));
    expectErrno(thrown(() => remoteAddress(lfd)), 'ENOTCONN', 'getpeername');
  });
});
