/**
 * Runs the C floor (floor.c, compiled here with `cc`) and the CPython peer (cpython.py) on the
 * bench's own sockets: the peers inherit the fixture's fds at the same numbers, so every
 * backend and peer is measured on one socket set.
 */
import { spawnSync, type StdioOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The peer programs: the C floor, the C floor in a multi-threaded process, CPython. */
export type PeerFamily = 'c' | 'c-mt' | 'cpython';

/** A peer program that can be run with a mode on inherited fds. */
export interface PeerProgram {
  /** 'c', 'c-mt' (the C floor with one extra idle thread) or 'cpython'. */
  family: PeerFamily;
  command: string;
  args: string[];
  /** What runs it, for the report (compiler or interpreter version). */
  version: string;
  /** Extra environment for the peer. */
  env?: Record<string, string>;
}

/** One timeout's samples from a peer run, sorted ascending, in ns. */
export interface PeerSamples {
  timeoutMs: number;
  samples: number[];
}

function which(cmd: string, versionArgs: string[]): string | null {
  const r = spawnSync(cmd, versionArgs, { encoding: 'utf8' });
  if (r.error || r.status !== 0) return null;
  return `${r.stdout}${r.stderr}`.split('\n')[0].trim();
}

/**
 * Compiles floor.c into a fresh temporary directory.
 * @returns the program, or null with the reason when there is no working `cc`.
 */
export function compileFloor(): { peer: PeerProgram | null; reason?: string; cleanup(): void } {
  const version = which('cc', ['--version']);
  if (!version) return { peer: null, reason: 'no cc on PATH', cleanup() {} };
  const dir = mkdtempSync(path.join(tmpdir(), 'iomux-bench-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const out = path.join(dir, 'floor');
  const src = path.join(__dirname, 'floor.c');
  const r = spawnSync('cc', ['-O2', '-pthread', '-o', out, src], { encoding: 'utf8' });
  if (r.status !== 0) {
    cleanup();
    return { peer: null, reason: `cc failed: ${r.stderr.trim().split('\n')[0]}`, cleanup() {} };
  }
  return { peer: { family: 'c', command: out, args: [], version }, cleanup };
}

/** Finds python3. @returns the program, or null with the reason. */
export function findCPython(): { peer: PeerProgram | null; reason?: string } {
  const version = which('python3', ['--version']);
  if (!version) return { peer: null, reason: 'no python3 on PATH' };
  return { peer: { family: 'cpython', command: 'python3', args: [path.join(__dirname, 'cpython.py')], version } };
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
 */
function inheritAtSameNumbers(fds: readonly number[]): StdioOptions {
  const max = Math.max(...fds);
  const stdio: Array<'ignore' | 'pipe' | number> = ['ignore', 'pipe', 'pipe'];
  const set = new Set(fds);
  for (let fd = 3; fd <= max; fd++) stdio.push(set.has(fd) ? fd : 'ignore');
  return stdio;
}

/**
 * Runs one peer mode on the fixture's fds.
 * @param fds the watched fds, ascending (the last `active` are readable).
 * @returns one sample set per timeout.
 * @throws Error with the peer's stderr when it fails (exit 2: it saw the wrong fds ready).
 */
export function runPeer(
  peer: PeerProgram,
  mode: string,
  fds: readonly number[],
  active: number,
  timeouts: number[],
  timeMs: number,
  maxSamples = 200_000,
): PeerSamples[] {
  const args = [...peer.args, mode, timeouts.join(','), String(timeMs), String(maxSamples), fdRanges(fds), String(active)];
  const r = spawnSync(peer.command, args, {
    stdio: inheritAtSameNumbers(fds),
    encoding: 'utf8',
    env: peer.env ? { ...process.env, ...peer.env } : process.env,
    maxBuffer: 256 * 1024 * 1024,
    timeout: 120_000,
  });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    throw new Error(`${peer.family} peer ${mode} exited with ${r.status ?? r.signal}: ${String(r.stderr).trim()}`);
  }
  return String(r.stdout)
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as PeerSamples);
}
