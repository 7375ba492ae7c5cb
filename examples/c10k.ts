/**
 * C10K: examples/echo-server.ts in a child process, and a load generator here that holds N
 * connections open at once, each sending M messages one after another (the next when the
 * echo of the last is back). It prints the connections held, messages/s, round-trip p50/p99
 * and the messages lost (sent and never echoed back intact: must be 0).
 *
 *   npx tsx examples/c10k.ts [--connections 10000] [--messages 10] [--size 64] [--timeout 60000]
 *
 * N is clamped to what RLIMIT_NOFILE allows (both processes raise their soft limit to the hard
 * one first), and to FD_SETSIZE with IOMUX_BACKEND=select; the output says so when that happens. Exits 1 if a connection failed or a
 * message was lost.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  close,
  connect,
  defaultBackend,
  DefaultSelector,
  EVENT_READ,
  EVENT_WRITE,
  FD_SETSIZE,
  getNofileLimit,
  read,
  setNofileLimit,
  socketError,
  write,
} from '../lib/index';

/** fds kept free for the runtime itself (stdio, epoll fd, libuv's own). */
const SPARE_FDS = 100;
/** Connects in flight at once: more would overflow the listen backlog and wait on SYN retries. */
const CONNECTS_IN_FLIGHT = 1000;

const { values: opts } = parseArgs({
  options: {
    connections: { type: 'string', default: '10000' },
    messages: { type: 'string', default: '10' },
    size: { type: 'string', default: '64' },
    timeout: { type: 'string', default: '60000' },
  },
});
const requested = Number(opts.connections);
const messages = Number(opts.messages);
const size = Math.max(8, Number(opts.size));
const timeoutMs = Number(opts.timeout);

function startServer(): Promise<{ child: ChildProcess; port: number }> {
  const script = path.join(__dirname, 'echo-server.ts');
  // process.execArgv carries tsx's loader flags, so the child runs TypeScript as this process does.
  const child = spawn(process.execPath, [...process.execArgv, script, '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on [^:]+:(\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.once('exit', (code) => reject(new Error(`echo server exited (${code}) before listening`)));
  });
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function run(port: number, n: number): boolean {
  const sel = new DefaultSelector<number>();
  const fds = new Int32Array(n).fill(-1);
  const seq = new Int32Array(n); // messages echoed back so far
  const got = new Int32Array(n); // bytes of the current echo received
  const sentAt = new Float64Array(n);
  const outbox = new Uint8Array(n * size);
  const inbox = new Uint8Array(n * size);
  const view = new DataView(outbox.buffer);
  const rtts = new Float64Array(n * messages);
  let rttCount = 0;
  let connected = 0;
  let failed = 0;
  let started = 0;
  let finished = 0;
  let sent = 0;
  let corrupt = 0;

  const fail = (i: number): void => {
    sel.unregister(fds[i]);
    close(fds[i]);
    fds[i] = -1;
    failed++;
  };
  const send = (i: number): void => {
    const at = i * size;
    outbox.fill((i + seq[i]) & 0xff, at, at + size);
    view.setUint32(at, i);
    view.setUint32(at + 4, seq[i]);
    got[i] = 0;
    sentAt[i] = performance.now();
    sent++;
    if (write(fds[i], outbox, at, size) !== size) corrupt++; // 64 bytes always fit a fresh socket buffer
  };
  const openMore = (): void => {
    while (started < n && started - connected - failed < CONNECTS_IN_FLIGHT) {
      const i = started++;
      try {
        fds[i] = connect({ host: '127.0.0.1', port });
        sel.register(fds[i], EVENT_WRITE, i);
      } catch (err) {
        console.error(`connection ${i}: ${(err as Error).message}`);
        if (fds[i] >= 0) close(fds[i]);
        fds[i] = -1;
        failed++;
      }
    }
  };

  const t0 = performance.now();
  openMore();
  let tMessages = 0;
  while (finished + failed < n && performance.now() - t0 < timeoutMs) {
    for (const [key, events] of sel.select(1000)) {
      const i = key.data;
      if (events & EVENT_WRITE) {
        if (socketError(key.fd) !== null) {
          fail(i);
          continue;
        }
        connected++;
        sel.modify(key.fd, EVENT_READ, i);
        if (connected + failed === n) tMessages = performance.now();
        continue;
      }
      const r = read(key.fd, inbox, i * size + got[i], size - got[i]);
      if (r === null) continue;
      if (r === 0) {
        fail(i);
        continue;
      }
      got[i] += r;
      if (got[i] < size) continue;
      const at = i * size;
      for (let b = 0; b < size; b++) if (inbox[at + b] !== outbox[at + b]) { corrupt++; break; }
      rtts[rttCount++] = performance.now() - sentAt[i];
      if (++seq[i] < messages) send(i);
      else finished++;
    }
    openMore();
    // Messages start once every connection is up, so that all of them are held at once.
    if (tMessages > 0 && sent === 0) for (let i = 0; i < n; i++) if (fds[i] >= 0) send(i);
  }
  const elapsed = (performance.now() - tMessages) / 1000;
  const sorted = rtts.slice(0, rttCount).sort();
  const lost = sent - rttCount + corrupt;
  console.log(`connections: ${connected} held at once of ${n} (${failed} failed, ${sel.backend})`);
  console.log(`messages: ${rttCount} echoed in ${elapsed.toFixed(2)} s = ${Math.round(rttCount / elapsed)} messages/s`);
  console.log(`round trip: p50 ${percentile(sorted, 50).toFixed(3)} ms, p99 ${percentile(sorted, 99).toFixed(3)} ms`);
  console.log(`lost messages: ${lost}`);
  for (const fd of fds) if (fd >= 0) close(fd);
  sel.close();
  return failed === 0 && lost === 0 && rttCount === n * messages;
}

async function main(): Promise<number> {
  const { soft, hard } = getNofileLimit();
  if (soft < hard) setNofileLimit(hard);
  const limit = Number.isFinite(hard) ? hard : 1 << 20;
  let n = Math.min(requested, limit - SPARE_FDS);
  if (n < requested) {
    console.log(`connections clamped to ${n} by RLIMIT_NOFILE (hard limit ${hard}, ${SPARE_FDS} fds kept spare)`);
  }
  if (defaultBackend() === 'select' && n > FD_SETSIZE - SPARE_FDS) {
    // SelectSelector refuses fds >= FD_SETSIZE (ERR_FD_SETSIZE), in this process and the server.
    n = FD_SETSIZE - SPARE_FDS;
    console.log(`connections clamped to ${n} by FD_SETSIZE (${FD_SETSIZE}): the select backend cannot watch more`);
  }
  const { child, port } = await startServer();
  try {
    return run(port, n) ? 0 : 1;
  } finally {
    child.kill();
  }
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
