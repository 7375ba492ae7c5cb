'use strict';
/*
 * The peer process of the async benchmarks (bench/async/). It holds the client ends of the
 * measured process's sockets, so the measured process keeps exactly one fd per socket:
 *   argv: HOST IDLE_PORT IDLE_COUNT ACTIVE_PORT
 * It opens IDLE_COUNT idle connections to IDLE_PORT (Node's net, never written), then one
 * active connection to ACTIVE_PORT with the iomux addon, made blocking. On the active socket it
 * writes as fast as the measured process drains: for every ack byte it reads it writes one
 * 8-byte message holding process.hrtime.bigint() (CLOCK_MONOTONIC on Linux, the same clock in
 * every process) taken just before write(2). It stops at EOF and exits when stdin closes, so it
 * never outlives the bench.
 */
const net = require('node:net');
const path = require('node:path');
const native = require('node-gyp-build')(path.join(__dirname, '..', '..'));

const [host, idlePort, idleCount, activePort] = [
  process.argv[2],
  Number(process.argv[3]),
  Number(process.argv[4]),
  Number(process.argv[5]),
];
const idle = [];
// Connecting in batches keeps the listener's backlog (511) from overflowing: a dropped SYN
// costs a one-second retransmit.
const BATCH = 256;

function fail(err) {
  process.stderr.write(`async-bench peer: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
}

function connectOne() {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port: idlePort });
    sock.on('error', reject);
    sock.once('connect', () => {
      idle.push(sock);
      resolve();
    });
  });
}

/** Opens the active connection with the addon and waits (poll(2)) until it is connected. */
function connectActive() {
  const fd = native.connectTcp(host, activePort);
  const poll = new native.Poll();
  poll.register(fd, native.constants.POLLOUT);
  if (poll.pollInto(new Int32Array(2), 10000) === 0) throw new Error('active connection timed out');
  const err = native.socketError(fd);
  if (err) throw new Error(`active connection failed: ${err}`);
  native.setNonBlocking(fd, false);
  return fd;
}

/**
 * Ping-pong until EOF: a blocking read of ack bytes, then one write of as many timestamped
 * messages as there were acks. The measured process decides the window: with one ack per
 * message it is a strict ping-pong, with W acks up front W messages stay in flight.
 */
function pingPong(fd) {
  const ack = new Uint8Array(4096);
  const msg = new Uint8Array(ack.length * 8);
  const stamps = new BigInt64Array(msg.buffer);
  for (;;) {
    const n = native.read(fd, ack, 0, ack.length);
    if (n === 0 || n === null) break;
    const now = process.hrtime.bigint();
    for (let i = 0; i < n; i++) stamps[i] = now;
    for (let off = 0; off < n * 8; ) {
      const w = native.write(fd, msg, off, n * 8 - off);
      if (w === null || w <= 0) throw new Error('write on the blocking active socket failed');
      off += w;
    }
  }
  native.close(fd);
}

async function main() {
  for (let done = 0; done < idleCount; ) {
    const n = Math.min(BATCH, idleCount - done);
    const batch = [];
    for (let i = 0; i < n; i++) batch.push(connectOne());
    await Promise.all(batch);
    done += n;
  }
  const fd = connectActive();
  try {
    pingPong(fd);
  } catch (err) {
    // ECONNRESET when the measured process closes with an ack unread is a normal end.
    if (!(err && err.code === 'ECONNRESET')) throw err;
  }
}

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
main().catch(fail);
