/**
 * An independent check of the bench's epoll ratios: its own sockets, its own C loop, its own
 * batch timing (fixed k, performance.now()), nothing shared with bench/runner.ts, timing.ts,
 * fixtures.ts or peers/. Prints, per N, iomux Epoll#pollInto(), Epoll#poll() and
 * DefaultSelector.select() over C epoll_wait on the same sockets, to set beside the bench's
 * "iomux / C floor" matrix of a run made at the same time.
 *
 * usage: npx tsx bench/check-ratios.ts [N ...]      (default 1000 10000; Linux, needs cc)
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { constants, EVENT_READ } from '../lib/constants';
import { Epoll } from '../lib/epoll';
import { close, getNofileLimit, setNofileLimit } from '../lib/fd';
import { DefaultSelector } from '../lib/selectors/default';
import { accept, listen, localAddress } from '../lib/socket';

const C_LOOP = `
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }
static int cmp(const void *a, const void *b) { double x = *(double *)a, y = *(double *)b; return x < y ? -1 : x > y; }
int main(int argc, char **argv) {
  FILE *f = fopen(argv[1], "r");
  int k = atoi(argv[2]), batches = atoi(argv[3]), active = atoi(argv[4]), fd;
  int ep = epoll_create1(0);
  while (fscanf(f, "%d", &fd) == 1) {
    struct epoll_event e = {.events = EPOLLIN, .data.fd = fd};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0) { perror("epoll_ctl"); return 1; }
  }
  struct epoll_event evs[1024];
  double *s = malloc(sizeof(double) * batches);
  for (int b = -batches / 5; b < batches; b++) {
    double t0 = now();
    for (int i = 0; i < k; i++) {
      int n = epoll_wait(ep, evs, 1024, 0);
      if (n != 1 || evs[0].data.fd != active) { fprintf(stderr, "wrong fds ready\\n"); return 2; }
    }
    if (b >= 0) s[b] = (now() - t0) / k;
  }
  qsort(s, batches, sizeof(double), cmp);
  printf("%.1f\\n", s[batches / 2]);
  return 0;
}`;

const HOLDER = `
const net = require('net'); const [port, count] = process.argv.slice(1).map(Number); const socks = [];
(async () => { for (let i = 0; i < count; i += 200) await Promise.all(Array.from({ length: Math.min(200, count - i) }, () =>
  new Promise((r) => { const s = net.connect(port, '127.0.0.1', () => r()); s.on('error', () => {}); socks.push(s); })));
  process.stdout.write('ok\\n'); process.stdin.on('data', () => socks[socks.length - 1].write('x')); process.stdin.on('end', () => process.exit(0)); })();`;

/** Median ns per call of `batches` batches of k calls (a fifth more first, unrecorded). */
function timeIt(fn: () => void, k: number, batches: number): number {
  const s: number[] = [];
  for (let b = -Math.floor(batches / 5); b < batches; b++) {
    const t0 = performance.now();
    for (let i = 0; i < k; i++) fn();
    if (b >= 0) s.push(((performance.now() - t0) * 1e6) / k);
  }
  return s.sort((a, b) => a - b)[batches >> 1];
}

async function measure(n: number, cloop: string): Promise<void> {
  const lfd = listen({ host: '127.0.0.1', port: 0 }, 4096);
  const holder = spawn(process.execPath, ['-e', HOLDER, String(localAddress(lfd).port), String(n)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const fds: number[] = [];
  const ready = new Promise((r) => holder.stdout!.once('data', r));
  while (fds.length < n) {
    const c = accept(lfd);
    if (c) fds.push(c.fd);
    else await new Promise((r) => setTimeout(r, 1));
  }
  await ready;
  close(lfd);
  fds.sort((a, b) => a - b);
  holder.stdin!.write('x'); // one client writes one byte; which fd became readable is found below
  const ep = new Epoll();
  for (const fd of fds) ep.register(fd, constants.EPOLLIN);
  const out = new Int32Array(2048);
  for (let i = 0; i < 500 && ep.pollInto(out, 0) === 0; i++) await new Promise((r) => setTimeout(r, 2));
  const active = out[0];
  const k = 1000;
  const batches = 30;
  const sel = new DefaultSelector();
  for (const fd of fds) sel.register(fd, EVENT_READ);
  const calls = {
    pollInto: () => {
      if (ep.pollInto(out, 0) !== 1 || out[0] !== active) throw new Error('wrong fds ready');
    },
    poll: () => {
      const r = ep.poll(0, 1024);
      if (r.length !== 1 || r[0][0] !== active) throw new Error('wrong fds ready');
    },
    selector: () => {
      const r = sel.select(0);
      if (r.length !== 1 || r[0][0].fd !== active) throw new Error('wrong fds ready');
    },
  };
  // The C loop inherits the sockets at the same numbers (a stdio entry equal to its index).
  const stdio: Array<'pipe' | 'ignore' | 'inherit' | number> = ['ignore', 'pipe', 'inherit'];
  const mine = new Set(fds);
  for (let fd = 3; fd <= fds[fds.length - 1]; fd++) stdio.push(mine.has(fd) ? fd : 'ignore');
  const list = path.join(path.dirname(cloop), 'fds.txt');
  writeFileSync(list, fds.join('\n'));
  // Rounds in turn (C, then each iomux call), so that a busy spell of the machine hits all;
  // the median of the rounds' medians is reported.
  const rounds: Record<'c' | keyof typeof calls, number[]> = { c: [], pollInto: [], poll: [], selector: [] };
  for (let round = 0; round < 7; round++) {
    const c = spawnSync(cloop, [list, String(k), String(batches), String(active)], { stdio, encoding: 'utf8' });
    if (c.status !== 0) throw new Error(`C loop failed (${c.status})`);
    rounds.c.push(Number(c.stdout.trim()));
    for (const name of ['pollInto', 'poll', 'selector'] as const) rounds[name].push(timeIt(calls[name], k, batches));
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const cNs = med(rounds.c);
  const iomux = { pollInto: med(rounds.pollInto), poll: med(rounds.poll), selector: med(rounds.selector) };
  sel.close();
  ep.close();
  for (const fd of fds) close(fd);
  holder.stdin!.end();
  const r = (x: number) => `${(x / cNs).toFixed(2)}x`;
  console.log(
    `N=${n}: C epoll_wait ${cNs.toFixed(0)} ns; iomux pollInto ${iomux.pollInto.toFixed(0)} ns (${r(iomux.pollInto)}), ` +
      `Epoll#poll ${iomux.poll.toFixed(0)} ns (${r(iomux.poll)}), DefaultSelector.select ${iomux.selector.toFixed(0)} ns (${r(iomux.selector)})`,
  );
}

async function main(): Promise<void> {
  const { hard } = getNofileLimit();
  setNofileLimit(hard);
  const sizes = process.argv.slice(2).map(Number);
  const dir = mkdtempSync(path.join(tmpdir(), 'iomux-check-'));
  try {
    writeFileSync(path.join(dir, 'loop.c'), C_LOOP);
    const built = spawnSync('cc', ['-O2', '-o', path.join(dir, 'loop'), path.join(dir, 'loop.c')], { encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`cc failed: ${built.stderr}`);
    for (const n of sizes.length ? sizes : [1000, 10000]) await measure(n, path.join(dir, 'loop'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
