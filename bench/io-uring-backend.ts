/**
 * io_uring in the benchmark (Linux, where io_uring_setup works): IoUring's wait() (the raw
 * series) and waitInto() (pollInto), and IoUringSelector.
 *
 * Multishot poll is edge-like: a socket whose byte stays unread is reported once, not on every
 * wait (measured; see docs/benchmark.md). The bench's waits must report the active sockets on
 * every call, as epoll_wait and poll do, so the raw series use IoUring in level mode: one-shot
 * polls, each re-armed when it completes and submitted with the next wait, where it completes
 * again at once while the socket stays readable. IoUringSelector works the same way. The C
 * floor (bench/peers/io_uring.c) makes the same requests on a ring of the same size.
 */
import { constants, EVENT_READ } from '../lib/constants';
import { IoUring } from '../lib/io-uring';
import { ioUringSupport } from '../lib/io-uring-support';
import { createSelector } from '../lib/selectors/default';
import { activeTable, type BenchBackend, keep, wrongFds } from './backends';

/**
 * SQ entries for calls that queue up to 2 * maxReady SQEs with `registered` polls in flight, as
 * uring_entries() in bench/peers/io_uring.c: also registered / 2 (up to 4096), because the
 * kernel finds the request a POLL_REMOVE names in a hash of CQ entries / 32 buckets (2 to 256).
 */
export function ringEntries(maxReady: number, registered: number): number {
  let p = 1;
  while (p < Math.max(256, 2 * maxReady, Math.min(Math.floor(registered / 2), 4096))) p *= 2;
  return Math.min(p, 32768);
}

const POLLIN = constants.POLLIN;

function ring(maxReady: number, registered: number): IoUring {
  return new IoUring({ entries: ringEntries(maxReady, registered), level: true });
}

export const ioUringBackend: BenchBackend = {
  name: 'io_uring',
  apis: ['raw', 'pollInto', 'selectors'],
  churnApis: ['raw', 'selectors'],
  wait(api, fds, active, timeoutMs) {
    const isActive = activeTable(fds, active);
    if (api === 'selectors') {
      const sel = keep('io_uring-selector', fds, () => createSelector('io_uring'), (o, fd) => o.register(fd, EVENT_READ), (o) => o.close());
      return {
        fn() {
          const ready = sel.select(timeoutMs);
          if (ready.length !== active) wrongFds(ready.length, active);
          for (let i = 0; i < ready.length; i++) if (isActive[ready[i][0].fd] !== 1) wrongFds(active, active, ready[i][0].fd);
        },
        close() {},
      };
    }
    // One ring per series and size, sized as the C floor sizes its own.
    const entries = ringEntries(active, fds.length);
    const r = keep(`io_uring-${api}-${entries}`, fds, () => ring(active, fds.length), (o, fd) => o.register(fd, POLLIN), (o) => o.close());
    const maxevents = Math.max(active, 1024);
    if (api === 'raw') {
      return {
        fn() {
          const ready = r.wait(timeoutMs, maxevents);
          if (ready.length !== active) wrongFds(ready.length, active);
          for (let i = 0; i < ready.length; i++) if (isActive[ready[i][0]] !== 1) wrongFds(active, active, ready[i][0]);
        },
        close() {},
      };
    }
    const out = new Int32Array(2 * maxevents);
    return {
      fn() {
        const count = r.waitInto(out, timeoutMs);
        if (count !== active) wrongFds(count, active);
        for (let i = 0; i < count; i++) if (isActive[out[2 * i]] !== 1) wrongFds(active, active, out[2 * i]);
      },
      close() {},
    };
  },
  // register + unregister only queue SQEs; the wait(0) (select(0)) that ends the call submits
  // them in one io_uring_enter and reaps their completions, as the C floor does.
  churn(api, fds, pairs = 1) {
    const extra = fds[fds.length - 1];
    if (api === 'selectors') {
      const sel = createSelector('io_uring');
      for (const fd of fds.slice(0, -1)) sel.register(fd, EVENT_READ);
      return {
        fn() {
          for (let i = 0; i < pairs; i++) {
            sel.register(extra, EVENT_READ);
            sel.unregister(extra);
          }
          sel.select(0);
        },
        close: () => sel.close(),
      };
    }
    const r = ring(pairs, fds.length - 1);
    for (const fd of fds.slice(0, -1)) r.register(fd, POLLIN);
    r.wait(0);
    const out = new Int32Array(2 * 1024);
    return {
      fn() {
        for (let i = 0; i < pairs; i++) {
          r.register(extra, POLLIN);
          r.unregister(extra);
        }
        r.waitInto(out, 0);
      },
      close: () => r.close(),
    };
  },
};

/** Why the io_uring series cannot run in this process (capabilities().ioUring's reason). */
export function ioUringMissing(): string {
  return ioUringSupport().reason ?? 'IoUring is not available here';
}
