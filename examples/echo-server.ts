/**
 * The course's select loop as an echo server, on raw fds with no `net` module: accept, read,
 * echo back, drop the client at EOF. Writes that the kernel cannot take at once wait for
 * EVENT_WRITE, so a slow reader never loses data.
 *
 *   npx tsx examples/echo-server.ts [port]      # prints "listening on 127.0.0.1:<port>"
 *
 * Runs until killed. IOMUX_BACKEND=poll|select|epoll picks the selector.
 */
import {
  close,
  DefaultSelector,
  EVENT_READ,
  EVENT_WRITE,
  getNofileLimit,
  listen,
  localAddress,
  read,
  setNofileLimit,
  SpareFd,
  write,
  type SelectorKey,
} from 'iomux';

/** Each key's data: what to do when its fd is ready. */
type Handler = (key: SelectorKey<Handler>, events: number) => void;

/** Bytes read from a client and not yet written back. */
const pending = new Map<number, Uint8Array>();
const buf = new Uint8Array(64 * 1024);

// Serve as many clients as the hard limit allows (the c10k example counts on it).
const { soft, hard } = getNofileLimit();
if (soft < hard) setNofileLimit(hard);

const port = Number(process.argv[2] ?? 0);
const server = listen({ host: '127.0.0.1', port }, 4096);
const sel = new DefaultSelector<Handler>();
// One fd kept in reserve: out of fds, accept() would leave connections queued and the loop spin.
const spare = new SpareFd();

function drop(fd: number): void {
  sel.unregister(fd);
  pending.delete(fd);
  close(fd);
}

/** Writes what is pending; returns false when the client was dropped. */
function flush(fd: number): boolean {
  let data = pending.get(fd);
  while (data !== undefined && data.length > 0) {
    let n: number | null;
    try {
      n = write(fd, data);
    } catch {
      drop(fd); // EPIPE / ECONNRESET: the client went away
      return false;
    }
    if (n === null) break; // the socket buffer is full: wait for EVENT_WRITE
    data = data.subarray(n);
  }
  if (data === undefined || data.length === 0) {
    pending.delete(fd);
    sel.modify(fd, EVENT_READ, onClient);
  } else {
    pending.set(fd, data);
    sel.modify(fd, EVENT_WRITE, onClient);
  }
  return true;
}

const onClient: Handler = (key, events) => {
  if (events & EVENT_WRITE) {
    flush(key.fd);
    return;
  }
  let n: number | null;
  try {
    n = read(key.fd, buf);
  } catch {
    n = 0; // ECONNRESET reads as an end
  }
  if (n === null) return; // spurious wake-up
  if (n === 0) {
    drop(key.fd);
    return;
  }
  pending.set(key.fd, buf.slice(0, n));
  flush(key.fd);
};

const onAccept: Handler = () => {
  for (;;) {
    const dropped = spare.dropped;
    let conn;
    try {
      conn = spare.accept(server);
    } catch (err) {
      console.error(`accept: ${(err as Error).message}`);
      return;
    }
    if (conn === null) {
      // Out of fds (EMFILE): the waiting connections were accepted and closed at once.
      if (spare.dropped > dropped) console.error(`accept: out of fds, closed ${spare.dropped - dropped} connection(s)`);
      return; // no more connections waiting
    }
    try {
      sel.register(conn.fd, EVENT_READ, onClient);
    } catch (err) {
      // The select backend refuses fds >= FD_SETSIZE (ERR_FD_SETSIZE): turn the client away.
      console.error(`register: ${(err as Error).message}`);
      close(conn.fd);
    }
  }
};

sel.register(server, EVENT_READ, onAccept);
console.log(`listening on 127.0.0.1:${localAddress(server).port} (${sel.backend})`);

for (;;) {
  for (const [key, events] of sel.select()) key.data(key, events);
}
