/**
 * The backends the benchmark measures, by name, with only those present on this OS. A backend
 * makes the timed closures: one wait call through one API (raw poll()/select(), pollInto(),
 * or the selectors layer), checked to report exactly the active fds, and a registration churn
 * call (register + unregister one fd).
 */
import { constants, EVENT_READ, FD_SETSIZE } from '../lib/constants';
import { Epoll } from '../lib/epoll';
import { KEvent, Kqueue } from '../lib/kqueue';
import { Poll } from '../lib/poll';
import { select } from '../lib/select';
import type { BaseSelector } from '../lib/selectors/base';
import { canUse, createSelector } from '../lib/selectors/default';
import { SelectSelector } from '../lib/selectors/select';

/** The ways a backend can be called. */
export type Api = 'raw' | 'pollInto' | 'selectors';

/** A timed closure and what to release after it. */
export interface Timed {
  /** One call; throws when the result is not exactly the active fds. */
  fn(): void;
  close(): void;
}

/** One multiplexer and the APIs iomux offers for it. */
export interface BenchBackend {
  readonly name: 'select' | 'poll' | 'epoll' | 'kqueue';
  readonly apis: readonly Api[];
  /** Which APIs can add and drop one fd (select has no registration of its own). */
  readonly churnApis: readonly Api[];
  /**
   * A wait call over `fds` (ascending; the last `active` are readable) with `timeoutMs`.
   * "Build the input" is whatever the API needs per call: select() builds its fd sets,
   * Poll/Epoll and the selectors keep their registrations.
   */
  wait(api: Api, fds: readonly number[], active: number, timeoutMs: number): Timed;
  /** register + unregister of the last fd in `fds` while the others stay registered. */
  churn(api: Api, fds: readonly number[]): Timed;
}

/** Builds the check for one call: exactly `active` fds, all of them among the active ones. */
function checker(fds: readonly number[], active: number): (count: number, fdAt: (i: number) => number) => void {
  const isActive = new Uint8Array(fds[fds.length - 1] + 1);
  for (const fd of fds.slice(fds.length - active)) isActive[fd] = 1;
  return (count, fdAt) => {
    if (count !== active) throw new Error(`${count} fds reported ready, expected ${active}`);
    for (let i = 0; i < count; i++) {
      if (isActive[fdAt(i)] !== 1) throw new Error(`fd ${fdAt(i)} reported ready but it is idle`);
    }
  };
}

function selectorWait(sel: BaseSelector, fds: readonly number[], active: number, timeoutMs: number): Timed {
  for (const fd of fds) sel.register(fd, EVENT_READ);
  const check = checker(fds, active);
  return {
    fn() {
      const ready = sel.select(timeoutMs);
      check(ready.length, (i) => ready[i][0].fd);
    },
    close: () => sel.close(),
  };
}

function selectorChurn(sel: BaseSelector, fds: readonly number[]): Timed {
  const extra = fds[fds.length - 1];
  for (const fd of fds.slice(0, -1)) sel.register(fd, EVENT_READ);
  return {
    fn() {
      sel.register(extra, EVENT_READ);
      sel.unregister(extra);
    },
    close: () => sel.close(),
  };
}

/** The selector of a backend; SelectSelector is told to take fds >= FD_SETSIZE when it must. */
function makeSelector(name: BenchBackend['name'], fds: readonly number[]): BaseSelector {
  if (name === 'select') return new SelectSelector({ allowLargeFds: fds[fds.length - 1] >= FD_SETSIZE });
  return createSelector(name);
}

const selectBackend: BenchBackend = {
  name: 'select',
  apis: ['raw', 'selectors'],
  churnApis: ['selectors'],
  wait(api, fds, active, timeoutMs) {
    if (api === 'selectors') return selectorWait(makeSelector('select', fds), fds, active, timeoutMs);
    const rlist = [...fds];
    const empty: number[] = [];
    const options = { allowLargeFds: fds[fds.length - 1] >= FD_SETSIZE };
    const check = checker(fds, active);
    return {
      fn() {
        const [r] = select(rlist, empty, empty, timeoutMs, options);
        check(r.length, (i) => r[i]);
      },
      close() {},
    };
  },
  churn(api, fds) {
    return selectorChurn(makeSelector('select', fds), fds);
  },
};

const pollBackend: BenchBackend = {
  name: 'poll',
  apis: ['raw', 'pollInto', 'selectors'],
  churnApis: ['raw', 'selectors'],
  wait(api, fds, active, timeoutMs) {
    if (api === 'selectors') return selectorWait(makeSelector('poll', fds), fds, active, timeoutMs);
    const p = new Poll();
    for (const fd of fds) p.register(fd, constants.POLLIN);
    const check = checker(fds, active);
    if (api === 'raw') {
      return {
        fn() {
          const ready = p.poll(timeoutMs);
          check(ready.length, (i) => ready[i][0]);
        },
        close() {},
      };
    }
    const out = new Int32Array(2 * Math.max(active, 1024));
    return {
      fn() {
        const count = p.pollInto(out, timeoutMs);
        check(count, (i) => out[2 * i]);
      },
      close() {},
    };
  },
  churn(api, fds) {
    if (api === 'selectors') return selectorChurn(makeSelector('poll', fds), fds);
    const p = new Poll();
    const extra = fds[fds.length - 1];
    for (const fd of fds.slice(0, -1)) p.register(fd, constants.POLLIN);
    return {
      fn() {
        p.register(extra, constants.POLLIN);
        p.unregister(extra);
      },
      close() {},
    };
  },
};

const epollBackend: BenchBackend = {
  name: 'epoll',
  apis: ['raw', 'pollInto', 'selectors'],
  churnApis: ['raw', 'selectors'],
  wait(api, fds, active, timeoutMs) {
    if (api === 'selectors') return selectorWait(makeSelector('epoll', fds), fds, active, timeoutMs);
    const ep = new Epoll();
    for (const fd of fds) ep.register(fd, constants.EPOLLIN);
    const check = checker(fds, active);
    // 1024 events per wait, as the C floor and CPython's epoll.poll() default.
    const maxevents = Math.max(active, 1024);
    if (api === 'raw') {
      return {
        fn() {
          const ready = ep.poll(timeoutMs, maxevents);
          check(ready.length, (i) => ready[i][0]);
        },
        close: () => ep.close(),
      };
    }
    const out = new Int32Array(2 * maxevents);
    return {
      fn() {
        const count = ep.pollInto(out, timeoutMs);
        check(count, (i) => out[2 * i]);
      },
      close: () => ep.close(),
    };
  },
  churn(api, fds) {
    if (api === 'selectors') return selectorChurn(makeSelector('epoll', fds), fds);
    const ep = new Epoll();
    const extra = fds[fds.length - 1];
    for (const fd of fds.slice(0, -1)) ep.register(fd, constants.EPOLLIN);
    return {
      fn() {
        ep.register(extra, constants.EPOLLIN);
        ep.unregister(extra);
      },
      close: () => ep.close(),
    };
  },
};

// kqueue: Kqueue#control() (the raw series, CPython's kqueue.control) and KqueueSelector.
const kqueueBackend: BenchBackend = {
  name: 'kqueue',
  apis: ['raw', 'selectors'],
  churnApis: ['selectors'],
  wait(api, fds, active, timeoutMs) {
    if (api === 'selectors') return selectorWait(makeSelector('kqueue', fds), fds, active, timeoutMs);
    const kq = new Kqueue();
    for (let i = 0; i < fds.length; i += 1024) kq.control(fds.slice(i, i + 1024).map((fd) => new KEvent(fd)), 0, 0);
    const check = checker(fds, active);
    const maxevents = Math.max(active, 1024);
    return {
      fn() {
        const events = kq.control(null, maxevents, timeoutMs);
        check(events.length, (i) => Number(events[i].ident));
      },
      close: () => kq.close(),
    };
  },
  churn: (api, fds) => selectorChurn(makeSelector('kqueue', fds), fds),
};

/** Backend name -> backend, only those that work in this process. */
export function presentBackends(): Map<string, BenchBackend> {
  const all = [selectBackend, pollBackend, epollBackend, kqueueBackend];
  return new Map(all.filter((b) => canUse(b.name)).map((b) => [b.name, b]));
}
