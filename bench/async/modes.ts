/**
 * The wake-up loops of the async benchmarks, one per way of waiting. Each one registers every
 * socket of the fixture, writes the first ack, then for every answer: notes the time, drains
 * the active socket, writes the next ack. They all do the same work per round trip, so only
 * the way of waiting differs.
 */
import net from 'node:net';
import { createWaiter, threadedWait, WAIT_POLL } from '../../lib/async/threaded-wait';
import { constants } from '../../lib/constants';
import { Epoll } from '../../lib/epoll';
import { read, write } from '../../lib/fd';
import type { PingPongFixture } from './fixture';
import { MESSAGE_BYTES, type Recorder } from './recorder';

/** A wait that sees nothing for this long means the peer is gone: fail rather than hang. */
const STALL_MS = 10_000;

/** The traffic on the active socket. */
export interface Load {
  /** Messages in flight: 1 is a strict ping-pong. */
  window: number;
  /**
   * Read one message per wake-up, so that the socket stays readable (window > 1), instead of
   * everything there is. Node's net path always reads everything (libuv reads up to 64 KiB).
   */
  oneMessage: boolean;
}

/** One way of waiting: runs the ping-pong until the recorder is done. */
export interface Mode {
  readonly name: string;
  /** What the mode measures, for the table's legend. */
  readonly label: string;
  /** Why the mode cannot run here, or null when it can. */
  unavailable(): string | null;
  /** Runs the loop; `ownsFds` is true when it closed the fixture's fds itself. */
  run(fixture: PingPongFixture, recorder: Recorder, load: Load): Promise<{ ownsFds: boolean }>;
}

/** Reads the active socket's messages and acks them, reusing its buffers. */
class Drain {
  readonly #buf: Uint8Array;
  readonly #view: BigInt64Array;
  readonly #acks: Uint8Array;
  readonly #once: boolean;
  readonly #ackBatch: number;
  #unacked = 0;
  /** Messages the last read() got. */
  count = 0;

  /**
   * @param fd - the active socket.
   * @param window - messages in flight (the first ack).
   * @param oneMessage - read one message per wake-up and leave the rest readable.
   */
  constructor(
    private readonly fd: number,
    window: number,
    oneMessage: boolean,
  ) {
    this.#buf = new Uint8Array(oneMessage ? MESSAGE_BYTES : 4096);
    this.#view = new BigInt64Array(this.#buf.buffer);
    this.#once = oneMessage;
    // Acking every message would cost a loopback TCP send per wake-up, more than the wait
    // itself: with a window, acks go out in batches of a quarter window.
    this.#ackBatch = Math.max(1, window >> 2);
    this.#acks = new Uint8Array(Math.max(window, this.#buf.length / MESSAGE_BYTES)).fill(1);
  }

  /**
   * Reads what is there, as libuv does: one read(2), and another only when the buffer came
   * back full (never in one-message mode). Returns the newest message's stamp, or -1n when
   * nothing was there.
   */
  read(): bigint {
    let stamp = -1n;
    this.count = 0;
    for (;;) {
      const n = read(this.fd, this.#buf);
      if (n === null) break;
      if (n === 0) throw new Error('the peer closed the active socket');
      if (n % MESSAGE_BYTES !== 0) throw new Error(`partial message: ${n} bytes`);
      stamp = this.#view[n / MESSAGE_BYTES - 1];
      this.count += n / MESSAGE_BYTES;
      if (this.#once || n < this.#buf.length) break;
    }
    return stamp;
  }

  /** Writes `count` ack bytes: the peer answers each with one message. */
  ack(recorder: Recorder, count: number): void {
    recorder.acked();
    if (write(this.fd, this.#acks, 0, count) !== count) throw new Error('the acks did not fit the socket buffer');
  }

  /** Acks the messages read so far once a batch of them is due. */
  ackRead(recorder: Recorder): void {
    this.#unacked += this.count;
    if (this.#unacked < this.#ackBatch) return;
    this.ack(recorder, this.#unacked);
    this.#unacked = 0;
  }
}

/** Handles one readiness of the active socket; true when the run is over. */
function onReadable(at: bigint, drain: Drain, recorder: Recorder): boolean {
  const stamp = drain.read();
  if (stamp < 0n) return false;
  recorder.wake(at, stamp, drain.count);
  if (recorder.done) return true;
  drain.ackRead(recorder);
  return false;
}

const EPOLLIN = constants.EPOLLIN ?? 0;
const POLLIN = constants.POLLIN;

/** iomux Epoll#pollAsync: Node's loop watches the epoll fd, no thread. */
export const pollAsyncMode: Mode = {
  name: 'pollAsync',
  label: 'iomux Epoll#pollAsync (uv_poll_t on the epoll fd)',
  unavailable: () => (process.platform === 'linux' ? null : 'epoll is Linux only'),
  async run(fixture, recorder, load) {
    const ep = new Epoll();
    try {
      for (const fd of fixture.idle) ep.register(fd, EPOLLIN);
      ep.register(fixture.active, EPOLLIN);
      const drain = new Drain(fixture.active, load.window, load.oneMessage);
      drain.ack(recorder, load.window);
      for (;;) {
        const events = await ep.pollAsync(STALL_MS);
        const at = process.hrtime.bigint();
        if (events.length === 0) throw new Error(`no answer in ${STALL_MS} ms`);
        for (const [fd] of events) {
          if (fd === fixture.active && onReadable(at, drain, recorder)) return { ownsFds: false };
        }
      }
    } finally {
      ep.close();
    }
  },
};

/** iomux's addon-owned thread running poll(2) over every socket, woken through its wake-up fd. */
export const threadedPollMode: Mode = {
  name: 'threadedWait:poll',
  label: 'iomux threadedWait(WAIT_POLL): poll(2) on the addon thread (selectAsync(poll) core)',
  unavailable: () => null,
  async run(fixture, recorder, load) {
    const count = fixture.idle.length + 1;
    const fds = new Int32Array(2 * count);
    fixture.idle.forEach((fd, i) => {
      fds[2 * i] = fd;
      fds[2 * i + 1] = POLLIN;
    });
    fds[2 * count - 2] = fixture.active;
    fds[2 * count - 1] = POLLIN;
    const out = new Int32Array(64);
    const waiter = createWaiter();
    try {
      const drain = new Drain(fixture.active, load.window, load.oneMessage);
      drain.ack(recorder, load.window);
      for (;;) {
        const records = await threadedWait(waiter, WAIT_POLL, fds, count, STALL_MS, out);
        const at = process.hrtime.bigint();
        if (records === 0) throw new Error(`no answer in ${STALL_MS} ms`);
        for (let i = 0; i < records; i++) {
          if (out[2 * i] === fixture.active && onReadable(at, drain, recorder)) return { ownsFds: false };
        }
      }
    } finally {
      waiter.close();
    }
  },
};

/** The selectors' shape this file needs, loaded at run time: selectAsync lands separately. */
interface SelectorLike {
  register(fd: number, events: number): unknown;
  selectAsync?(timeout?: number | null): Promise<Array<[{ fd: number }, number]>>;
  close(): void;
}

type SelectorClass = new () => SelectorLike;

function loadSelector(className: string): SelectorClass | string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require('../../lib/index') as Record<string, unknown>;
    const cls = mod[className] as SelectorClass | undefined;
    if (typeof cls !== 'function') return `${className} is not in lib/index.ts yet`;
    if (typeof cls.prototype.selectAsync !== 'function') return `${className}#selectAsync is not wired yet`;
    return cls;
  } catch (err) {
    return `lib/index.ts did not load: ${(err as Error).message}`;
  }
}

function selectAsyncMode(backend: 'epoll' | 'poll', className: string): Mode {
  return {
    name: `selectAsync:${backend}`,
    label: `iomux ${className}#selectAsync`,
    unavailable() {
      const cls = loadSelector(className);
      return typeof cls === 'string' ? cls : null;
    },
    async run(fixture, recorder, load) {
      const Cls = loadSelector(className) as SelectorClass;
      const sel = new Cls();
      try {
        for (const fd of fixture.idle) sel.register(fd, 1);
        sel.register(fixture.active, 1);
        const drain = new Drain(fixture.active, load.window, load.oneMessage);
        drain.ack(recorder, load.window);
        for (;;) {
          const ready = await sel.selectAsync!(STALL_MS);
          const at = process.hrtime.bigint();
          if (ready.length === 0) throw new Error(`no answer in ${STALL_MS} ms`);
          for (const [key] of ready) {
            if (key.fd === fixture.active && onReadable(at, drain, recorder)) return { ownsFds: false };
          }
        }
      } finally {
        sel.close();
      }
    },
  };
}

export const selectAsyncEpollMode = selectAsyncMode('epoll', 'EpollSelector');
export const selectAsyncPollMode = selectAsyncMode('poll', 'PollSelector');

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

/** Every mode, in table order. */
export const MODES: readonly Mode[] = [
  pollAsyncMode,
  selectAsyncEpollMode,
  selectAsyncPollMode,
  threadedPollMode,
  netMode,
  epollPackageMode,
];
