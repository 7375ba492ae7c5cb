/**
 * The benchmark's workload: N loopback TCP sockets held by this process at one fd each, placed
 * in one contiguous fd block, whose client ends are held by child processes (bench/holder.cjs),
 * spread over as many holders as their fd limit needs and over several loopback source
 * addresses (bench/holders.ts), so that only this process's RLIMIT_NOFILE caps N.
 * The K highest fds of the block are made readable with one unread byte each; the rest stay
 * idle. Every backend and peer is measured on the same fixture.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { native } from '../lib/binding';
import { close, dup2, getNofileLimit, setNofileLimit } from '../lib/fd';
import { accept, listen, localAddress } from '../lib/socket';
import { constants } from '../lib/constants';
import { setsockopt } from '../lib/sockopt';
import { chunks, Holder, resolveSpread, sourceAddress, type Spread } from './holders';

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
 * Bytes one idle connection costs in all, rounded up from what the bench measured at N=19,000
 * (kernel slab 7.9 KiB for both ends, holder 2.4 KiB: docs/benchmark.md).
 */
export const BYTES_PER_CONNECTION = 12 * 1024;

/** MemAvailable from /proc/meminfo in bytes, or null where there is none. */
export function memAvailable(): number | null {
  try {
    const m = /MemAvailable:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * The largest number of workload sockets this process can hold with HEADROOM fds to spare,
 * and what caps it: RLIMIT_NOFILE (the client ends are spread over holder processes and source
 * addresses, so ports and the holders' limits do not), or memory when it is scarcer.
 */
export function maxSockets(nofile: NofileInfo = raiseNofile()): { max: number; cappedBy: string } {
  const limit = Number.isFinite(nofile.soft) ? nofile.soft : 1 << 20;
  const byLimit = limit - HEADROOM;
  const mem = memAvailable();
  const byMemory = mem === null ? Infinity : Math.floor(mem / 2 / BYTES_PER_CONNECTION);
  if (byMemory < byLimit) {
    return { max: byMemory, cappedBy: `memory (half of MemAvailable ${(mem! / 2 ** 30).toFixed(1)} GiB at ${BYTES_PER_CONNECTION / 1024} KiB per connection)` };
  }
  return { max: byLimit, cappedBy: `RLIMIT_NOFILE of the measured process (soft ${nofile.soft}, hard ${nofile.hard}) less ${HEADROOM} fds of headroom` };
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
  /** The holder children's pids (they keep the client ends of the sockets). */
  readonly holderPids: readonly number[];
  /** The loopback source addresses (or listening ports, off Linux) the connections came from. */
  readonly groups: number;
  /** Memory per connection measured while the fixture was built (Linux; NaN elsewhere). */
  readonly memory: FixtureMemory;
  /** Makes the k highest fds readable (one unread byte each); k may only grow. */
  activate(k: number): Promise<void>;
  /** The fds that are readable now, checked with poll(2) and timeout 0. */
  readyNow(): number[];
  /** Closes every fd of the fixture and ends the child; idempotent. */
  close(): Promise<void>;
}

/** What the idle connections cost in memory, per connection, in bytes. */
export interface FixtureMemory {
  /** Kernel slab growth (/proc/meminfo Slab) over the build, per connection (both ends). */
  kernelPerConnection: number;
  /** Holder resident memory growth per client end (a Node net.Socket each). */
  holderPerConnection: number;
}

function slabBytes(): number {
  try {
    const m = /Slab:\s+(\d+) kB/.exec(readFileSync('/proc/meminfo', 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Accepts `count` connections over all listeners, yielding while the holders connect. */
async function acceptAll(lfds: number[], count: number, connected: Promise<unknown>, peers: Map<number, string>): Promise<void> {
  let failed: unknown = null;
  connected.catch((err) => (failed = err));
  const deadline = Date.now() + 300_000;
  while (peers.size < count) {
    let got = false;
    for (const lfd of lfds) {
      for (let conn = accept(lfd); conn; conn = accept(lfd)) {
        peers.set(conn.fd, `${conn.address}:${conn.port ?? -1}`);
        got = true;
      }
    }
    if (got) continue;
    if (failed) throw failed;
    if (Date.now() > deadline) throw new Error(`accepted ${peers.size} of ${count} connections in 300 s`);
    await sleep(1);
  }
  await connected;
}

/**
 * Moves our fds into the lowest block of `count` consecutive numbers that holds no other fd
 * of this process. Stray inherited fds (10, 251, ...) are never touched: dup2 onto them would
 * close something that is not ours.
 */
function place(ports: Map<number, string>, limit: number): { fds: number[]; ports: Map<number, string> } {
  const count = ports.size;
  const foreign = openFds().filter((fd) => !ports.has(fd));
  let base = 3;
  for (const fd of foreign) if (fd >= base && fd < base + count) base = fd + 1;
  if (base + count > limit) throw new Error(`no free block of ${count} fds below RLIMIT_NOFILE ${limit}`);
  const free: number[] = [];
  for (let fd = base; fd < base + count; fd++) if (!ports.has(fd)) free.push(fd);
  const placed = new Map<number, string>();
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
 * @param spreadOpts client ends per holder and connections per source address (defaults: as
 *   many as the limits allow).
 * @throws Error when RLIMIT_NOFILE cannot hold them, or a holder fails to connect.
 */
export async function createFixture(
  count: number,
  active = 1,
  spreadOpts: { holderFds?: number | null; portsPerAddress?: number | null } = {},
): Promise<Fixture> {
  const nofile = raiseNofile();
  const { max } = maxSockets(nofile);
  if (count > max + 1) throw new Error(`${count} sockets do not fit: at most ${max + 1} here`);
  const spread: Spread = resolveSpread(nofile.soft, spreadOpts);
  const plan = chunks(count, spread);
  const lfds: number[] = [];
  const holders: Holder[] = [];
  let accepted = new Map<number, string>(); // fd -> the client end's "address:port"
  try {
    for (let g = 0; g < plan.groups; g++) lfds.push(listen({ host: '127.0.0.1', port: 0 }, 4096));
    for (let h = 0; h < plan.holders; h++) holders.push(new Holder());
    const rss0 = await Promise.all(holders.map((h) => h.rss()));
    const slab0 = slabBytes();
    // Each holder works through its chunks in order; the holders connect side by side.
    const connected = Promise.all(
      holders.map(async (holder, h) => {
        for (const c of plan.chunks.filter((x) => x.holder === h)) {
          const from = sourceAddress(c.group);
          await holder.send(`connect 127.0.0.1 ${localAddress(lfds[c.group]).port} ${c.count}${from ? ` ${from}` : ''}`);
        }
      }),
    );
    await acceptAll(lfds, count, connected, accepted);
    const slab1 = slabBytes();
    const rss1 = await Promise.all(holders.map((h) => h.rss()));
    // Closed before placement, so their numbers cannot be mistaken for ours afterwards.
    for (const lfd of lfds.splice(0)) close(lfd);
    const placed = place(accepted, Number.isFinite(nofile.soft) ? nofile.soft : Infinity);
    accepted = placed.ports;
    const memory: FixtureMemory = {
      kernelPerConnection: (slab1 - slab0) / count,
      holderPerConnection: rss1.reduce((a, b, i) => a + b - rss0[i], 0) / count,
    };
    return await new SocketFixture(placed.fds, placed.ports, holders, plan.groups, memory, active).ready();
  } catch (err) {
    for (const lfd of lfds) close(lfd);
    for (const fd of accepted.keys()) closeWithReset(fd);
    await Promise.all(holders.map((h) => h.stop()));
    throw err;
  }
}

/**
 * Closes an accepted socket with a reset (SO_LINGER on, 0 s). A plain close() leaves the
 * connection in TIME_WAIT for 60 s; a default run opens some 30,000 connections to loopback,
 * and with those of the earlier sizes still in TIME_WAIT the N=19,000 fixture ran out of
 * ports (connect EADDRINUSE, seen with 28,202 in TIME_WAIT on a 28,232-port range).
 */
function closeWithReset(fd: number): void {
  try {
    setsockopt(fd, constants.SOL_SOCKET, constants.SO_LINGER, { onoff: true, linger: 0 });
  } catch {
    // Not a socket any more, or already reset by the peer: a plain close does.
  }
  close(fd);
}

class SocketFixture implements Fixture {
  activeCount = 0;
  readonly fds: readonly number[];
  readonly block: string;
  readonly groups: number;
  readonly memory: FixtureMemory;
  readonly #peers: Map<number, string>;
  readonly #holders: Holder[];
  readonly #initial: number;
  #closed = false;

  constructor(fds: number[], peers: Map<number, string>, holders: Holder[], groups: number, memory: FixtureMemory, initial: number) {
    this.fds = Object.freeze(fds);
    this.block = `${fds[0]}-${fds[fds.length - 1]}`;
    this.#peers = peers;
    this.#holders = holders;
    this.groups = groups;
    this.memory = memory;
    this.#initial = initial;
  }

  get holderPids(): number[] {
    return this.#holders.map((h) => h.pid);
  }

  /** Activates the initial sockets; on failure the caller closes the fds and the child. */
  async ready(): Promise<this> {
    await this.activate(this.#initial);
    return this;
  }

  async activate(k: number): Promise<void> {
    if (k < this.activeCount || k > this.fds.length) throw new RangeError(`cannot go from ${this.activeCount} to ${k} active sockets`);
    const newly = this.fds.slice(this.fds.length - k, this.fds.length - this.activeCount);
    // Every holder is asked to write on the connections it has; the others answer "written 0".
    if (newly.length) {
      const keys = newly.map((fd) => this.#peers.get(fd)!);
      await Promise.all(this.#holders.map((h) => h.send(`write ${keys.join(' ')}`)));
    }
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
    for (const fd of this.fds) closeWithReset(fd);
    await Promise.all(this.#holders.map((h) => h.stop()));
  }
}
