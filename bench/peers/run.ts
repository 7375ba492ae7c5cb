/**
 * Runs the C floor (floor.c, compiled here with `cc`) and the CPython peer (cpython.py) on the
 * bench's own sockets: the peers inherit the fixture's fds at the same numbers, so every
 * backend and peer is measured on one socket set.
 */
import { type ChildProcess, spawn, spawnSync, type StdioOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { benchAsset } from '../assets';

/**
 * The peers: the C floor, the C floor in a multi-threaded process, CPython, and the thinnest
 * Node-API calls (napi, run in this process: bench/napi.ts).
 */
export type PeerFamily = 'c' | 'c-mt' | 'cpython' | 'napi';

/** A peer program that can be run with a mode on inherited fds. */
export interface PeerProgram {
  /** 'c', 'c-mt' (the C floor with one extra idle thread), 'cpython', or 'iomux' (bench/series-child.ts). */
  family: PeerFamily | 'iomux';
  command: string;
  args: string[];
  /** What runs it, for the report (compiler or interpreter version). */
  version: string;
  /** Extra environment for the peer. */
  env?: Record<string, string>;
  /** The C floor: why its io_uring modes cannot run here (`floor probe`), or null when they can. */
  ioUringMissing?: string | null;
}

/** One timeout's samples from a peer run: ns per call, one per batch of `calls`, sorted ascending. */
export interface PeerSamples {
  timeoutMs: number;
  calls: number;
  samples: number[];
}

function which(cmd: string, versionArgs: string[]): string | null {
  const r = spawnSync(cmd, versionArgs, { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  return `${r.stdout}${r.stderr}`.split('\n')[0].trim();
}

/**
 * Asks a compiled floor whether io_uring works here (io_uring_setup can fail under a seccomp
 * filter, with kernel.io_uring_disabled, or on a kernel without it).
 * @returns null when it does, else the reason.
 */
function probeIoUring(floor: string): string | null {
  const r = spawnSync(floor, ['probe'], { encoding: 'utf8' });
  const line = `${r.stdout ?? ''}`.trim();
  if (r.status !== 0 || !line.startsWith('io_uring')) return `floor probe failed: ${r.stderr || r.error?.message || line}`.trim();
  return line === 'io_uring ok' ? null : line.replace(/^io_uring: /, '');
}

/**
 * Compiles floor.c (with io_uring.c, empty but on Linux) into a fresh temporary directory.
 * @returns the program, or null with the reason when there is no working `cc`.
 */
export function compileFloor(): { peer: PeerProgram | null; reason?: string; cleanup(): void } {
  const version = which('cc', ['--version']);
  if (!version) return { peer: null, reason: 'no cc on PATH', cleanup() {} };
  const dir = mkdtempSync(path.join(tmpdir(), 'iomux-bench-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const out = path.join(dir, 'floor');
  const src = [benchAsset('peers/floor.c'), benchAsset('peers/io_uring.c')];
  const r = spawnSync('cc', ['-O2', '-pthread', '-o', out, ...src], { encoding: 'utf8' });
  if (r.status !== 0) {
    cleanup();
    return { peer: null, reason: `cc failed: ${r.stderr.trim().split('\n')[0]}`, cleanup() {} };
  }
  return { peer: { family: 'c', command: out, args: [], version, ioUringMissing: probeIoUring(out) }, cleanup };
}

/** Finds python3. @returns the program, or null with the reason. */
export function findCPython(): { peer: PeerProgram | null; reason?: string } {
  const version = which('python3', ['--version']);
  if (!version) return { peer: null, reason: 'no python3 on PATH' };
  return { peer: { family: 'cpython', command: 'python3', args: [benchAsset('peers/cpython.py')], version } };
}

/**
 * The process that serves the iomux series of one backend (bench/series-child.ts): this Node,
 * and through tsx when the bench runs from its TypeScript sources (tsx is a devDependency there):
 * its CommonJS hook only, since the series code is CommonJS. `--import tsx` would also start the
 * ESM loader's hooks thread in every series process: 0.38-0.46 s to start one here against
 * 0.25-0.29 s (0.9-1.1 s against 0.5-0.65 s under the ASan build), for the 18 processes of a
 * --quick run.
 */
export function seriesChild(): PeerProgram {
  const ext = path.extname(__filename);
  const script = path.join(__dirname, '..', `series-child${ext}`);
  return { family: 'iomux', command: process.execPath, args: [...(ext === '.ts' ? ['--require', 'tsx/cjs'] : []), script], version: `Node ${process.version}` };
}

/** "300-1299,1400": the compact form of an ascending fd list the peers parse. */
export function fdRanges(fds: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < fds.length; ) {
    let j = i;
    while (j + 1 < fds.length && fds[j + 1] === fds[j] + 1) j++;
    parts.push(i === j ? `${fds[i]}` : `${fds[i]}-${fds[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/**
 * Stdio for spawn that hands each fd over at its own number: libuv's child setup clears
 * close-on-exec on an entry whose index equals its fd, instead of dup2-ing it elsewhere.
 * The peer's stdin, stdout and stderr are pipes to this process.
 */
function inheritAtSameNumbers(fds: readonly number[]): StdioOptions {
  const max = Math.max(...fds);
  const stdio: Array<'ignore' | 'pipe' | number> = ['pipe', 'pipe', 'pipe'];
  const set = new Set(fds);
  for (let fd = 3; fd <= max; fd++) stdio.push(set.has(fd) ? fd : 'ignore');
  return stdio;
}

/**
 * A peer process that serves measurements on one fixture's fds: started once (`floor serve`,
 * `cpython.py serve`), it takes one request line at a time and answers with one JSON line per
 * timeout and then "done". Starting a process per cell would cost more than measuring it.
 */
export class PeerServer {
  #child: ChildProcess | null = null;
  #stderr = '';
  #pending: { lines: string[]; resolve(v: PeerSamples[]): void; reject(e: Error): void } | null = null;

  /**
   * @param peer the program.
   * @param fds the fixture's fds (ascending), inherited at the same numbers.
   */
  constructor(
    readonly peer: PeerProgram,
    readonly fds: readonly number[],
  ) {}

  #start(): ChildProcess {
    const child = spawn(this.peer.command, [...this.peer.args, 'serve'], {
      stdio: inheritAtSameNumbers(this.fds),
      env: this.peer.env ? { ...process.env, ...this.peer.env } : process.env,
    });
    this.#stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => (this.#stderr = (this.#stderr + d).slice(-4000)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const p = this.#pending;
      if (!p) return;
      if (line === 'done') {
        this.#pending = null;
        try {
          p.resolve(p.lines.map((l) => JSON.parse(l) as PeerSamples));
        } catch (err) {
          p.reject(err as Error);
        }
      } else p.lines.push(line);
    });
    child.on('error', (err) => this.#fail(err));
    child.on('exit', (code, signal) => {
      if (this.#child === child) this.#child = null;
      this.#fail(new Error(`${this.peer.family} peer exited with ${code ?? signal}: ${this.#stderr.trim()}`));
    });
    return child;
  }

  #fail(err: Error): void {
    const p = this.#pending;
    this.#pending = null;
    p?.reject(err);
  }

  /**
   * Measures one mode on the fixture (the last `active` fds are readable); a peer that died
   * (it exits 2 when it sees the wrong fds ready) is started again for the next request.
   * @param calls calls per batch for each timeout; 0 lets the peer calibrate it to batchMs.
   * @returns one sample set per timeout, sorted ascending, in ns per call.
   */
  request(
    mode: string,
    active: number,
    timeouts: number[],
    timeMs: number,
    calls: number[],
    batchMs: number,
    maxSamples = 100_000,
  ): Promise<PeerSamples[]> {
    if (this.#pending) return Promise.reject(new Error('one request at a time'));
    this.#child ??= this.#start();
    const line = [mode, timeouts.join(','), String(timeMs), String(maxSamples), fdRanges(this.fds), String(active), calls.join(','), String(batchMs)].join(' ');
    return new Promise((resolve, reject) => {
      this.#pending = { lines: [], resolve, reject };
      this.#child!.stdin!.write(`${line}\n`);
    });
  }

  /** Ends the peer (closing its stdin) and waits for it to exit. */
  async close(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = null;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdin!.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
