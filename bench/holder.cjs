'use strict';
/*
 * The benchmark's socket holder: a child process that opens client ends of the workload's TCP
 * connections and keeps them, so that the measured process holds exactly one fd per socket.
 * The bench starts as many holders as their fd limit needs (bench/holders.ts). It speaks a line
 * protocol on stdin/stdout:
 *   connect HOST PORT COUNT [LOCAL]  -> opens COUNT connections (from source address LOCAL when
 *                                       given), answers "connected TOTAL"
 *   write ADDR:PORT ...              -> writes one byte on those of the connections with these
 *                                       local addresses that this holder has (the fixture asks
 *                                       every holder and then checks what turned readable),
 *                                       answers "written N"
 *   rss                              -> answers "rss BYTES" (this process's resident memory)
 * It exits when stdin closes, so it never outlives the bench.
 */
const net = require('node:net');
const readline = require('node:readline');

const byAddress = new Map();
// Connecting in batches keeps the listener's backlog from overflowing (a dropped SYN costs a
// one-second retransmit), while the bench accepts on the other side.
const BATCH = 256;

function fail(err) {
  process.stdout.write(`error ${String(err && err.message ? err.message : err).replace(/\n/g, ' ')}\n`);
  process.exit(1);
}

function connectOne(host, port, localAddress) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(localAddress ? { host, port, localAddress } : { host, port });
    sock.setNoDelay(true);
    sock.on('error', reject);
    sock.once('connect', () => {
      byAddress.set(`${sock.localAddress}:${sock.localPort}`, sock);
      resolve();
    });
  });
}

async function connectMany(host, port, count, localAddress) {
  for (let done = 0; done < count; ) {
    const n = Math.min(BATCH, count - done);
    const batch = [];
    for (let i = 0; i < n; i++) batch.push(connectOne(host, port, localAddress));
    await Promise.all(batch);
    done += n;
  }
  process.stdout.write(`connected ${byAddress.size}\n`);
}

async function writeSome(keys) {
  const mine = keys.map((key) => byAddress.get(key)).filter(Boolean);
  await Promise.all(
    mine.map((sock) => new Promise((resolve, reject) => sock.write(Buffer.from('x'), (err) => (err ? reject(err) : resolve())))),
  );
  process.stdout.write(`written ${mine.length}\n`);
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const [cmd, ...args] = line.trim().split(/\s+/);
  if (cmd === 'connect') connectMany(args[0], Number(args[1]), Number(args[2]), args[3]).catch(fail);
  else if (cmd === 'write') writeSome(args).catch(fail);
  else if (cmd === 'rss') process.stdout.write(`rss ${process.memoryUsage.rss()}\n`);
  else fail(new Error(`unknown command ${cmd}`));
});
rl.on('close', () => process.exit(0));
