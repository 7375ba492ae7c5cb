/**
 * The echo scenario's Node servers, one per process: `selector` (iomux DefaultSelector in a
 * synchronous loop: the whole process is the server), `async` (the same loop on selectAsync(),
 * so Node's event loop keeps running), `io_uring` (the synchronous loop on IoUringSelector),
 * and `net` (Node's own net module). Each listens on
 * 127.0.0.1 (kernel-chosen port), prints "port N", and echoes every byte back until killed.
 */
import net from 'node:net';
import { EVENT_READ } from '../../lib/constants';
import { close, read, write } from '../../lib/fd';
import type { BaseSelector } from '../../lib/selectors/base';
import { createSelector, DefaultSelector } from '../../lib/selectors/default';
import { accept, listen, localAddress } from '../../lib/socket';

const buf = new Uint8Array(65536);

/** Writes all of buf[0, len); a full socket (rare: one message in flight) is retried. */
function writeAll(fd: number, len: number): void {
  for (let off = 0; off < len; ) {
    const w = write(fd, buf, off, len - off);
    if (w !== null) off += w;
  }
}

/** Handles one ready fd of the iomux servers: accept on the listener, echo on a connection. */
function onReady(sel: BaseSelector, lfd: number, fd: number): void {
  if (fd === lfd) {
    for (let conn = accept(lfd); conn; conn = accept(lfd)) sel.register(conn.fd, EVENT_READ);
    return;
  }
  let n: number | null;
  try {
    n = read(fd, buf);
  } catch {
    n = 0; // ECONNRESET: the client is gone
  }
  if (n === null) return;
  if (n > 0) {
    writeAll(fd, n);
    return;
  }
  sel.unregister(fd);
  close(fd);
}

function iomuxServer(mode: 'selector' | 'async' | 'io_uring'): void {
  const lfd = listen({ host: '127.0.0.1', port: 0 }, 4096);
  const sel = mode === 'io_uring' ? createSelector('io_uring') : new DefaultSelector();
  sel.register(lfd, EVENT_READ);
  process.stdout.write(`port ${localAddress(lfd).port}\n`);
  if (mode !== 'async') {
    for (;;) for (const [key] of sel.select()) onReady(sel, lfd, key.fd);
  }
  void (async () => {
    for (;;) for (const [key] of await sel.selectAsync()) onReady(sel, lfd, key.fd);
  })();
}

function netServer(): void {
  const server = net.createServer((sock) => {
    sock.on('data', (d) => sock.write(d));
    sock.on('error', () => sock.destroy());
  });
  server.listen(0, '127.0.0.1', 4096, () => {
    process.stdout.write(`port ${(server.address() as net.AddressInfo).port}\n`);
  });
}

const mode = process.argv[2];
if (mode === 'selector' || mode === 'async' || mode === 'io_uring') iomuxServer(mode);
else if (mode === 'net') netServer();
else {
  process.stderr.write('usage: server-node selector|async|io_uring|net\n');
  process.exitCode = 64;
}
