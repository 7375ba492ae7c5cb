/**
 * What the wait statistics cost on the hot path. Counting is always on (a few additions per
 * call); timing (two clock reads around the syscall and two around the call) is off unless
 * setStatsTiming(true). This measures the same zero-timeout wait with timing off and on, in
 * alternating blocks so that a neighbour's load falls on both sides alike.
 */
import { constants } from '../../lib/constants';
import { Epoll } from '../../lib/epoll';
import { close, socketpair, write } from '../../lib/fd';
import { Poll } from '../../lib/poll';

/** The cost of timing for one kind of call. */
export interface StatsOverhead {
  object: 'Epoll' | 'Poll';
  call: string;
  /** fds registered (one of them readable). */
  fds: number;
  /** Median over the blocks, ns per call. */
  nsPerCallOff: number;
  nsPerCallOn: number;
  /** (on - off) / off of the medians, in percent. */
  overheadPercent: number;
  /** The fastest block each way: the least disturbed by neighbours. */
  minNsPerCallOff: number;
  minNsPerCallOn: number;
  /** (on - off) / off of the fastest blocks, in percent. */
  minOverheadPercent: number;
}

interface Samples {
  off: number[];
  on: number[];
}

interface Timed {
  setStatsTiming(on: boolean): void;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** ns per call of `call`, for `blocks` alternating blocks of about `blockMs` each way. */
function measure(target: Timed, call: () => void, blocks: number, blockMs: number): Samples {
  const off: number[] = [];
  const on: number[] = [];
  // Warm up, and size the blocks from the time the warm-up took.
  const t = process.hrtime.bigint();
  for (let i = 0; i < 1000; i++) call();
  const calls = Math.max(100, Math.ceil((blockMs * 1e6 * 1000) / Number(process.hrtime.bigint() - t)));
  for (let b = 0; b < 2 * blocks; b++) {
    const timing = b % 2 === 1;
    target.setStatsTiming(timing);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) call();
    (timing ? on : off).push(Number(process.hrtime.bigint() - t0) / calls);
  }
  target.setStatsTiming(false);
  return { off, on };
}

function row(object: StatsOverhead['object'], call: string, fds: number, s: Samples): StatsOverhead {
  const [off, on] = [median(s.off), median(s.on)];
  const [minOff, minOn] = [Math.min(...s.off), Math.min(...s.on)];
  return {
    object,
    call,
    fds,
    nsPerCallOff: off,
    nsPerCallOn: on,
    overheadPercent: ((on - off) / off) * 100,
    minNsPerCallOff: minOff,
    minNsPerCallOn: minOn,
    minOverheadPercent: ((minOn - minOff) / minOff) * 100,
  };
}

/**
 * Measures Epoll (where the platform has it) and Poll over `idle` idle socketpairs plus one
 * readable one.
 * @param idle - idle fds around the readable one.
 * @param blocks - blocks per setting (the median is kept).
 * @param blockMs - about how long a block lasts.
 * @returns one row per kind of call.
 */
export function measureStatsOverhead(idle: number, blocks: number, blockMs: number): StatsOverhead[] {
  const pairs: Array<[number, number]> = [];
  const rows: StatsOverhead[] = [];
  try {
    for (let i = 0; i <= idle; i++) pairs.push(socketpair({ nonblocking: true }));
    write(pairs[idle][1], new Uint8Array([1]));
    const out = new Int32Array(64);
    if (process.platform === 'linux') {
      const ep = new Epoll();
      try {
        for (const [fd] of pairs) ep.register(fd, constants.EPOLLIN);
        rows.push(row('Epoll', 'pollInto(out, 0)', pairs.length, measure(ep, () => ep.pollInto(out, 0), blocks, blockMs)));
        rows.push(row('Epoll', 'poll(0)', pairs.length, measure(ep, () => ep.poll(0), blocks, blockMs)));
      } finally {
        ep.close();
      }
    }
    const p = new Poll();
    for (const [fd] of pairs) p.register(fd, constants.POLLIN);
    rows.push(row('Poll', 'pollInto(out, 0)', pairs.length, measure(p, () => p.pollInto(out, 0), blocks, blockMs)));
  } finally {
    for (const [a, b] of pairs) {
      close(a);
      close(b);
    }
  }
  return rows;
}
