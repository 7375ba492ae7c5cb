/**
 * The wake-up loops of the async benchmarks, one per way of waiting. Each one registers every
 * socket of the fixture, writes the first ack(s), then for every wake-up: notes the time,
 * reads the active socket, acks. They all do the same work per wake-up (drain.ts), so only the
 * way of waiting differs. This file holds iomux's ways; modes-node.ts the others.
 */
import { native, type NativeWaiter } from '../../lib/binding';
import { constants, EVENT_READ } from '../../lib/constants';
import { Epoll } from '../../lib/epoll';
import { canUse } from '../../lib/selectors/default';
import { EpollSelector } from '../../lib/selectors/epoll';
import { PollSelector } from '../../lib/selectors/poll';
import { Drain, onReadable, STALL_MS, type Mode } from './drain';
import { epollPackageMode, netMode } from './modes-node';

export type { Load, Mode } from './drain';

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
  label: 'iomux Waiter#wait(poll): poll(2) on the addon thread (selectAsync(poll) core)',
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
    const waiter = new native.Waiter();
    try {
      const drain = new Drain(fixture.active, load.window, load.oneMessage);
      drain.ack(recorder, load.window);
      for (;;) {
        const records = await threadedPoll(waiter, fds, count, STALL_MS, out);
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

/** One poll(2) wait on the waiter's thread (kind 0), as PollSelector#selectAsync runs it. */
function threadedPoll(waiter: NativeWaiter, fds: Int32Array, count: number, ms: number, out: Int32Array): Promise<number> {
  return new Promise((resolve, reject) => {
    waiter.wait(0, fds, count, ms, false, out, (err, records) => (err ? reject(err) : resolve(records)));
  });
}

type SelectorClass = typeof EpollSelector | typeof PollSelector;

function selectAsyncMode(backend: 'epoll' | 'poll', Cls: SelectorClass): Mode {
  return {
    name: `selectAsync:${backend}`,
    label: `iomux ${Cls.name}#selectAsync`,
    unavailable: () => (canUse(backend) ? null : `the ${backend} backend is not available here`),
    async run(fixture, recorder, load) {
      const sel = new Cls();
      try {
        for (const fd of fixture.idle) sel.register(fd, EVENT_READ);
        sel.register(fixture.active, EVENT_READ);
        const drain = new Drain(fixture.active, load.window, load.oneMessage);
        drain.ack(recorder, load.window);
        for (;;) {
          const ready = await sel.selectAsync(STALL_MS);
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

export const selectAsyncEpollMode = selectAsyncMode('epoll', EpollSelector);
export const selectAsyncPollMode = selectAsyncMode('poll', PollSelector);

/** Every mode, in table order. */
export const MODES: readonly Mode[] = [
  pollAsyncMode,
  selectAsyncEpollMode,
  selectAsyncPollMode,
  threadedPollMode,
  netMode,
  epollPackageMode,
];
