/**
 * The wake-up loops that do not use iomux to wait: Node's own net path and the `epoll` npm
 * package, on the same fixture and the same traffic as the iomux loops (modes.ts).
 */
import net from 'node:net';
import { Drain, onReadable, STALL_MS, type Mode } from './drain';
import { MESSAGE_BYTES } from './recorder';

/** Node's own path: net.Socket on the same fds, 'data' events from libuv's epoll. */
export const netMode: Mode = {
  name: 'net',
  label: "Node's net.Socket 'data' event (libuv epoll)",
  unavailable: () => null,
  run(fixture, recorder, load) {
    // Every socket goes to libuv, as iomux gets every socket: same kernel-side load.
    const idle = fixture.idle.map((fd) => new net.Socket({ fd, readable: true, writable: true }));
    const sock = new net.Socket({ fd: fixture.active, readable: true, writable: true });
    sock.setNoDelay(true);
    const buf = new Uint8Array(8);
    const view = new BigInt64Array(buf.buffer);
    const acks = Buffer.alloc(Math.max(load.window, 65536 / MESSAGE_BYTES), 1);
    return new Promise((resolve, reject) => {
      let stall = setTimeout(() => finish(new Error(`no answer in ${STALL_MS} ms`)), STALL_MS);
      const finish = (err?: Error): void => {
        clearTimeout(stall);
        sock.destroy();
        for (const s of idle) s.destroy();
        if (err) reject(err);
        else resolve({ ownsFds: true });
      };
      sock.on('error', finish);
      sock.on('end', () => finish(new Error('the peer closed the active socket')));
      sock.on('data', (chunk: Buffer) => {
        const at = process.hrtime.bigint();
        if (chunk.length % MESSAGE_BYTES !== 0) {
          finish(new Error(`partial message: ${chunk.length} bytes`));
          return;
        }
        const count = chunk.length / MESSAGE_BYTES;
        buf.set(chunk.subarray(chunk.length - MESSAGE_BYTES));
        recorder.wake(at, view[0], count);
        if (recorder.done) {
          finish();
          return;
        }
        stall.refresh();
        recorder.acked();
        sock.write(acks.subarray(0, count));
      });
      recorder.acked();
      sock.write(acks.subarray(0, load.window));
    });
  },
};

/** The `epoll` npm package's shape (v4): a thread waits and calls back once per loop turn. */
interface EpollPackage {
  Epoll: {
    new (cb: (err: Error | null, fd: number, events: number) => void): {
      add(fd: number, events: number): unknown;
      close(): unknown;
    };
    EPOLLIN: number;
  };
}

function loadEpollPackage(): EpollPackage | string {
  if (process.platform !== 'linux') return 'the epoll package is Linux only';
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require('epoll') as EpollPackage;
    if (typeof mod.Epoll !== 'function') return 'the epoll package loaded without an Epoll class';
    return mod;
  } catch (err) {
    return `the optional dependency epoll did not load (${(err as Error).message.split('\n')[0]})`;
  }
}

/** The `epoll` npm package (Julusian/node-epoll 4.0.2). */
export const epollPackageMode: Mode = {
  name: 'epoll-pkg',
  label: 'npm epoll 4.0.2 (epoll_wait on a thread, one event per callback)',
  unavailable() {
    const mod = loadEpollPackage();
    return typeof mod === 'string' ? mod : null;
  },
  run(fixture, recorder, load) {
    const { Epoll: PkgEpoll } = loadEpollPackage() as EpollPackage;
    const drain = new Drain(fixture.active, load.window, load.oneMessage);
    return new Promise((resolve, reject) => {
      let ended = false;
      const stall = setTimeout(() => finish(new Error(`no answer in ${STALL_MS} ms`)), STALL_MS);
      const finish = (err?: Error): void => {
        if (ended) return;
        ended = true;
        clearTimeout(stall);
        poller.close();
        if (err) reject(err);
        else resolve({ ownsFds: false });
      };
      const poller = new PkgEpoll((err, fd) => {
        const at = process.hrtime.bigint();
        if (ended) return;
        if (err) return finish(err);
        try {
          if (fd === fixture.active && onReadable(at, drain, recorder)) return finish();
          stall.refresh();
        } catch (e) {
          finish(e as Error);
        }
      });
      for (const fd of fixture.idle) poller.add(fd, PkgEpoll.EPOLLIN);
      poller.add(fixture.active, PkgEpoll.EPOLLIN);
      drain.ack(recorder, load.window);
    });
  },
};
