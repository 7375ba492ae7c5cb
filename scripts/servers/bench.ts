/**
 * Multicore echo benchmark: msgs/s and server CPU per message for
 *   iomux 1 worker | iomux N workers, SO_REUSEPORT | iomux N workers, EPOLLEXCLUSIVE | Node cluster + net
 * each driven by bench/echo/loadgen.c (compiled here with cc): C connections, A of them
 * doing ping-pong of S-byte messages, every echoed byte checked. Server CPU is utime + stime
 * of the server's processes (all threads; the cluster primary and its workers) over the
 * measured window, from /proc/<pid>/stat. Configurations run interleaved, `--runs` times each
 * in a rotated order, and the table gives medians (with min-max), as the machine may be shared.
 *
 *   npx tsx scripts/servers/bench.ts [--runs 5] [--workers N] [--connections 200] [--active 100]
 *     [--size 64] [--warmup 1] [--duration 3] [--json file]
 *
 * Linux only (epoll, /proc). The load generator runs on the same machine: on a 2-core machine the
 * server and the client share the two.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const root = path.join(__dirname, '..', '..');
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    workers: { type: 'string', default: String(os.availableParallelism()) },
    connections: { type: 'string', default: '200' },
    active: { type: 'string', default: '100' },
    size: { type: 'string', default: '64' },
    warmup: { type: 'string', default: '1' },
    duration: { type: 'string', default: '3' },
    json: { type: 'string' },
  },
});
const N = values.workers;

interface Config {
  name: string;
  args: string[];
}
const tsx = ['--import', 'tsx', path.join(root, 'examples', 'multicore-echo.ts')];
const configs: Config[] = [
  { name: 'iomux, 1 worker', args: [...tsx, '--workers', '1'] },
  { name: `iomux, ${N} workers, SO_REUSEPORT`, args: [...tsx, '--workers', N, '--mode', 'reuseport'] },
  { name: `iomux, ${N} workers, EPOLLEXCLUSIVE`, args: [...tsx, '--workers', N, '--mode', 'exclusive'] },
  { name: `Node cluster + net, ${N} workers`, args: [path.join(__dirname, 'cluster-echo.cjs'), N] },
];

interface Sample {
  msgsPerSec: number;
  cpuUsPerMsg: number;
  rttUs: number;
  /** The load generator's own CPU seconds per second. */
  loadgenCores: number;
  load1: number;
}

function buildLoadgen(): string {
  const out = path.join(os.tmpdir(), `iomux-loadgen-${process.pid}`);
  execFileSync('cc', ['-O2', '-o', out, path.join(root, 'bench', 'echo', 'loadgen.c')], { stdio: 'inherit' });
  return out;
}

function waitListening(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}) before listening: ${out}`)));
  });
}

/** The server's pid and those of its child processes (the cluster's workers). */
function processTree(pid: number): number[] {
  const kids: number[] = [];
  for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
    const list = fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
    if (list) kids.push(...list.split(/\s+/).map(Number));
  }
  return [pid, ...kids.flatMap((k) => processTree(k))];
}

async function runOne(loadgen: string, config: Config): Promise<Sample> {
  const server = spawn(process.execPath, config.args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await waitListening(server);
    const load1 = Number(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
    const pids = processTree(server.pid!).join(',');
    const ms = (seconds: string) => String(Number(seconds) * 1000);
    const args = [String(port), values.connections!, values.active!, values.size!, ms(values.warmup!), ms(values.duration!), pids];
    // Progress lines ("connected", "start", "end"), then the JSON result.
    const out = execFileSync(loadgen, args, { encoding: 'utf8' }).trim().split('\n');
    const r = JSON.parse(out[out.length - 1]) as Sample;
    return { msgsPerSec: r.msgsPerSec, cpuUsPerMsg: r.cpuUsPerMsg, rttUs: r.rttUs, loadgenCores: r.loadgenCores, load1 };
  } finally {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function main(): Promise<void> {
  if (process.platform !== 'linux') throw new Error('scripts/servers/bench.ts needs Linux (epoll, /proc)');
  const loadgen = buildLoadgen();
  const results = new Map<string, Sample[]>(configs.map((c) => [c.name, []]));
  const runs = Number(values.runs);
  try {
    for (let r = 0; r < runs; r++) {
      // Rotate the order each round, so that no configuration always runs first or last.
      const order = configs.map((_, i) => configs[(i + r) % configs.length]);
      for (const config of order) {
        const s = await runOne(loadgen, config);
        results.get(config.name)!.push(s);
        console.error(`run ${r + 1}/${runs} ${config.name}: ${s.msgsPerSec.toFixed(0)} msgs/s, ${s.cpuUsPerMsg.toFixed(2)} us CPU/msg, load ${s.load1}`);
      }
    }
  } finally {
    fs.rmSync(loadgen, { force: true });
  }
  const c = values;
  console.log(
    `\n${os.availableParallelism()} CPUs (${os.cpus()[0]?.model ?? '?'}), ${c.connections} connections, ${c.active} active, ` +
      `${c.size}-byte messages, ${c.warmup} s warm-up + ${c.duration} s measured, ${runs} interleaved runs each (median, min-max)\n`,
  );
  console.log('| server | msgs/s | server CPU µs/msg | load generator CPU (cores) | load avg (1 min) |');
  console.log('|---|---|---|---|---|');
  for (const [name, xs] of results) {
    const m = xs.map((x) => x.msgsPerSec);
    const cpu = xs.map((x) => x.cpuUsPerMsg);
    const load = xs.map((x) => x.load1);
    const gen = median(xs.map((x) => x.loadgenCores));
    console.log(
      `| ${name} | ${median(m).toFixed(0)} (${Math.min(...m).toFixed(0)}-${Math.max(...m).toFixed(0)}) | ` +
        `${median(cpu).toFixed(2)} (${Math.min(...cpu).toFixed(2)}-${Math.max(...cpu).toFixed(2)}) | ${gen.toFixed(2)} | ` +
        `${Math.min(...load).toFixed(1)}-${Math.max(...load).toFixed(1)} |`,
    );
  }
  if (c.json) fs.writeFileSync(c.json, JSON.stringify(Object.fromEntries(results), null, 2));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
