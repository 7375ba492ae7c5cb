/**
 * One process, two servers: HTTP from node:http, and a raw-socket echo server on iomux's
 * selector, awaited with `events()` (selectAsync() in a loop) so that neither blocks the other.
 * GET /stats answers with the echo server's counters and the selector's wait statistics.
 *
 *   npx tsx examples/http-and-raw.ts [httpPort] [rawPort]
 *   # prints "http on 127.0.0.1:<port>" and "raw on 127.0.0.1:<port>"; SIGINT/SIGTERM stop both
 *
 * IOMUX_BACKEND=poll|select|epoll picks the selector.
 */
import http from 'node:http';
import { close, DefaultSelector, EVENT_READ, EVENT_WRITE, listen, localAddress, read, SpareFd, write } from 'iomux';

const httpPort = Number(process.argv[2] ?? 0);
const rawPort = Number(process.argv[3] ?? 0);

const sel = new DefaultSelector<'server' | 'client'>();
const server = listen({ host: '127.0.0.1', port: rawPort });
sel.register(server, EVENT_READ, 'server');
// One fd kept in reserve: out of fds, spare.accept() closes waiting connections instead of
// leaving them queued (the listener would stay readable and the loop spin).
const spare = new SpareFd();
/** Bytes a client sent that the kernel could not take back yet. */
const unsent = new Map<number, Uint8Array>();
const counts = { accepted: 0, echoedBytes: 0, open: 0 };
const buf = new Uint8Array(64 * 1024);

function drop(fd: number): void {
  sel.unregister(fd);
  close(fd);
  unsent.delete(fd);
  counts.open--;
}

/** Writes what it can; what is left waits for EVENT_WRITE (and reading pauses meanwhile). */
function send(fd: number, data: Uint8Array): void {
  const n = write(fd, data) ?? 0;
  counts.echoedBytes += n;
  if (n === data.length) {
    unsent.delete(fd);
    sel.modify(fd, EVENT_READ, 'client');
  } else {
    unsent.set(fd, data.slice(n));
    sel.modify(fd, EVENT_WRITE, 'client');
  }
}

function onClient(fd: number, events: number): void {
  const rest = unsent.get(fd);
  if (events & EVENT_WRITE && rest !== undefined) return send(fd, rest);
  const n = read(fd, buf);
  if (n === 0) return drop(fd);
  if (n !== null) send(fd, buf.subarray(0, n));
}

async function serveRaw(signal: AbortSignal): Promise<void> {
  try {
    for await (const [key, events] of sel.events({ signal })) {
      if (key.data === 'server') {
        for (let c = spare.accept(server); c !== null; c = spare.accept(server)) {
          sel.register(c.fd, EVENT_READ, 'client');
          counts.accepted++;
          counts.open++;
        }
      } else {
        onClient(key.fd, events);
      }
    }
  } catch (err) {
    if ((err as { name?: unknown }).name !== 'AbortError') throw err;
  } finally {
    for (const fd of sel.getMap().keys()) if (fd !== server) close(fd);
    sel.close();
    close(server);
    spare.close();
  }
}

const web = http.createServer((req, res) => {
  if (req.url === '/stats') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ backend: sel.backend, ...counts, dropped: spare.dropped, waits: sel.stats() }));
  } else {
    res.statusCode = 404;
    res.end('try /stats\n');
  }
});

const ac = new AbortController();
const raw = serveRaw(ac.signal);
web.listen(httpPort, '127.0.0.1', () => {
  const address = web.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  console.log(`http on 127.0.0.1:${address.port}`);
  console.log(`raw on 127.0.0.1:${localAddress(server).port} with ${sel.backend}`);
});

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    ac.abort();
    web.close();
    web.closeAllConnections();
    void raw.then(() => console.log('bye'));
  });
}
