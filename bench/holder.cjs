'use strict';
/*
 * The benchmark's socket holder: a child process that opens the client ends of the workload's
 * TCP connections and keeps them, so that the measured process holds exactly one fd per socket.
 * It speaks a line protocol on stdin/stdout (see bench/fixtures.ts):
 *   connect HOST PORT COUNT  -> opens COUNT connections, answers "connected COUNT"
 *   write PORT PORT ...      -> writes one byte on the connections with those local ports,
 *                               answers "written N"
 * It exits when stdin closes, so it never outlives the bench.
 */
const net = require('node:net');
const readline = require('node:readline');

const byPort = new Map();
// Connecting in batches keeps the listener's backlog from overflowing (a dropped SYN costs a
// one-second retransmit), while the bench accepts on the other side.
const BATCH = 256;

function fail(err) {
  process.stdout.write(`error ${String(err && err.message ? err.message : err).replace(/\n/g, ' ')}\n`);
  process.exit(1);
}

function connectOne(host, port) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    sock.setNoDelay(true);
    sock.on('error', reject);
    sock.once('connect', () => {
      byPort.set(sock.localPort, sock);
      resolve();
    });
  });
}

async function connectMany(host, port, count) {
  for (let done = 0; done < count; ) {
    const n = Math.min(BATCH, count - done);
    const batch = [];
    for (let i = 0; i < n; i++) batch.push(connectOne(host, port));
    await Promise.all(batch);
    done += n;
  }
  process.stdout.write(`connected ${byPort.size}\n`);
}

async function writeOne(ports) {
  await Promise.all(
    ports.map(
      (p) =>
        new Promise((resolve, reject) => {
          const sock = byPort.get(p);
          if (!sock) return reject(new Error(`no connection with local port ${p}`));
          sock.write(Buffer.from('x'), (err) => (err ? reject(err) : resolve()));
        }),
    ),
  );
  process.stdout.write(`written ${ports.length}\n`);
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const [cmd, ...args] = line.trim().split(/\s+/);
  if (cmd === 'connect') connectMany(args[0], Number(args[1]), Number(args[2])).catch(fail);
  else if (cmd === 'write') writeOne(args.map(Number)).catch(fail);
  else fail(new Error(`unknown command ${cmd}`));
});
rl.on('close', () => process.exit(0));
