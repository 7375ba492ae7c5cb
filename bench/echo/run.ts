/**
 * `--scenario echo`: single-threaded echo servers (iomux DefaultSelector in a synchronous loop,
 * the same on selectAsync(), IoUringSelector's synchronous loop where io_uring works, Node's
 * net, CPython selectors, C epoll), each in its own process,
 * driven in turn by the C load generator (loadgen.c) at C connections of which A are active.
 * Server CPU per message comes from the sum of /proc/PID/task/TID/schedstat (ns on the CPU,
 * every thread) read when the load generator starts and stops measuring.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { benchAsset, packageRoot } from '../assets';
import { canUse } from '../../lib/selectors/default';
import { ioUringMissing } from '../io-uring-backend';
import type { BenchOptions } from '../options';
import type { EchoInfo, EchoRow } from './types';

/** ns the process (all its threads) has spent on a CPU. */
export function cpuNs(pid: number): number {
  let sum = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      sum += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // A thread that ended meanwhile.
    }
  }
  return sum;
}

interface Server {
  name: string;
  child: ChildProcess;
  port: number;
}

function firstLine(child: ChildProcess, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (line) => {
      rl.close();
      resolve(line);
    });
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code} before it listened`)));
  });
}

async function startServer(name: string, command: string, args: string[]): Promise<Server> {
  const child = spawn(command, args, { cwd: packageRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await firstLine(child, name);
  const m = /^port (\d+)$/.exec(line);
  if (!m) throw new Error(`${name}: expected "port N", got "${line}"`);
  return { name, child, port: Number(m[1]) };
}

/** Runs the load generator once against a server; returns the row. */
function drive(loadgen: string, server: Server, conns: number, active: number, size: number, measureMs: number): Promise<EchoRow> {
  return new Promise((resolve, reject) => {
    const gen = spawn(loadgen, [String(server.port), String(conns), String(active), String(size), '200', String(measureMs)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let cpu0 = 0;
    let cpu1 = 0;
    let stderr = '';
    gen.stderr!.on('data', (d) => (stderr += d));
    const rl = createInterface({ input: gen.stdout! });
    let result: { msgs: number; seconds: number; p50Us: number; p99Us: number } | null = null;
    rl.on('line', (line) => {
      if (line === 'start') cpu0 = cpuNs(server.child.pid!);
      else if (line === 'end') cpu1 = cpuNs(server.child.pid!);
      else if (line.startsWith('{')) result = JSON.parse(line);
    });
    gen.once('exit', (code) => {
      if (code !== 0 || !result) return reject(new Error(`load generator against ${server.name} (C=${conns} A=${active}) exited with ${code}: ${stderr.trim()}`));
      const r = result as { msgs: number; seconds: number; p50Us: number; p99Us: number };
      resolve({
        server: server.name,
        conns,
        active,
        size,
        msgsPerSec: r.msgs / r.seconds,
        p50Us: r.p50Us,
        p99Us: r.p99Us,
        cpuUsPerMsg: (cpu1 - cpu0) / 1000 / Math.max(1, r.msgs),
        msgs: r.msgs,
      });
    });
  });
}

function compile(dir: string, name: string): string {
  const out = path.join(dir, name);
  const r = spawnSync('cc', ['-O2', '-o', out, benchAsset(`echo/${name}.c`)], { encoding: 'utf8' });
  if (r.error) throw new Error('no cc on PATH');
  if (r.status !== 0) throw new Error(`cc failed on bench/echo/${name}.c: ${r.stderr.trim().split('\n')[0]}`);
  return out;
}

/**
 * Runs the echo scenario; notes say what was left out and why.
 * @returns the rows, or undefined when it could not run here.
 */
export async function runEcho(opts: BenchOptions, maxN: number, onProgress: (what: string) => void, notes: string[]): Promise<EchoInfo | undefined> {
  if (process.platform !== 'linux') {
    notes.push('echo scenario left out: its load generator and C server use epoll (Linux only)');
    return undefined;
  }
  const started = Date.now();
  const dir = mkdtempSync(path.join(tmpdir(), 'iomux-echo-'));
  const servers: Server[] = [];
  try {
    let loadgen: string;
    let cServer: string;
    try {
      loadgen = compile(dir, 'loadgen');
      cServer = compile(dir, 'server');
    } catch (err) {
      notes.push(`echo scenario left out: ${(err as Error).message}`);
      return undefined;
    }
    // The compiled server beside the compiled bench; from the TypeScript sources (npm run bench,
    // tests), the same file through tsx, a devDependency there.
    const ext = path.extname(__filename);
    const nodeServer = path.join(__dirname, `server-node${ext}`);
    const node = (mode: string) => [...(ext === '.ts' ? ['--import', 'tsx'] : []), nodeServer, mode];
    servers.push(await startServer('iomux DefaultSelector', process.execPath, node('selector')));
    servers.push(await startServer('iomux selectAsync', process.execPath, node('async')));
    if (canUse('io_uring')) servers.push(await startServer('iomux IoUringSelector', process.execPath, node('io_uring')));
    else notes.push(`echo: iomux IoUringSelector server left out: ${ioUringMissing()}`);
    servers.push(await startServer('node net', process.execPath, node('net')));
    if (!spawnSync('python3', ['--version']).error) servers.push(await startServer('cpython selectors', 'python3', [benchAsset('echo/server.py')]));
    else notes.push('echo: cpython selectors server left out: no python3 on PATH');
    servers.push(await startServer('c epoll', cServer, []));
    const conns = opts.echoConns.filter((c) => c <= maxN);
    if (conns.length < opts.echoConns.length) notes.push(`echo: C above max N ${maxN} left out`);
    const rows: EchoRow[] = [];
    let round = 0;
    for (const c of conns) {
      for (const a of opts.echoActive.filter((x) => x <= c)) {
        // Rotate the servers from cell to cell, so that none is always first or last.
        const order = servers.map((_, i) => servers[(i + round) % servers.length]);
        round++;
        for (const s of order) {
          onProgress(`${s.name} C=${c} A=${a}`);
          rows.push(await drive(loadgen, s, c, a, opts.echoSize, opts.echoTimeMs));
        }
      }
    }
    const names = servers.map((s) => s.name);
    rows.sort((x, y) => x.conns - y.conns || x.active - y.active || names.indexOf(x.server) - names.indexOf(y.server));
    return { rows, seconds: (Date.now() - started) / 1000, measureMs: opts.echoTimeMs };
  } finally {
    for (const s of servers) s.child.kill('SIGKILL');
    await Promise.all(servers.map((s) => (s.child.exitCode === null && s.child.signalCode === null ? new Promise((r) => s.child.once('exit', r)) : null)));
    rmSync(dir, { recursive: true, force: true });
  }
}
