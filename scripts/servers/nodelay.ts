/**
 * TCP_NODELAY's effect on request/response latency when a request goes out as two small
 * writes (a header, then a body), the pattern that meets Nagle's algorithm: the second write
 * waits for the ACK of the first, and the server, which has nothing to send until the body
 * arrives, delays that ACK (Linux: at least 40 ms). With TCP_NODELAY the body leaves at once.
 *
 *   npx tsx scripts/servers/nodelay.ts [--requests 100] [--rounds 5] [--warmup 20]
 *
 * One thread drives both ends over loopback through iomux (listen, connect, accept,
 * setsockopt, Poll); each round measures a fresh connection with Nagle on, then one with
 * TCP_NODELAY, and the table gives the median over rounds of each round's p50 and p90.
 */
import { parseArgs } from 'node:util';
import { accept, close, connect, constants, getsockopt, listen, localAddress, Poll, read, setsockopt, write } from '../../lib/index';

const HEADER = Buffer.alloc(16, 1);
const BODY = Buffer.alloc(100, 2);
const REPLY = Buffer.alloc(8, 3);

function waitFor(fd: number, events: number): void {
  const p = new Poll();
  p.register(fd, events);
  if (p.poll(5000).length === 0) throw new Error(`fd ${fd} not ready within 5 s`);
}

/** Reads exactly n bytes, waiting in poll(2) between reads. */
function readExactly(fd: number, n: number, buf: Buffer): void {
  for (let got = 0; got < n; ) {
    const r = read(fd, buf, got, n - got);
    if (r === 0) throw new Error('unexpected EOF');
    if (r === null) waitFor(fd, constants.POLLIN);
    else got += r;
  }
}

/** One connection, `count` requests after `warmup`; returns each request's round trip in µs. */
export function measure(nodelay: boolean, count: number, warmup: number): number[] {
  const lfd = listen({ port: 0 });
  const cfd = connect({ port: localAddress(lfd).port });
  waitFor(lfd, constants.POLLIN);
  const conn = accept(lfd)!;
  setsockopt(cfd, constants.IPPROTO_TCP, constants.TCP_NODELAY, nodelay);
  if (getsockopt(cfd, constants.IPPROTO_TCP, constants.TCP_NODELAY) !== nodelay) throw new Error('TCP_NODELAY did not stick');
  const buf = Buffer.alloc(256);
  const times: number[] = [];
  try {
    for (let i = 0; i < warmup + count; i++) {
      const t0 = process.hrtime.bigint();
      write(cfd, HEADER);
      write(cfd, BODY);
      readExactly(conn.fd, HEADER.length + BODY.length, buf);
      write(conn.fd, REPLY);
      readExactly(cfd, REPLY.length, buf);
      if (i >= warmup) times.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
  } finally {
    [cfd, conn.fd, lfd].forEach(close);
  }
  return times;
}

const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const median = (xs: number[]): number => pct(xs, 0.5);

function main(): void {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '100' },
      rounds: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '20' },
    },
  });
  const rounds = Number(values.rounds);
  const stats = { nagle: { p50: [] as number[], p90: [] as number[] }, nodelay: { p50: [] as number[], p90: [] as number[] } };
  for (let r = 0; r < rounds; r++) {
    for (const nodelay of [false, true]) {
      const t = measure(nodelay, Number(values.requests), Number(values.warmup));
      const s = nodelay ? stats.nodelay : stats.nagle;
      s.p50.push(pct(t, 0.5));
      s.p90.push(pct(t, 0.9));
    }
  }
  console.log(`request = ${HEADER.length}-byte write + ${BODY.length}-byte write, reply ${REPLY.length} bytes; loopback; ` +
    `${values.requests} requests per connection after ${values.warmup} warm-up, ${rounds} rounds (median of per-round values)\n`);
  console.log('| client socket | round trip p50 | p90 |');
  console.log('|---|---|---|');
  const us = (x: number): string => (x >= 1000 ? `${(x / 1000).toFixed(1)} ms` : `${x.toFixed(0)} µs`);
  console.log(`| Nagle (default) | ${us(median(stats.nagle.p50))} | ${us(median(stats.nagle.p90))} |`);
  console.log(`| TCP_NODELAY | ${us(median(stats.nodelay.p50))} | ${us(median(stats.nodelay.p90))} |`);
}

// Run as a script; test/raw/sockopt.test.ts imports measure() only.
if (require.main === module) main();
