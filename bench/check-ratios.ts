/**
 * An independent check of the bench's epoll ratios: its own sockets, its own C loop, its own
 * batch timing (fixed k, performance.now()), nothing shared with bench/runner.ts, timing.ts,
 * fixtures.ts or peers/. Per N it measures iomux Epoll#pollInto(), Epoll#poll() and
 * DefaultSelector.select() against C epoll_wait on the same sockets, interleaved: each round
 * times C, pollInto, C, poll, C, select, C (the C loop is a child process that times batches on
 * request), each a set of 7 batches of 1000 calls of which the fastest counts (a preempted batch
 * is never the fastest), and a call's ratio in that round is its time over the mean of the C
 * times just before and after it. It prints each call's fastest time over C's fastest (the
 * ratio the bench prints), and the median and p25-p75 of the per-round ratios beside it: how
 * much the load of the machine moved the ratio meanwhile.
 *
 * Each N is measured in a process of its own (see inOwnProcess).
 *
 * With `--against run.json` (a bench run's --json) it sets the bench's iomux / C ratios (timeout
 * 0) beside its own and prints PASS when each is within 15%, else FAIL and exit code 1.
 *
 * usage: npx tsx bench/check-ratios.ts [N ...] [--rounds R] [--against run.json]
 *        (default N 1000 10000, 81 rounds; Linux, needs cc)
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { constants, EVENT_READ } from '../lib/constants';
import { Epoll } from '../lib/epoll';
import { close, getNofileLimit, setNofileLimit } from '../lib/fd';
import { DefaultSelector } from '../lib/selectors/default';
import { accept, listen, localAddress } from '../lib/socket';
import { type Cell, ratio } from './report/cells';

/** Calls per batch and batches per measurement, on both sides. */
const K = 1000;
const BATCHES = 7;
/** How far apart the bench's and this check's ratio may be. */
const TOLERANCE = 0.15;

// Serves "K BATCHES" lines on stdin: times BATCHES batches of K epoll_wait calls (after one
// unrecorded batch) and prints the fastest batch's ns per call; every call is checked.
const C_LOOP = `
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }
static int cmp(const void *a, const void *b) { double x = *(double *)a, y = *(double *)b; return x < y ? -1 : x > y; }
int main(int argc, char **argv) {
  FILE *f = fopen(argv[1], "r");
  int active = atoi(argv[2]), fd, k, batches;
  int ep = epoll_create1(0);
  while (fscanf(f, "%d", &fd) == 1) {
    struct epoll_event e = {.events = EPOLLIN, .data.fd = fd};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0) { perror("epoll_ctl"); return 1; }
  }
  struct epoll_event evs[1024];
  double s[1000];
  while (scanf("%d %d", &k, &batches) == 2 && batches > 0 && batches <= 1000) {
    for (int b = -1; b < batches; b++) {
      double t0 = now();
      for (int i = 0; i < k; i++) {
        int n = epoll_wait(ep, evs, 1024, 0);
        if (n != 1 || evs[0].data.fd != active) { fprintf(stderr, "wrong fds ready\\n"); return 2; }
      }
      if (b >= 0) s[b] = (now() - t0) / k;
    }
    qsort(s, batches, sizeof(double), cmp);
    printf("%.2f\\n", s[0]);
    fflush(stdout);
  }
  return 0;
}`;

// Connects COUNT clients, 4000 per loopback source address from 127.77.0.1 up (other programs
// on the machine may hold most of 127.0.0.1's ephemeral ports); any error ends it with a message.
const HOLDER = `
const net = require('net'); const [port, count] = process.argv.slice(1).map(Number); const socks = [];
let up = false; const fail = (e) => { if (up) return; process.stderr.write('check-ratios holder: ' + e.message + '\\n'); process.exit(1); };
(async () => { for (let i = 0; i < count; i += 200) await Promise.all(Array.from({ length: Math.min(200, count - i) }, (_, j) =>
  new Promise((r) => { const s = net.connect({ port, host: '127.0.0.1', localAddress: '127.77.0.' + (1 + Math.floor((i + j) / 4000)) }, r); s.on('error', fail); socks.push(s); })));
  up = true; process.stdout.write('ok\\n'); process.stdin.on('data', () => socks[socks.length - 1].write('x')); process.stdin.on('end', () => process.exit(0)); })();`;

type Call = 'pollInto' | 'poll' | 'selector';
const CALLS: Call[] = ['pollInto', 'poll', 'selector'];
/** The bench's api name for each call. */
const BENCH_API: Record<Call, string> = { pollInto: 'pollInto', poll: 'raw', selector: 'selectors' };

const median = (xs: number[]) => quantile(xs, 0.5);
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (pos - lo);
}

/**
 * One multiplexer per call for the whole measurement (as an application keeps one), each timed
 * by its own loop: a loop shared by the three calls would reach them through a megamorphic call
 * site.
 */
interface Muxes {
  epInto: Epoll;
  epPoll: Epoll;
  sel: DefaultSelector;
  out: Int32Array;
}

/** The three timed loops for the fixture whose readable fd is `active`: the fastest batch's ns per call. */
function loops({ epInto, epPoll, sel, out }: Muxes, active: number): Record<Call, () => number> {
  const batches = (batch: () => number) => {
    const s: number[] = [];
    for (let b = -1; b < BATCHES; b++) {
      const ns = batch();
      if (b >= 0) s.push(ns);
    }
    return Math.min(...s);
  };
  return {
    pollInto: () =>
      batches(() => {
        const t0 = performance.now();
        for (let i = 0; i < K; i++) if (epInto.pollInto(out, 0) !== 1 || out[0] !== active) throw new Error('wrong fds ready');
        return ((performance.now() - t0) * 1e6) / K;
      }),
    poll: () =>
      batches(() => {
        const t0 = performance.now();
        for (let i = 0; i < K; i++) {
          const r = epPoll.poll(0, 1024);
          if (r.length !== 1 || r[0][0] !== active) throw new Error('wrong fds ready');
        }
        return ((performance.now() - t0) * 1e6) / K;
      }),
    selector: () =>
      batches(() => {
        const t0 = performance.now();
        for (let i = 0; i < K; i++) {
          const r = sel.select(0);
          if (r.length !== 1 || r[0][0].fd !== active) throw new Error('wrong fds ready');
        }
        return ((performance.now() - t0) * 1e6) / K;
      }),
  };
}

/** The C loop as a server on the fixture's fds (inherited at the same numbers). */
function startC(cloop: string, fds: number[], active: number): { time(): Promise<number>; child: ChildProcess } {
  const stdio: Array<'pipe' | 'ignore' | 'inherit' | number> = ['pipe', 'pipe', 'inherit'];
  const mine = new Set(fds);
  for (let fd = 3; fd <= fds[fds.length - 1]; fd++) stdio.push(mine.has(fd) ? fd : 'ignore');
  const list = path.join(path.dirname(cloop), 'fds.txt');
  writeFileSync(list, fds.join('\n'));
  const child = spawn(cloop, [list, String(active)], { stdio });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return {
    child,
    async time() {
      child.stdin!.write(`${K} ${BATCHES}\n`);
      const { value, done } = await lines.next();
      if (done) throw new Error(`C loop exited (${child.exitCode})`);
      return Number(value);
    },
  };
}

interface Result {
  n: number;
  /** The fastest times (ns per call) over all rounds. */
  cNs: number;
  ns: Record<Call, number>;
  /** Fastest over C's fastest. */
  ratio: Record<Call, number>;
  /** Median, p25 and p75 of the per-round ratios. */
  rounds: Record<Call, [number, number, number]>;
}

async function measure(n: number, cloop: string, rounds: number): Promise<Result> {
  // n idle sockets plus the active one, as the bench's idle-scaling cell N.
  const count = n + 1;
  const lfd = listen({ host: '127.0.0.1', port: 0 }, 4096);
  const holder = spawn(process.execPath, ['-e', HOLDER, String(localAddress(lfd).port), String(count)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const fds: number[] = [];
  const ready = new Promise((r) => holder.stdout!.once('data', r));
  let exited: number | null = null;
  holder.once('exit', (code) => (exited = code ?? -1));
  while (fds.length < count) {
    if (exited !== null) throw new Error(`the holder exited (${exited}) with ${fds.length} of ${count} connections made`);
    const c = accept(lfd);
    if (c) fds.push(c.fd);
    else await new Promise((r) => setTimeout(r, 1));
  }
  await ready;
  close(lfd);
  fds.sort((a, b) => a - b);
  holder.stdin!.write('x'); // one client writes one byte; which fd became readable is found below
  const muxes: Muxes = { epInto: new Epoll(), epPoll: new Epoll(), sel: new DefaultSelector(), out: new Int32Array(2048) };
  const { epInto, epPoll, sel, out } = muxes;
  for (const fd of fds) {
    epInto.register(fd, constants.EPOLLIN);
    epPoll.register(fd, constants.EPOLLIN);
    sel.register(fd, EVENT_READ);
  }
  for (let i = 0; i < 500 && epInto.pollInto(out, 0) === 0; i++) await new Promise((r) => setTimeout(r, 2));
  const active = out[0];
  const c = startC(cloop, fds, active);
  const time = loops(muxes, active);
  const cNs: number[] = [];
  const ns: Record<Call, number[]> = { pollInto: [], poll: [], selector: [] };
  const ratios: Record<Call, number[]> = { pollInto: [], poll: [], selector: [] };
  try {
    // Round -1 warms up (JIT, caches) and is not recorded.
    for (let round = -1; round < rounds; round++) {
      let before = await c.time();
      if (round >= 0) cNs.push(before);
      for (const call of CALLS) {
        const t = time[call]();
        const after = await c.time();
        if (round >= 0) {
          ns[call].push(t);
          ratios[call].push(t / ((before + after) / 2));
          cNs.push(after);
        }
        before = after;
      }
    }
  } finally {
    c.child.stdin!.end();
    epInto.close();
    epPoll.close();
    sel.close();
    for (const fd of fds) close(fd);
    holder.stdin!.end();
  }
  const spread = (xs: number[]): [number, number, number] => [median(xs), quantile(xs, 0.25), quantile(xs, 0.75)];
  const best = (xs: number[]) => Math.min(...xs);
  const c0 = best(cNs);
  return {
    n,
    cNs: c0,
    ns: { pollInto: best(ns.pollInto), poll: best(ns.poll), selector: best(ns.selector) },
    ratio: { pollInto: best(ns.pollInto) / c0, poll: best(ns.poll) / c0, selector: best(ns.selector) / c0 },
    rounds: { pollInto: spread(ratios.pollInto), poll: spread(ratios.poll), selector: spread(ratios.selector) },
  };
}

const NAMES: Record<Call, string> = { pollInto: 'Epoll#pollInto', poll: 'Epoll#poll', selector: 'DefaultSelector.select' };

function print(r: Result, rounds: number): void {
  const parts = CALLS.map((call) => {
    const [m, lo, hi] = r.rounds[call];
    return `${NAMES[call]} ${r.ns[call].toFixed(0)} ns ${r.ratio[call].toFixed(2)}x (${m.toFixed(2)}x, ${lo.toFixed(2)}-${hi.toFixed(2)})`;
  });
  console.log(`N=${r.n}, fastest times; iomux / C (per round over ${rounds} rounds: median, p25-p75): C epoll_wait ${r.cNs.toFixed(0)} ns; ${parts.join('; ')}`);
}

/** Sets the bench's ratios beside ours. @returns whether all are within TOLERANCE. */
function compare(file: string, results: Result[]): boolean {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { cells: Cell[] };
  const find = (backend: string, api: string, n: number) =>
    doc.cells.find((c) => c.scenario === 'idle-scaling' && c.backend === backend && c.api === api && c.n === n && c.active === 1 && c.timeoutMs === 0);
  let ok = true;
  console.log(`against ${file} (idle-scaling, timeout 0): bench iomux / C-epoll vs this check's, allowed ${TOLERANCE * 100}% apart`);
  for (const r of results) {
    for (const call of CALLS) {
      const bench = find('epoll', BENCH_API[call], r.n);
      const benchR = bench ? ratio(bench, find('c-epoll', 'raw', r.n)) : NaN;
      const mine = r.ratio[call];
      const off = benchR / mine - 1;
      const pass = Math.abs(off) <= TOLERANCE;
      ok &&= pass;
      console.log(`  N=${r.n} ${NAMES[call].padEnd(22)} bench ${Number.isFinite(benchR) ? benchR.toFixed(2) : '-'}x  check ${mine.toFixed(2)}x  ` +
        `${Number.isFinite(off) ? `${off >= 0 ? '+' : ''}${(off * 100).toFixed(1)}%` : 'not in the file'}  ${pass ? 'ok' : 'OFF'}`);
    }
  }
  console.log(ok ? `PASS: every ratio within ${TOLERANCE * 100}%` : `FAIL: a ratio is more than ${TOLERANCE * 100}% off, or missing`);
  return ok;
}

/**
 * Measures one N in a process of its own (this file with --one), relaying what it prints: as in
 * the bench, a fixture's multiplexers are not reused for the next one. A DefaultSelector that
 * had watched N=1000 sockets and then N=10,000 measured 1.97-2.35x C here, against 1.82-1.84x
 * for one that only ever watched the 10,000.
 */
function inOwnProcess(n: number, rounds: number): Promise<Result> {
  const child = spawn(process.execPath, [...process.execArgv, __filename, String(n), '--rounds', String(rounds), '--one'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let result: Result | undefined;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.startsWith('RESULT ')) result = JSON.parse(line.slice(7)) as Result;
    else console.log(line);
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => (result && code === 0 ? resolve(result) : reject(new Error(`the check for N=${n} exited with ${code}`))));
  });
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: { rounds: { type: 'string' }, against: { type: 'string' }, one: { type: 'boolean' } },
    allowPositionals: true,
  });
  const sizes = positionals.length ? positionals.map(Number) : [1000, 10000];
  const rounds = values.rounds === undefined ? 81 : Number(values.rounds);
  if (!sizes.every((n) => Number.isInteger(n) && n > 0) || !Number.isInteger(rounds) || rounds < 1 || (values.one && sizes.length !== 1)) {
    console.error('usage: check-ratios [N ...] [--rounds R] [--against run.json]');
    return 2;
  }
  if (!values.one) {
    const results: Result[] = [];
    for (const n of sizes) results.push(await inOwnProcess(n, rounds));
    return values.against === undefined || compare(values.against, results) ? 0 : 1;
  }
  const { hard } = getNofileLimit();
  setNofileLimit(hard);
  const dir = mkdtempSync(path.join(tmpdir(), 'iomux-check-'));
  try {
    writeFileSync(path.join(dir, 'loop.c'), C_LOOP);
    const built = spawnSync('cc', ['-O2', '-o', path.join(dir, 'loop'), path.join(dir, 'loop.c')], { encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`cc failed: ${built.stderr}`);
    const r = await measure(sizes[0], path.join(dir, 'loop'), rounds);
    print(r, rounds);
    console.log(`RESULT ${JSON.stringify(r)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (err) => {
    console.error(err);
    process.exitCode = 1;
  },
);
