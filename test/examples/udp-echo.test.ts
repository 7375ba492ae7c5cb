/** examples/udp-echo.ts: datagrams come back to their sender, over UDP and a Unix datagram socket. */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { constants } from '../../lib/constants';
import { localAddress } from '../../lib/socket';
import { bindUdp, recvFrom, sendTo, udpSocket } from '../../lib/udp';
import { track } from '../helpers/fds';
import { waitReady } from '../helpers/sockets';
import { startExample, waitForLine } from './run';

let server: ChildProcess | undefined;
afterEach(() => {
  server?.kill();
  server = undefined;
});

/** Sends n datagrams of varied sizes from fd to `to` and checks that each comes back intact. */
function roundTrips(fd: number, to: { address: string; port: number }, n: number): void {
  const buf = Buffer.alloc(65536);
  for (let i = 0; i < n; i++) {
    const msg = Buffer.alloc(1 + ((i * 997) % 4000), i & 0xff);
    msg.write(`#${i}#`);
    expect(sendTo(fd, msg, to)).toBe(msg.length);
    waitReady(fd, constants.POLLIN);
    const got = recvFrom(fd, buf);
    expect(got!.bytes).toBe(msg.length);
    expect(buf.subarray(0, got!.bytes).equals(msg)).toBe(true);
    expect(got!.address).toEqual(to);
  }
}

describe('udp-echo example', () => {
  it('echoes datagrams over UDP on 127.0.0.1, to several clients', async () => {
    server = startExample('udp-echo', ['0']);
    const m = await waitForLine(server, /listening on udp 127\.0\.0\.1:(\d+)/);
    const to = { address: '127.0.0.1', port: Number(m[1]) };
    for (let c = 0; c < 3; c++) roundTrips(track(udpSocket('ipv4')), to, 50);
    // A burst with no waiting in between: every datagram still comes back (loopback does not drop).
    const fd = track(udpSocket('ipv4'));
    for (let i = 0; i < 100; i++) sendTo(fd, Buffer.from(`burst ${i}`), to);
    const seen = new Set<string>();
    const buf = Buffer.alloc(64);
    while (seen.size < 100) {
      waitReady(fd, constants.POLLIN);
      for (let got = recvFrom(fd, buf); got !== null; got = recvFrom(fd, buf)) seen.add(buf.toString('utf8', 0, got.bytes));
    }
    expect(seen.has('burst 0') && seen.has('burst 99')).toBe(true);
  });

  it('echoes over a Unix datagram socket to a bound client', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-udp-echo-'));
    try {
      const serverPath = path.join(dir, 'server');
      server = startExample('udp-echo', ['--path', serverPath]);
      await waitForLine(server, /listening on udp (\S+)/);
      const client = track(bindUdp({ path: path.join(dir, 'client') }));
      expect(localAddress(client).address).toBe(path.join(dir, 'client'));
      roundTrips(client, { address: serverPath, port: 0 }, 30);
    } finally {
      server?.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
