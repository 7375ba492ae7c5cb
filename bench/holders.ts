/**
 * The holder processes (bench/holder.cjs) that keep the client ends of the workload's sockets,
 * and how a fixture's connections are spread over them and over loopback source addresses.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';
import { benchAsset } from './assets';

/** One holder child and its line protocol. */
export class Holder {
  readonly #child: ChildProcess;
  readonly #lines: Interface;
  readonly #waiting: Array<(line: string) => void> = [];
  readonly exited: Promise<void>;

  constructor() {
    this.#child = spawn(process.execPath, [benchAsset('holder.cjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.#lines = createInterface({ input: this.#child.stdout! });
    this.#lines.on('line', (line) => this.#waiting.shift()?.(line));
    // 'close', not 'exit': by then the child's stdio pipes are closed on this side too.
    this.exited = new Promise((resolve) => this.#child.once('close', () => resolve()));
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

  /** The child's resident memory in bytes. */
  async rss(): Promise<number> {
    return Number((await this.send('rss')).split(' ')[1]);
  }

  async stop(): Promise<void> {
    this.#child.stdin!.end();
    this.#lines.close();
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 2000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** How the connections of a fixture are spread. */
export interface Spread {
  /** Client ends per holder process. */
  holderFds: number;
  /** Connections per loopback source address (Linux) or per listening port (elsewhere). */
  portsPerAddress: number;
}

/** Sizes of the ephemeral port range (Linux), or null where it cannot be read. */
export function ephemeralPorts(): number | null {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return hi - lo + 1;
  } catch {
    return null;
  }
}

/** Fds a holder keeps for itself (stdio, Node's own) below its RLIMIT_NOFILE. */
const HOLDER_OWN_FDS = 100;
/** Ephemeral ports left to other programs on each source address. */
const PORT_MARGIN = 1000;

/**
 * The spread asked for, with defaults: a holder takes as many client ends as its RLIMIT_NOFILE
 * (the same soft limit as ours, inherited) allows; an address as many as the ephemeral range.
 */
export function resolveSpread(nofileSoft: number, opts: { holderFds?: number | null; portsPerAddress?: number | null } = {}): Spread {
  const soft = Number.isFinite(nofileSoft) ? nofileSoft : 1 << 20;
  const ports = ephemeralPorts() ?? 16_384; // macOS: 49152-65535
  return {
    holderFds: opts.holderFds ?? Math.max(1, soft - HOLDER_OWN_FDS),
    portsPerAddress: opts.portsPerAddress ?? Math.max(1, ports - PORT_MARGIN),
  };
}

/** One batch of connections: from one holder, one source address, to one listener. */
export interface Chunk {
  holder: number;
  group: number;
  count: number;
}

/**
 * Cuts `count` connections into chunks: holder h takes connections [h*holderFds, ...), group g
 * (a source address on Linux, a listening port elsewhere) takes [g*portsPerAddress, ...).
 */
export function chunks(count: number, spread: Spread): { holders: number; groups: number; chunks: Chunk[] } {
  const out: Chunk[] = [];
  for (let at = 0; at < count; ) {
    const holder = Math.floor(at / spread.holderFds);
    const group = Math.floor(at / spread.portsPerAddress);
    const end = Math.min(count, (holder + 1) * spread.holderFds, (group + 1) * spread.portsPerAddress);
    out.push({ holder, group, count: end - at });
    at = end;
  }
  return {
    holders: Math.ceil(count / spread.holderFds),
    groups: Math.ceil(count / spread.portsPerAddress),
    chunks: out,
  };
}

/**
 * The source address of group g: 127.0.0.(g+1) and onwards on Linux, where all of 127/8 is
 * loopback; elsewhere (macOS has only 127.0.0.1) the default, and groups differ by listener.
 */
export function sourceAddress(group: number): string | undefined {
  if (process.platform !== 'linux') return undefined;
  const n = group + 1; // 127.0.0.1, .2, ... then 127.0.1.0 ...
  return `127.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}
