/**
 * An echo server on every core: N worker_threads, each with its own event loop on raw fds.
 *
 *   npx tsx examples/multicore-echo.ts [--workers N] [--mode reuseport|exclusive] [--port P] [--host H]
 *
 * --workers defaults to os.availableParallelism(). Prints "listening on <host>:<port> (...)".
 * On SIGTERM or SIGINT every worker stops and the process prints one line per worker,
 * "worker <i>: accepted <connections> echoed <bytes>", then exits 0.
 *
 * Modes (Linux):
 * - reuseport (default): each worker opens its own SO_REUSEPORT listener on the same port and
 *   runs a DefaultSelector; the kernel hashes each new connection onto one listener. No shared
 *   state and no thundering herd, but a busy worker keeps getting its share of new connections.
 * - exclusive: one listener, opened here and shared by fd; each worker registers it in its own
 *   raw Epoll with EPOLLEXCLUSIVE, so a new connection wakes one waiting worker (not all):
 *   an idle worker takes it, and a busy one is passed over. Fits uneven connections, and hosts
 *   that must hand one listening fd around (systemd socket activation, a privileged parent).
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import {
  accept,
  close,
  constants,
  DefaultSelector,
  Epoll,
  EVENT_READ,
  EVENT_WRITE,
  getNofileLimit,
  listen,
  localAddress,
  pipe,
  read,
  setNofileLimit,
  write,
} from 'iomux';

type Mode = 'reuseport' | 'exclusive';
interface Job {
  index: number;
  mode: Mode;
  host: string;
  port: number;
  /** exclusive mode: the shared listener's fd (fds belong to the process, not the thread). */
  listenFd: number;
  /** The read end of a pipe; a byte on it tells the worker to stop. */
  stopFd: number;
}
interface Report {
  index: number;
  port: number;
  accepted: number;
  bytes: number;
}

/**
 * One worker's connections: read, write back, and when the kernel takes only part of a write,
 * hold the rest and ask for writability. `want(fd, write)` switches a client between waiting
 * to read and waiting to write, whatever the event loop.
 */
class Echo {
  accepted = 0;
  bytes = 0;
  readonly #pending = new Map<number, Uint8Array>();
  readonly #buf = new Uint8Array(64 * 1024);
  constructor(
    readonly want: (fd: number, write: boolean) => void,
    readonly forget: (fd: number) => void,
  ) {}

  /** Takes up to `most` pending connections; returns their fds (to register). */
  acceptSome(listenFd: number, most: number): number[] {
    const fds: number[] = [];
    while (fds.length < most) {
      let conn;
      try {
        conn = accept(listenFd);
      } catch (err) {
        console.error(`accept: ${(err as Error).message}`); // EMFILE: serve who we have
        return fds;
      }
      if (conn === null) return fds; // none left, or another worker took it
      this.accepted++;
      fds.push(conn.fd);
    }
    return fds;
  }

  /** A client is ready: it waits either to be read or, while a reply is pending, to be written. */
  onReady(fd: number): void {
    const pending = this.#pending.get(fd);
    if (pending !== undefined) return this.#flush(fd, pending);
    let n: number | null;
    try {
      n = read(fd, this.#buf);
    } catch {
      n = 0; // ECONNRESET reads as an end
    }
    if (n === null) return;
    if (n === 0) return this.#drop(fd);
    this.bytes += n;
    this.#flush(fd, this.#buf.subarray(0, n), true);
  }

  #flush(fd: number, data: Uint8Array, fresh = false): void {
    while (data.length > 0) {
      let n: number | null;
      try {
        n = write(fd, data);
      } catch {
        return this.#drop(fd); // EPIPE / ECONNRESET
      }
      if (n === null) break;
      data = data.subarray(n);
    }
    if (data.length === 0) {
      if (!fresh) {
        this.#pending.delete(fd);
        this.want(fd, false);
      }
      return;
    }
    this.#pending.set(fd, fresh ? data.slice() : data); // the read buffer is reused: copy
    if (fresh) this.want(fd, true);
  }

  #drop(fd: number): void {
    this.#pending.delete(fd);
    this.forget(fd);
    close(fd);
  }
}

/** reuseport: an own listener and a DefaultSelector. Returns when stopFd turns readable. */
function runReusePort(job: Job, report: (port: number, echo: Echo) => void): void {
  const lfd = listen({ host: job.host, port: job.port }, { reusePort: true, backlog: 4096 });
  const sel = new DefaultSelector<'listen' | 'stop' | 'client'>();
  const echo = new Echo(
    (fd, w) => sel.modify(fd, w ? EVENT_WRITE : EVENT_READ, 'client'),
    (fd) => sel.unregister(fd),
  );
  sel.register(lfd, EVENT_READ, 'listen');
  sel.register(job.stopFd, EVENT_READ, 'stop');
  report(localAddress(lfd).port, echo);
  for (;;) {
    for (const [key] of sel.select()) {
      if (key.data === 'client') echo.onReady(key.fd);
      else if (key.data === 'listen') for (const fd of echo.acceptSome(lfd, Infinity)) sel.register(fd, EVENT_READ, 'client');
      else return stop([...sel.getMap().values()].filter((k) => k.data === 'client').map((k) => k.fd), [lfd], () => sel.close());
    }
  }
}

/** exclusive: the shared listener in this worker's own raw Epoll with EPOLLEXCLUSIVE. */
function runExclusive(job: Job, report: (port: number, echo: Echo) => void): void {
  const { EPOLLIN, EPOLLOUT, EPOLLEXCLUSIVE } = constants;
  const ep = new Epoll();
  const clients = new Set<number>();
  const echo = new Echo(
    (fd, w) => ep.modify(fd, w ? EPOLLOUT : EPOLLIN),
    (fd) => {
      ep.unregister(fd);
      clients.delete(fd);
    },
  );
  ep.register(job.listenFd, EPOLLIN | EPOLLEXCLUSIVE);
  ep.register(job.stopFd, EPOLLIN);
  report(job.port, echo);
  for (;;) {
    for (const [fd] of ep.poll(null)) {
      if (fd === job.listenFd) {
        // One connection per wake-up (nginx's multi_accept off): connections that arrive
        // meanwhile wake another worker instead of queueing behind this one.
        const taken = echo.acceptSome(fd, 1);
        for (const c of taken) {
          ep.register(c, EPOLLIN);
          clients.add(c);
        }
        // Linux wakes the first idle waiter in the listener's wait queue, in registration
        // order, so at light load the first worker would take nearly every connection.
        // Registering again moves this worker to the back of the queue: idle workers take
        // turns (two epoll_ctl calls per connection, none per message).
        if (taken.length > 0) {
          ep.unregister(fd);
          ep.register(fd, EPOLLIN | EPOLLEXCLUSIVE);
        }
      } else if (fd === job.stopFd) {
        return stop(clients, [], () => ep.close());
      } else {
        echo.onReady(fd);
      }
    }
  }
}

/** Closes a worker's own fds (clients, its listener) and its event loop; the stop pipe and a
 * shared listener belong to the main thread. */
function stop(clients: Iterable<number>, own: number[], closeLoop: () => void): void {
  const fds = [...clients, ...own];
  closeLoop();
  for (const fd of fds) close(fd);
}

function workerMain(job: Job): void {
  let echo: Echo | undefined;
  let port = job.port;
  const report = (p: number, e: Echo): void => {
    port = p;
    echo = e;
    parentPort!.postMessage({ ready: p });
  };
  if (job.mode === 'exclusive') runExclusive(job, report);
  else runReusePort(job, report);
  const final: Report = { index: job.index, port, accepted: echo!.accepted, bytes: echo!.bytes };
  parentPort!.postMessage({ final });
}

/** This file in a worker thread; run from source (tsx), the worker loads tsx's CommonJS hook first. */
function startWorker(job: Job): Worker {
  if (!__filename.endsWith('.ts')) return new Worker(__filename, { workerData: job });
  const boot = `require('tsx/cjs'); require(${JSON.stringify(__filename)});`;
  return new Worker(boot, { eval: true, workerData: job });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      workers: { type: 'string', default: String(os.availableParallelism()) },
      mode: { type: 'string', default: 'reuseport' },
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
    },
  });
  const n = Number(values.workers);
  const mode = values.mode as Mode;
  if (!Number.isInteger(n) || n < 1) throw new Error(`--workers must be a positive integer, not ${values.workers}`);
  if (mode !== 'reuseport' && mode !== 'exclusive') throw new Error(`--mode must be reuseport or exclusive, not ${mode}`);
  if (mode === 'exclusive' && constants.EPOLLEXCLUSIVE === undefined) throw new Error('--mode exclusive needs Linux epoll');
  const { soft, hard } = getNofileLimit();
  if (soft < hard) setNofileLimit(hard);

  let port = Number(values.port);
  const shared = mode === 'exclusive' ? listen({ host: values.host, port }, 4096) : -1;
  if (shared !== -1) port = localAddress(shared).port;
  const workers: Array<{ worker: Worker; stop: [number, number]; final: Promise<Report> }> = [];
  for (let index = 0; index < n; index++) {
    const stopPipe = pipe({ nonblocking: true });
    const job: Job = { index, mode, host: values.host, port, listenFd: shared, stopFd: stopPipe[0] };
    const worker = startWorker(job);
    let ready!: (p: number) => void;
    const started = new Promise<number>((resolve) => (ready = resolve));
    const final = new Promise<Report>((resolve, reject) => {
      worker.on('message', (m: { ready?: number; final?: Report }) => (m.final ? resolve(m.final) : ready(m.ready!)));
      worker.on('error', reject);
    });
    // Port 0 with reuseport: the first worker's listener picks the port, the others join it.
    port = await started;
    workers.push({ worker, stop: stopPipe, final });
  }
  console.log(`listening on ${values.host}:${port} (${n} workers, ${mode})`);

  let stopping = false;
  const shutdown = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    for (const w of workers) write(w.stop[1], Uint8Array.of(1));
    const reports = await Promise.all(workers.map((w) => w.final));
    for (const r of reports) console.log(`worker ${r.index}: accepted ${r.accepted} echoed ${r.bytes}`);
    for (const w of workers) w.stop.forEach((fd) => close(fd));
    if (shared !== -1) close(shared);
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
}

if (isMainThread) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  workerMain(workerData as Job);
}
