/** The echo scenario's table: msgs/s, round trip and server CPU per message, with ratios. */
import type { EchoInfo, EchoRow } from '../echo/types';
import { grid } from './table';

const fmt = (x: number, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : '-');

/** The rows of one (C, A) cell against the C epoll server and Node net. */
export function echoTable(echo: EchoInfo): string {
  const cells = new Map<string, EchoRow[]>();
  for (const r of echo.rows) {
    const k = `${r.conns}|${r.active}`;
    if (!cells.has(k)) cells.set(k, []);
    cells.get(k)!.push(r);
  }
  const rows: string[][] = [['server', 'C', 'A', 'msgs/s', 'xC', 'x net', 'p50 µs', 'p99 µs', 'CPU µs/msg', 'msgs']];
  for (const group of cells.values()) {
    const c = group.find((r) => r.server === 'c epoll');
    const net = group.find((r) => r.server === 'node net');
    for (const r of group) {
      rows.push([
        r.server,
        String(r.conns),
        String(r.active),
        fmt(r.msgsPerSec),
        c ? `${fmt(r.msgsPerSec / c.msgsPerSec, 2)}x` : '-',
        net ? `${fmt(r.msgsPerSec / net.msgsPerSec, 2)}x` : '-',
        fmt(r.p50Us, 1),
        fmt(r.p99Us, 1),
        fmt(r.cpuUsPerMsg, 2),
        String(r.msgs),
      ]);
    }
  }
  const size = echo.rows[0]?.size ?? 0;
  return (
    `== echo: single-threaded echo servers, ${size}-byte messages, C connections of which A ping-pong, ` +
    `driven by a C load generator (bench/echo/loadgen.c); ${echo.measureMs} ms per cell; every echoed byte checked; ` +
    `CPU = the server's user + system time per message; ${echo.seconds.toFixed(0)} s in all\n` +
    grid(rows) +
    '\n'
  );
}
