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
} from 'iomux';

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

/** The client side: n connections, each with one message in flight at a time. */
class LoadGenerator {
  readonly sel = new DefaultSelector<number>();
  readonly fds: Int32Array;
  readonly seq: Int32Array; // messages echoed back so far, per connection
  readonly got: Int32Array; // bytes of the current echo received, per connection
  readonly sentAt: Float64Array;
  readonly outbox: Uint8Array;
  readonly inbox: Uint8Array;
  readonly view: DataView;
  readonly rtts: Float64Array;
  rttCount = 0;
  connected = 0;
  failed = 0;
  started = 0;
  finished = 0;
  sent = 0;
  corrupt = 0;
  /** When the last connection came up and the messages started (0 before). */
  tMessages = 0;

  constructor(
    readonly port: number,
    readonly n: number,
  ) {
    this.fds = new Int32Array(n).fill(-1);
    this.seq = new Int32Array(n);
    this.got = new Int32Array(n);
    this.sentAt = new Float64Array(n);
    this.outbox = new Uint8Array(n * size);
    this.inbox = new Uint8Array(n * size);
    this.view = new DataView(this.outbox.buffer);
    this.rtts = new Float64Array(n * messages);
  }

  /** Starts connects until CONNECTS_IN_FLIGHT are pending. */
  openMore(): void {
    while (this.started < this.n && this.started - this.connected - this.failed < CONNECTS_IN_FLIGHT) {
      const i = this.started++;
      try {
        this.fds[i] = connect({ host: '127.0.0.1', port: this.port });
        this.sel.register(this.fds[i], EVENT_WRITE, i);
      } catch (err) {
        console.error(`connection ${i}: ${(err as Error).message}`);
        if (this.fds[i] >= 0) close(this.fds[i]);
        this.fds[i] = -1;
        this.failed++;
      }
    }
  }

  fail(i: number): void {
    this.sel.unregister(this.fds[i]);
    close(this.fds[i]);
    this.fds[i] = -1;
    this.failed++;
  }

  send(i: number): void {
    const at = i * size;
    this.outbox.fill((i + this.seq[i]) & 0xff, at, at + size);
    this.view.setUint32(at, i);
    this.view.setUint32(at + 4, this.seq[i]);
    this.got[i] = 0;
    this.sentAt[i] = performance.now();
    this.sent++;
    // A message this small always fits the socket buffer: the previous one was echoed back.
    if (write(this.fds[i], this.outbox, at, size) !== size) this.corrupt++;
  }

  /** The non-blocking connect of connection i is done. */
  onConnected(i: number): void {
    if (socketError(this.fds[i]) !== null) {
      this.fail(i);
      return;
    }
    this.connected++;
    this.sel.modify(this.fds[i], EVENT_READ, i);
    if (this.connected + this.failed === this.n) this.tMessages = performance.now();
  }

  /** Part of an echo arrived; when it is whole, check it and send the next message. */
  onReadable(i: number): void {
    const r = read(this.fds[i], this.inbox, i * size + this.got[i], size - this.got[i]);
    if (r === null) return;
    if (r === 0) {
      this.fail(i);
      return;
    }
    this.got[i] += r;
    if (this.got[i] < size) return;
    const at = i * size;
    for (let b = 0; b < size; b++) {
      if (this.inbox[at + b] !== this.outbox[at + b]) {
        this.corrupt++;
        break;
      }
    }
    this.rtts[this.rttCount++] = performance.now() - this.sentAt[i];
    if (++this.seq[i] < messages) this.send(i);
    else this.finished++;
  }

  /** Connects everything, then exchanges the messages, until done or timeoutMs. */
  run(): void {
    const t0 = performance.now();
    this.openMore();
    while (this.finished + this.failed < this.n && performance.now() - t0 < timeoutMs) {
      for (const [key, events] of this.sel.select(1000)) {
        if (events & EVENT_WRITE) this.onConnected(key.data);
        else this.onReadable(key.data);
      }
      this.openMore();
      // Messages start once every connection is up, so that all of them are held at once.
      if (this.tMessages > 0 && this.sent === 0) for (let i = 0; i < this.n; i++) if (this.fds[i] >= 0) this.send(i);
    }
  }

  /** Prints the figures and releases everything; returns whether nothing failed or was lost. */
  report(): boolean {
    const elapsed = (performance.now() - this.tMessages) / 1000;
    const sorted = this.rtts.slice(0, this.rttCount).sort();
    const lost = this.sent - this.rttCount + this.corrupt;
    const rate = Math.round(this.rttCount / elapsed);
    console.log(`connections: ${this.connected} held at once of ${this.n} (${this.failed} failed, ${this.sel.backend})`);
    console.log(`messages: ${this.rttCount} echoed in ${elapsed.toFixed(2)} s = ${rate} messages/s`);
    console.log(`round trip: p50 ${percentile(sorted, 50).toFixed(3)} ms, p99 ${percentile(sorted, 99).toFixed(3)} ms`);
    console.log(`lost messages: ${lost}`);
    for (const fd of this.fds) if (fd >= 0) close(fd);
    this.sel.close();
    return this.failed === 0 && lost === 0 && this.rttCount === this.n * messages;
  }
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
    const generator = new LoadGenerator(port, n);
    generator.run();
    return generator.report() ? 0 : 1;
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
