/**
 * The async benchmarks' workload, measured side: `size` idle loopback TCP sockets and one active
 * one, one fd each in this process, whose client ends live in a peer process (peer.cjs). The
 * peer answers every ack byte written on the active socket with an 8-byte CLOCK_MONOTONIC
 * timestamp, so the active socket turns readable once per round trip.
 *
 * The bench's scaling fixture (bench/fixtures.ts) holds idle sockets the same way but has no
 * ping-pong peer, which is why this file exists beside it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { close, getNofileLimit, setNofileLimit } from '../../lib/fd';
import { Poll } from '../../lib/poll';
import { constants } from '../../lib/constants';
import { accept, listen, localAddress } from '../../lib/socket';

/** Fds kept free beside the workload for Node, libuv, the epoll fds and the peer's pipes. */
const HEADROOM = 200;
/** How long setup may wait for the peer's next connection before giving up. */
const ACCEPT_TIMEOUT_MS = 20_000;

/** The sockets of one measurement and the peer that holds their other ends. */
export interface PingPongFixture {
  /** The idle sockets' fds (never readable). */
  readonly idle: readonly number[];
  /** The active socket's fd: readable once per round trip. */
  readonly active: number;
  /** The peer's pid. */
  readonly peerPid: number;
  /**
   * Closes every fd (the peer then sees EOF and ends) and waits for the peer to exit.
   * @param fdsClosed - true when a mode already closed the fds (net.Socket owns them).
   */
  close(fdsClosed?: boolean): Promise<void>;
}

/** Raises the soft RLIMIT_NOFILE to the hard limit and checks that `size` sockets fit. */
export function checkNofile(size: number): void {
  const { soft, hard } = getNofileLimit();
  if (soft < hard) setNofileLimit(hard);
  const now = getNofileLimit().soft;
  if (size + HEADROOM > now) {
    throw new Error(`${size} idle sockets need RLIMIT_NOFILE >= ${size + HEADROOM}; it is ${now} (hard ${hard})`);
  }
}

/** Accepts `count` connections on a listening fd, waiting for them with poll(2). */
function acceptMany(listener: number, count: number, peer: ChildProcess): number[] {
  const fds: number[] = [];
  const poll = new Poll();
  poll.register(listener, constants.POLLIN);
  try {
    while (fds.length < count) {
      if (peer.exitCode !== null) throw new Error(`the peer exited (code ${peer.exitCode}) during setup`);
      if (poll.poll(ACCEPT_TIMEOUT_MS).length === 0) {
        throw new Error(`the peer made ${fds.length} of ${count} connections in ${ACCEPT_TIMEOUT_MS} ms`);
      }
      for (let c = accept(listener); c !== null && fds.length < count; c = accept(listener)) fds.push(c.fd);
    }
  } catch (err) {
    for (const fd of fds) close(fd);
    throw err;
  }
  return fds;
}

/** Options of openFixture(). */
export interface FixtureOptions {
  /** Number of idle sockets around the active one. */
  size: number;
  /** A command prefix for the peer, e.g. ['taskset', '-c', '1'] to pin it; none by default. */
  peerPrefix?: readonly string[];
}

/**
 * Starts the peer and accepts its connections: blocking, since nothing else runs yet.
 * @param options - size and the peer's command prefix.
 * @returns the fixture; close it when done.
 * @throws Error when the fds do not fit RLIMIT_NOFILE or the peer fails to connect.
 */
export function openFixture(options: FixtureOptions): PingPongFixture {
  checkNofile(options.size);
  const idleListener = listen({ host: '127.0.0.1', port: 0 });
  const activeListener = listen({ host: '127.0.0.1', port: 0 });
  const prefix = options.peerPrefix ?? [];
  const args = [
    ...prefix.slice(1),
    ...(prefix.length > 0 ? [process.execPath] : []),
    path.join(__dirname, 'peer.cjs'),
    '127.0.0.1',
    String(localAddress(idleListener).port),
    String(options.size),
    String(localAddress(activeListener).port),
  ];
  const peer = spawn(prefix.length > 0 ? prefix[0] : process.execPath, args, { stdio: ['pipe', 'inherit', 'inherit'] });
  const exited = new Promise<void>((resolve) => peer.once('exit', () => resolve()));
  try {
    const idle = acceptMany(idleListener, options.size, peer);
    let active: number;
    try {
      [active] = acceptMany(activeListener, 1, peer);
    } catch (err) {
      for (const fd of idle) close(fd);
      throw err;
    }
    return {
      idle,
      active,
      peerPid: peer.pid ?? -1,
      async close(fdsClosed = false) {
        if (!fdsClosed) {
          for (const fd of idle) close(fd);
          close(active);
        }
        peer.stdin?.end();
        const timer = setTimeout(() => peer.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      },
    };
  } catch (err) {
    peer.kill('SIGKILL');
    throw err;
  } finally {
    close(idleListener);
    close(activeListener);
  }
}
