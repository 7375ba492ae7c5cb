/** Datagram sockets: round trips on IPv4, IPv6 and Unix datagram sockets; EAGAIN; errors. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { constants } from '../../lib/constants';
import { localAddress } from '../../lib/socket';
import { bindUdp, recvFrom, sendTo, udpSocket, type Datagram } from '../../lib/udp';
import { fdFlags, O_CLOEXEC, O_NONBLOCK, openFdCount, track } from '../helpers/fds';
import { expectErrno, thrown, waitReady } from '../helpers/sockets';

const isLinux = process.platform === 'linux';
const hasIpv6Loopback = Object.values(os.networkInterfaces()).some((list) =>
  (list ?? []).some((i) => i.family === 'IPv6' && i.address === '::1'),
);

/** Waits until fd has a datagram and takes it. */
function receive(fd: number, buf: Buffer): Datagram {
  waitReady(fd, constants.POLLIN);
  const got = recvFrom(fd, buf);
  expect(got).not.toBeNull();
  return got!;
}

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  dirs = [];
});
function tmpPath(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-udp-'));
  dirs.push(dir);
  return path.join(dir, name);
}

describe('UDP over IPv4', () => {
  it('round trip: the reply goes back to the address recvFrom() gave', () => {
    const server = track(bindUdp({ host: '127.0.0.1', port: 0 }));
    const client = track(udpSocket('ipv4'));
    const to = localAddress(server);
    expect(sendTo(client, Buffer.from('ping'), to)).toBe(4);
    const buf = Buffer.alloc(64);
    const got = receive(server, buf);
    expect(got.bytes).toBe(4);
    expect(buf.subarray(0, 4).toString()).toBe('ping');
    // The kernel bound the client (to 0.0.0.0:ephemeral) at its first send; recvFrom gives
    // localAddress()'s shape with the address the datagram came from.
    expect(got.address).toEqual({ address: '127.0.0.1', port: localAddress(client).port });
    expect(sendTo(server, Buffer.from('pong!'), got.address)).toBe(5);
    const back = receive(client, buf);
    expect(back).toEqual({ bytes: 5, address: to });
    expect(buf.subarray(0, 5).toString()).toBe('pong!');
  });

  it('recvFrom is null when nothing waits (EAGAIN); the fds are non-blocking and close-on-exec', () => {
    const fd = track(bindUdp({ port: 0 }));
    expect(recvFrom(fd, Buffer.alloc(16))).toBeNull();
    expect(recvFrom(fd, Buffer.alloc(16))).toBeNull();
    if (isLinux) {
      for (const f of [fd, track(udpSocket())]) {
        expect(fdFlags(f)! & O_NONBLOCK).toBe(O_NONBLOCK);
        expect(fdFlags(f)! & O_CLOEXEC).toBe(O_CLOEXEC);
      }
    }
  });

  it('keeps datagram boundaries, honours offset/length, and cuts a datagram longer than the room', () => {
    const server = track(bindUdp({ port: 0 }));
    const client = track(udpSocket('ipv4'));
    const { port } = localAddress(server);
    const payload = Buffer.from('0123456789');
    expect(sendTo(client, payload, { host: '127.0.0.1', port }, 2, 3)).toBe(3); // '234'
    expect(sendTo(client, payload, { host: '127.0.0.1', port })).toBe(10);
    const buf = Buffer.alloc(16, 0x2e);
    expect(receive(server, buf).bytes).toBe(3);
    expect(buf.subarray(0, 3).toString()).toBe('234');
    waitReady(server, constants.POLLIN);
    expect(recvFrom(server, buf, 4, 5)!.bytes).toBe(5); // 10 bytes into 5: the rest is dropped
    expect(buf.subarray(0, 10).toString()).toBe('234.01234.');
    expect(recvFrom(server, buf)).toBeNull();
  });

  it('a port in use is EADDRINUSE from bind, with no fd left behind', () => {
    const a = track(bindUdp({ port: 0 }));
    const before = openFdCount();
    expectErrno(thrown(() => bindUdp({ port: localAddress(a).port })), 'EADDRINUSE', 'bind');
    expect(openFdCount()).toBe(before);
  });

  it('an IPv6 destination on an IPv4 socket is the kernel\'s error, syscall sendto', () => {
    const fd = track(udpSocket('ipv4'));
    const err = thrown(() => sendTo(fd, Buffer.from('x'), { address: '::1', port: 9 }));
    expect(err.syscall).toBe('sendto');
    expect(['EAFNOSUPPORT', 'EINVAL']).toContain(err.code);
  });
});

describe.skipIf(!hasIpv6Loopback)('UDP over IPv6', () => {
  it('round trip on ::1', () => {
    const server = track(bindUdp({ host: '::1', port: 0 }));
    const client = track(udpSocket('ipv6'));
    expect(sendTo(client, Buffer.from('six'), localAddress(server))).toBe(3);
    const buf = Buffer.alloc(16);
    const got = receive(server, buf);
    expect(got.address).toEqual({ address: '::1', port: localAddress(client).port });
    expect(sendTo(server, buf, got.address, 0, got.bytes)).toBe(3);
    expect(receive(client, buf)).toEqual({ bytes: 3, address: localAddress(server) });
    expect(buf.subarray(0, 3).toString()).toBe('six');
  });

  it("'::' is dual stack: an IPv4 datagram arrives from ::ffff:127.0.0.1", () => {
    const server = track(bindUdp({ host: '::', port: 0 }));
    const client = track(udpSocket('ipv4'));
    sendTo(client, Buffer.from('v4'), { host: '127.0.0.1', port: localAddress(server).port });
    const got = receive(server, Buffer.alloc(8));
    expect(got.address).toEqual({ address: '::ffff:127.0.0.1', port: localAddress(client).port });
    expect(sendTo(server, Buffer.from('ok'), got.address)).toBe(2);
    expect(receive(client, Buffer.alloc(8)).address.address).toBe('127.0.0.1');
  });
});

describe('Unix datagram sockets', () => {
  it('round trip between two bound paths; the address is the path and port 0', () => {
    const serverPath = tmpPath('server');
    const clientPath = tmpPath('client');
    const server = track(bindUdp({ path: serverPath }));
    const client = track(bindUdp({ path: clientPath }));
    expect(localAddress(server)).toEqual({ address: serverPath, port: 0 });
    expect(sendTo(client, Buffer.from('hello'), localAddress(server))).toBe(5);
    const buf = Buffer.alloc(16);
    const got = receive(server, buf);
    expect(got).toEqual({ bytes: 5, address: { address: clientPath, port: 0 } });
    expect(sendTo(server, Buffer.from('back'), got.address)).toBe(4);
    expect(receive(client, buf)).toEqual({ bytes: 4, address: { address: serverPath, port: 0 } });
    expect(buf.subarray(0, 4).toString()).toBe('back');
  });

  it("an unbound sender reads as '' and { path } works as a destination", () => {
    const serverPath = tmpPath('server');
    const server = track(bindUdp({ path: serverPath }));
    const client = track(udpSocket('unix'));
    expect(sendTo(client, Buffer.from('anon'), { path: serverPath })).toBe(4);
    expect(receive(server, Buffer.alloc(8)).address).toEqual({ address: '', port: 0 });
    expect(recvFrom(client, Buffer.alloc(8))).toBeNull();
  });

  it('sending to a path nobody bound is ENOENT (or ECONNREFUSED), syscall sendto', () => {
    const client = track(udpSocket('unix'));
    const err = thrown(() => sendTo(client, Buffer.from('x'), { path: tmpPath('nobody') }));
    expect(err.syscall).toBe('sendto');
    expect(['ENOENT', 'ECONNREFUSED']).toContain(err.code);
  });

  it('a path too long for sun_path is ENAMETOOLONG against bind and sendto', () => {
    const long = `/tmp/${'x'.repeat(200)}`;
    expectErrno(thrown(() => bindUdp({ path: long })), 'ENAMETOOLONG', 'bind');
    const fd = track(udpSocket('unix'));
    expectErrno(thrown(() => sendTo(fd, Buffer.from('x'), { path: long })), 'ENAMETOOLONG', 'sendto');
  });
});
