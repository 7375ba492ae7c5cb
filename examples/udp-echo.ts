/**
 * A UDP echo server on a selector: every datagram goes back to its sender. Replies that the
 * kernel cannot take at once (a full send buffer) wait for EVENT_WRITE, up to a bounded queue;
 * beyond it they are dropped, as UDP allows.
 *
 *   npx tsx examples/udp-echo.ts [port] [host]     # prints "listening on udp 127.0.0.1:<port>"
 *   npx tsx examples/udp-echo.ts --path /tmp/echo.sock   # a Unix datagram socket
 *
 * Runs until killed. IOMUX_BACKEND=poll|select|epoll picks the selector.
 */
import fs from 'node:fs';
import { bindUdp, DefaultSelector, EVENT_READ, EVENT_WRITE, localAddress, recvFrom, sendTo, type LocalAddress } from 'iomux';

const MAX_QUEUED = 1024;

const args = process.argv.slice(2);
const unixPath = args[0] === '--path' ? args[1] : undefined;
const fd = unixPath !== undefined ? bindUdp({ path: unixPath }) : bindUdp({ host: args[1] ?? '127.0.0.1', port: Number(args[0] ?? 0) });
if (unixPath !== undefined) process.on('exit', () => fs.rmSync(unixPath, { force: true }));
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(0));

const sel = new DefaultSelector();
const buf = new Uint8Array(65536);
/** Replies waiting for room in the send buffer, oldest first. */
const queue: Array<{ data: Uint8Array; to: LocalAddress }> = [];
let dropped = 0;

/** Sends queued replies until the kernel says EAGAIN; returns true when the queue is empty. */
function flush(): boolean {
  while (queue.length > 0) {
    const { data, to } = queue[0];
    try {
      if (sendTo(fd, data, to) === null) return false;
    } catch (err) {
      console.error(`sendto: ${(err as Error).message}`); // e.g. ECONNREFUSED from a Unix peer that left
    }
    queue.shift();
  }
  return true;
}

function onReadable(): void {
  for (;;) {
    const got = recvFrom(fd, buf);
    if (got === null) return;
    if (got.address.address === '') continue; // an unbound Unix sender: nowhere to reply
    if (queue.length === 0 && sendTo(fd, buf, got.address, 0, got.bytes) !== null) continue;
    if (queue.length >= MAX_QUEUED) {
      dropped++;
      continue;
    }
    queue.push({ data: buf.slice(0, got.bytes), to: got.address });
    sel.modify(fd, EVENT_READ | EVENT_WRITE);
  }
}

sel.register(fd, EVENT_READ);
const where = localAddress(fd);
console.log(`listening on udp ${unixPath ?? `${where.address}:${where.port}`} (${sel.backend})`);

for (;;) {
  for (const [, events] of sel.select()) {
    if (events & EVENT_WRITE && flush()) sel.modify(fd, EVENT_READ);
    if (events & EVENT_READ) onReadable();
  }
  if (dropped > 0) {
    console.error(`dropped ${dropped} replies (send buffer full)`);
    dropped = 0;
  }
}
