// Four worker_threads at once, each an echo server on its own DefaultSelector driven by
// selectAsync() (through events()), served by node:net clients on the main thread. Two workers
// are terminated while their wait is pending. Afterwards the process has the fds and threads it
// had before: the addon's epoll fds, wake-up fds and waiter threads die with their worker.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { close } from '../../lib/fd';
import { canUse } from '../../lib/selectors/default';
import { openFdCount } from '../helpers/fds';

const root = path.resolve(__dirname, '../..');
// Workers get plain CommonJS (`eval: true`) and do not go through vitest's transform: tsx's
// require hook, registered in the worker, loads the TypeScript sources as the tests see them.
const tsx = require.resolve('tsx/cjs/api', { paths: [root] });

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
require(workerData.tsx).register();
const lib = (name) => require(workerData.root + '/lib/' + name + '.ts');
const { DefaultSelector } = lib('selectors/default');
const { listen, accept, localAddress } = lib('socket');
const { read, write, close } = lib('fd');
const { EVENT_READ } = lib('constants');

const sel = new DefaultSelector();
const server = listen({ host: '127.0.0.1', port: 0 });
const owned = new Set([server]);
sel.register(server, EVENT_READ, 'server');
// The fds this worker owns, so that the test can release them if it terminates the worker.
const report = (waits) => parentPort.postMessage({ type: 'state', fds: [...owned], waits });
parentPort.on('message', (m) => m === 'stop' && sel.close());
// Only the pending wait keeps this worker alive: once the selector is closed, it exits.
parentPort.unref();
parentPort.postMessage({ type: 'ready', port: localAddress(server).port, backend: sel.backend });

(async () => {
  const buf = Buffer.alloc(4096);
  let waits = 0;
  for await (const [key] of sel.events()) {
    waits++;
    if (key.data === 'server') {
      for (let c; (c = accept(server)) !== null; ) {
        owned.add(c.fd);
        sel.register(c.fd, EVENT_READ, 'conn');
      }
    } else {
      const n = read(key.fd, buf);
      if (n === 0) {
        sel.unregister(key.fd);
        close(key.fd);
        owned.delete(key.fd);
      } else if (n !== null && write(key.fd, buf, 0, n) !== n) {
        throw new Error('short echo write');
      }
    }
    report(waits);
  }
  for (const fd of owned) close(fd);
  parentPort.postMessage({ type: 'done', waits });
})().catch((err) => {
  parentPort.postMessage({ type: 'error', message: String(err && err.stack) });
});
`;

interface State {
  port: number;
  backend: string;
  fds: number[];
  done: boolean;
  errors: string[];
}

function startWorker(backend: string | undefined): { worker: Worker; state: State; ready: Promise<void>; exited: Promise<number> } {
  const env = { ...process.env, IOMUX_BACKEND: backend ?? '' };
  const worker = new Worker(WORKER, { eval: true, workerData: { root, tsx }, env });
  const state: State = { port: 0, backend: '', fds: [], done: false, errors: [] };
  const ready = new Promise<void>((resolve, reject) => {
    worker.on('message', (m: { type: string; port: number; backend: string; fds: number[]; message: string }) => {
      if (m.type === 'ready') {
        state.port = m.port;
        state.backend = m.backend;
        resolve();
      } else if (m.type === 'state') state.fds = m.fds;
      else if (m.type === 'done') state.done = true;
      else if (m.type === 'error') state.errors.push(m.message);
    });
    worker.once('error', reject);
  });
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  return { worker, state, ready, exited };
}

/** Connects, sends `rounds` messages one after the other, and checks each echo. */
async function client(port: number, tag: string, rounds: number): Promise<net.Socket> {
  const sock = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject));
  for (let i = 0; i < rounds; i++) {
    const msg = `${tag}#${i};`;
    const echoed = new Promise<string>((resolve, reject) => {
      let got = '';
      const onData = (d: Buffer): void => {
        got += d.toString();
        if (got.length >= msg.length) {
          sock.off('data', onData);
          resolve(got);
        }
      };
      sock.on('data', onData).once('error', reject);
    });
    sock.write(msg);
    expect(await echoed).toBe(msg);
  }
  return sock;
}

const tasks = (): number => fs.readdirSync('/proc/self/task').length;

async function until(cond: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 20));
  return cond();
}

describe.skipIf(process.platform !== 'linux')('selectAsync in worker_threads', () => {
  it('echo servers on every backend at once (io_uring too where allowed), two terminated mid-wait: no crash, no fd or thread left', async () => {
    // Warm up what the main thread starts lazily (libuv's threadpool, the net module), so that
    // only the workers' own threads and fds are counted.
    await fs.promises.readFile(__filename);
    const fdsBefore = openFdCount();
    const tasksBefore = tasks();

    // Two workers on the platform default (epoll), one each on poll and select (a waiter thread),
    // and one on io_uring (Node's loop watching the ring fd) where the kernel allows it.
    const backends = [undefined, undefined, 'poll', 'select', 'io_uring'].filter((b) => b === undefined || canUse(b as 'poll'));
    const workers = backends.map(startWorker);
    await Promise.all(workers.map((w) => w.ready));
    expect(workers.map((w) => w.state.backend).slice(2)).toEqual(backends.slice(2));

    // Every worker serves three clients at once, all workers at the same time.
    const socks = await Promise.all(
      workers.flatMap((w, i) => [0, 1, 2].map((j) => client(w.state.port, `w${i}c${j}`, 5))),
    );

    // Terminate two workers while they wait: the first (the platform's default, epoll here: a
    // uv_poll handle and a held output buffer) and the poll one (a waiter thread). Their state
    // reports list their server and three connections, and nothing is ready for them.
    const pollIndex = backends.indexOf('poll');
    const victims = [workers[0], workers[pollIndex >= 0 ? pollIndex : workers.length - 1]];
    for (const victim of victims) expect(await until(() => victim.state.fds.length === 4)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 30));
    await Promise.all(victims.map((v) => v.worker.terminate()));
    expect(await Promise.all(victims.map((v) => v.exited))).toEqual([1, 1]);
    // Their raw sockets are plain numbers that no one will close now: the test does.
    for (const victim of victims) for (const fd of victim.state.fds) close(fd);

    // The others: clients hang up, then each server is told to stop and exits by itself.
    for (const s of socks) s.destroy();
    const others = workers.filter((w) => !victims.includes(w));
    expect(await until(() => others.every((w) => w.state.fds.length === 1))).toBe(true);
    for (const w of others) w.worker.postMessage('stop');
    expect(await Promise.all(others.map((w) => w.exited))).toEqual(others.map(() => 0));
    expect(others.every((w) => w.state.done)).toBe(true);
    expect(workers.flatMap((w) => w.state.errors)).toEqual([]);

    expect(await until(() => openFdCount() === fdsBefore)).toBe(true);
    expect(await until(() => tasks() === tasksBefore)).toBe(true);
  }, 60_000);
});
