/**
 * Concurrent HTTP/1.1 GETs on one thread with a selector: every connect is non-blocking; a
 * socket first waits for EVENT_WRITE (connected), sends its request, then waits for EVENT_READ
 * until the server closes. What to do next is the callback kept in key.data.
 *
 *   npx tsx examples/fetcher.ts http://127.0.0.1:8080/a http://example.com/ ...
 *
 * Prints one line per URL ("200 1234 bytes http://...") and a summary; exits 1 if any failed.
 * Names are resolved with dns.lookup before the loop starts (a selector loop must not block
 * on a resolver). Plain http only.
 */
import { lookup } from 'node:dns/promises';
import {
  close,
  connect,
  DefaultSelector,
  EVENT_READ,
  EVENT_WRITE,
  read,
  socketError,
  write,
  type SelectorKey,
} from 'iomux';

type Callback = (key: SelectorKey<Callback>) => void;

interface Fetch {
  url: URL;
  address: string;
  port: number;
  chunks: Uint8Array[];
  received: number;
  result?: string;
  ok: boolean;
}

const buf = new Uint8Array(64 * 1024);
const sel = new DefaultSelector<Callback>();
/** fd -> its fetch, for the ones still in progress. */
const active = new Map<number, Fetch>();

function finish(fd: number, f: Fetch, ok: boolean, result: string): void {
  sel.unregister(fd);
  close(fd);
  active.delete(fd);
  f.ok = ok;
  f.result = result;
  console.log(`${result} ${f.url.href}`);
}

/** Reads the response until EOF (we asked for Connection: close), then parses its head. */
function onReadable(f: Fetch): Callback {
  return (key) => {
    let n: number | null;
    try {
      n = read(key.fd, buf);
    } catch (err) {
      finish(key.fd, f, false, `ERR ${(err as NodeJS.ErrnoException).code}`);
      return;
    }
    if (n === null) return;
    if (n > 0) {
      f.chunks.push(buf.slice(0, n));
      f.received += n;
      return;
    }
    const text = Buffer.concat(f.chunks).toString('latin1');
    const head = text.indexOf('\r\n\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(text);
    if (status === null || head < 0) {
      finish(key.fd, f, false, 'ERR bad-response');
      return;
    }
    const bodyBytes = f.received - (head + 4);
    finish(key.fd, f, status[1].startsWith('2'), `${status[1]} ${bodyBytes} bytes`);
  };
}

/** Called when the non-blocking connect is done: check SO_ERROR, send the request. */
function onConnected(f: Fetch): Callback {
  return (key) => {
    const error = socketError(key.fd);
    if (error !== null) {
      finish(key.fd, f, false, `ERR ${error}`);
      return;
    }
    const host = f.url.port ? `${f.url.hostname}:${f.url.port}` : f.url.hostname;
    const request = `GET ${f.url.pathname}${f.url.search} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
    // A request this small fits an empty socket buffer; a partial write would need EVENT_WRITE again.
    const n = write(key.fd, Buffer.from(request, 'latin1'));
    if (n !== request.length) {
      finish(key.fd, f, false, 'ERR short-write');
      return;
    }
    sel.modify(key.fd, EVENT_READ, onReadable(f));
  };
}

async function resolve(href: string): Promise<Fetch> {
  const url = new URL(href);
  if (url.protocol !== 'http:') throw new Error(`${href}: only http:// URLs are fetched`);
  const { address } = await lookup(url.hostname.replace(/^\[|\]$/g, ''));
  return { url, address, port: Number(url.port || 80), chunks: [], received: 0, ok: false };
}

async function main(): Promise<number> {
  const urls = process.argv.slice(2);
  if (urls.length === 0) {
    console.error('usage: npx tsx examples/fetcher.ts URL...');
    return 2;
  }
  const fetches = await Promise.all(urls.map(resolve));
  const start = performance.now();
  for (const f of fetches) {
    try {
      const fd = connect({ host: f.address, port: f.port });
      sel.register(fd, EVENT_WRITE, onConnected(f));
      active.set(fd, f);
    } catch (err) {
      f.result = `ERR ${(err as NodeJS.ErrnoException).code}`;
      console.log(`${f.result} ${f.url.href}`);
    }
  }
  while (active.size > 0) {
    const ready = sel.select(30_000);
    for (const [key] of ready) key.data(key);
    if (ready.length === 0) for (const [fd, f] of active) finish(fd, f, false, 'ERR timeout');
  }
  sel.close();
  const good = fetches.filter((f) => f.ok).length;
  console.log(`fetched ${good}/${fetches.length} in ${(performance.now() - start).toFixed(1)} ms (${sel.backend})`);
  return good === fetches.length ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);
