/**
 * The benchmark's workload: N loopback TCP sockets held by this process at one fd each, placed
 * in one contiguous fd block, whose client ends are held by a child process (bench/holder.cjs).
 * The K highest fds of the block are made readable with one unread byte each; the rest stay
 * idle. Every backend and peer is measured on the same fixture.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';
import { native } from '../lib/binding';
import { benchAsset } from './assets';
import { close, dup2, getNofileLimit, setNofileLimit } from '../lib/fd';
import { accept, listen, localAddress } from '../lib/socket';

/** Fds left free beside the workload for Node itself, pipes to peers and the peers' own fds. */
export const HEADROOM = 1000;

/** The RLIMIT_NOFILE situation after raising the soft limit to the hard one. */
export interface NofileInfo {
  soft: number;
  hard: number;
  raisedFrom: number;
}

/** Raises the soft RLIMIT_NOFILE to the hard limit (no privilege needed) and says what it was. */
export function raiseNofile(): NofileInfo {
  const before = getNofileLimit();
  if (before.soft < before.hard) setNofileLimit(before.hard);
  const after = getNofileLimit();
  return { soft: after.soft, hard: after.hard, raisedFrom: before.soft };
}

/**
 * The largest number of workload sockets this process can hold with HEADROOM fds to spare,
 * and what caps it. The soft limit is also the highest fd number + 1 a peer can inherit.
 */
export function maxSockets(nofile: NofileInfo = raiseNofile()): { max: number; cappedBy: string } {
  const limit = Number.isFinite(nofile.soft) ? nofile.soft : 1 << 20;
  const byLimit = limit - HEADROOM;
  // Every client end needs its own local port to the one listener; the ephemeral range caps that.
  let ports = Infinity;
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    ports = hi - lo + 1;
  } catch {
    // Not Linux: the range is not readable this way, and RLIMIT_NOFILE is the cap.
  }
  if (ports < byLimit) return { max: ports - 64, cappedBy: `the ephemeral port range (${ports} ports)` };
  return { max: byLimit, cappedBy: `RLIMIT_NOFILE (soft ${nofile.soft}, hard ${nofile.hard}) less ${HEADROOM} fds of headroom` };
}

/** The fds open in this process right now (Linux /proc/self/fd, else /dev/fd). */
export function openFds(): number[] {
  for (const dir of ['/proc/self/fd', '/dev/fd']) {
    try {
      return readdirSync(dir).map(Number).filter(Number.isInteger).sort((a, b) => a - b);
    } catch {
      // Try the next place.
    }
  }
  throw new Error('cannot list open fds: neither /proc/self/fd nor /dev/fd is readable');
}

/** The workload, ready to measure. */
export interface Fixture {
  /** Every watched fd in array order: ascending, so the active ones (highest) come last. */
  readonly fds: readonly number[];
  /** How many of the highest fds are readable. */
  readonly activeCount: number;
  /** The block of fd numbers the sockets were placed in, e.g. "252-1252". */
  readonly block: string;
  /** The holder child's pid (its client ends of the sockets). */
  readonly childPid: number;
  /** Makes the k highest fds readable (one unread byte each); k may only grow. */
  activate(k: number): Promise<void>;
  /** The fds that are readable now, checked with poll(2) and timeout 0. */
  readyNow(): number[];
  /** Closes every fd of the fixture and ends the child; idempotent. */
  close(): Promise<void>;
}

class Holder {
  readonly #child: ChildProcess;
  readonly #lines: Interface;
  readonly #waiting: Array<(line: string) => void> = [];
  readonly exited: Promise<void>;

  constructor() {
    this.#child = spawn(process.execPath, [benchAsset('holder.cjs')], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.#lines = createInterface({ input: this.#child.stdout! });
    this.#lines.on('line', (line) => this.#waiting.shift()?.(line));
    this.exited = new Promise((resolve) => this.#child.once('exit', () => resolve()));
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  /** Sends one command; the promise settles with the child's answer line. */
  send(line: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const onExit = () => reject(new Error(`socket holder exited while answering "${line.slice(0, 40)}"`));
      this.#child.once('exit', onExit);
      this.#waiting.push((answer) => {
        this.#child.off('exit', onExit);
        if (answer.startsWith('error')) reject(new Error(`socket holder: ${answer}`));
        else resolve(answer);
      });
      this.#child.stdin!.write(`${line}\n`);
    });
  }

  async stop(): Promise<void> {
    this.#child.stdin!.end();
    this.#lines.close();
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 2000);
    await this.exited;
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Accepts `count` connections, yielding to the event loop while the child is connecting. */
async function acceptAll(lfd: number, count: number, connected: Promise<string>, ports: Map<number, number>): Promise<void> {
  let failed: unknown = null;
  connected.catch((err) => (failed = err));
  const deadline = Date.now() + 120_000;
  while (ports.size < count) {
    const conn = accept(lfd);
    if (conn) {
      ports.set(conn.fd, conn.port ?? -1);
      continue;
    }
    if (failed) throw failed;
    if (Date.now() > deadline) throw new Error(`accepted ${ports.size} of ${count} connections in 120 s`);
    await sleep(1);
  }
  await connected;
}

/**
 * Moves our fds into the lowest block of `count` consecutive numbers that holds no other fd
 * of this process. Stray inherited fds (10, 251, ...) are never touched: dup2 onto them would
 * close something that is not ours.
 */
function place(ports: Map<number, number>, limit: number): { fds: number[]; ports: Map<number, number> } {
  const count = ports.size;
  const foreign = openFds().filter((fd) => !ports.has(fd));
  let base = 3;
  for (const fd of foreign) if (fd >= base && fd < base + count) base = fd + 1;
  if (base + count > limit) throw new Error(`no free block of ${count} fds below RLIMIT_NOFILE ${limit}`);
  const free: number[] = [];
  for (let fd = base; fd < base + count; fd++) if (!ports.has(fd)) free.push(fd);
  const placed = new Map<number, number>();
  for (const [fd, port] of ports) {
    if (fd >= base && fd < base + count) {
      placed.set(fd, port);
      continue;
    }
    const to = free.pop()!;
    dup2(fd, to);
    close(fd);
    placed.set(to, port);
  }
  const fds = [...placed.keys()].sort((a, b) => a - b);
  return { fds, ports: placed };
}

/**
 * Builds the workload: `count` sockets, the `active` highest of them readable.
 * @param count watched sockets in all (idle + active).
 * @param active how many are readable at first (the highest fds).
 * @throws Error when RLIMIT_NOFILE cannot hold them, or the child fails to connect.
 */
export async function createFixture(count: number, active = 1): Promise<Fixture> {
  const nofile = raiseNofile();
  const { max } = maxSockets(nofile);
  if (count > max + 1) throw new Error(`${count} sockets do not fit: at most ${max + 1} here`);
  const lfd = listen({ host: '127.0.0.1', port: 0 }, 4096);
  let listening = true;
  const holder = new Holder();
  let accepted = new Map<number, number>(); // fd -> the client end's port
  try {
    const port = localAddress(lfd).port;
    await acceptAll(lfd, count, holder.send(`connect 127.0.0.1 ${port} ${count}`), accepted);
    // Closed before placement, so its number cannot be mistaken for one of ours afterwards.
    close(lfd);
    listening = false;
    const placed = place(accepted, Number.isFinite(nofile.soft) ? nofile.soft : Infinity);
    accepted = placed.ports;
    return await new SocketFixture(placed.fds, placed.ports, holder, active).ready();
  } catch (err) {
    if (listening) close(lfd);
    for (const fd of accepted.keys()) close(fd);
    await holder.stop();
    throw err;
  }
}

class SocketFixture implements Fixture {
  activeCount = 0;
  readonly fds: readonly number[];
  readonly block: string;
  readonly #ports: Map<number, number>;
  readonly #holder: Holder;
  readonly #initial: number;
  #closed = false;

  constructor(fds: number[], ports: Map<number, number>, holder: Holder, initial: number) {
    this.fds = Object.freeze(fds);
    this.block = `${fds[0]}-${fds[fds.length - 1]}`;
    this.#ports = ports;
    this.#holder = holder;
    this.#initial = initial;
  }

  get childPid(): number {
    return this.#holder.pid;
  }

  /** Activates the initial sockets; on failure the caller closes the fds and the child. */
  async ready(): Promise<this> {
    await this.activate(this.#initial);
    return this;
  }

  async activate(k: number): Promise<void> {
    if (k < this.activeCount || k > this.fds.length) throw new RangeError(`cannot go from ${this.activeCount} to ${k} active sockets`);
    const newly = this.fds.slice(this.fds.length - k, this.fds.length - this.activeCount);
    if (newly.length) await this.#holder.send(`write ${newly.map((fd) => this.#ports.get(fd)).join(' ')}`);
    this.activeCount = k;
    // Loopback delivers at once, but wait a little rather than trust it.
    const want = this.fds.slice(this.fds.length - k);
    for (let tries = 0; ; tries++) {
      const got = this.readyNow();
      if (got.length === want.length && got.every((fd, i) => fd === want[i])) return;
      if (tries > 200) throw new Error(`expected the ${k} highest fds readable, found ${got.length} ready`);
      await sleep(5);
    }
  }

  readyNow(): number[] {
    // One poll(2) through the addon's raw binding, outside any timed code.
    const p = new native.Poll();
    for (const fd of this.fds) p.register(fd, native.constants.POLLIN);
    const out = new Int32Array(2 * this.fds.length);
    const n = p.pollInto(out, 0);
    const ready: number[] = [];
    for (let i = 0; i < n; i++) ready.push(out[2 * i]);
    return ready.sort((a, b) => a - b);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const fd of this.fds) close(fd);
    await this.#holder.stop();
  }
}
