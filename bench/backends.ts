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
import { ioUringBackend } from './io-uring-backend';

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
  readonly name: 'select' | 'poll' | 'epoll' | 'kqueue' | 'io_uring';
  readonly apis: readonly Api[];
  /** Which APIs can add and drop one fd (select has no registration of its own). */
  readonly churnApis: readonly Api[];
  /**
   * A wait call over `fds` (ascending; the last `active` are readable) with `timeoutMs`.
   * "Build the input" is whatever the API needs per call: select() builds its fd sets,
   * Poll/Epoll and the selectors keep their registrations.
   */
  wait(api: Api, fds: readonly number[], active: number, timeoutMs: number): Timed;
  /**
   * register + unregister of the last fd in `fds` while the others stay registered; `pairs`
   * such pairs per call where the backend takes it (epoll, io_uring: register-batch).
   */
  churn(api: Api, fds: readonly number[], pairs?: number): Timed;
}

/*
 * Every timed closure checks its own result inline (a count, then each fd against a table of
 * the active ones) and is its own function literal: a check shared through a callback, or one
 * closure literal shared by several selector classes, makes V8's call sites megamorphic, and
 * that harness cost would land in the iomux cells only (the C and N-API loops check inline).
 */

/*
 * One long-lived object per series (as an application keeps one multiplexer), made and given
 * the fixture's fds on the series' first run, instead of a new one per round: a fresh Epoll or
 * selector per run hands lib/ a new bound native function each time, its call sites go
 * megamorphic, and a pollInto() then measured 450-690 ns where one kept object measured 400 ns
 * on the same sockets. A series process serves one fixture (bench/series-child.ts), so an object
 * is never re-aimed at other fds.
 */
interface Kept {
  obj: unknown;
  fds: readonly number[];
  close(): void;
}
const kept = new Map<string, Kept>();

export function keep<T>(key: string, fds: readonly number[], make: () => T, add: (o: T, fd: number) => void, close: (o: T) => void): T {
  let k = kept.get(key);
  if (!k) {
    const obj = make();
    for (const fd of fds) add(obj, fd);
    kept.set(key, (k = { obj, fds, close: () => close(obj) }));
  } else if (k.fds !== fds) {
    throw new Error(`series ${key} is kept for another fixture's fds: one series process serves one fixture`);
  }
  return k.obj as T;
}

/** Closes the objects kept for the series (at the end of a run). */
export function releaseKept(): void {
  for (const k of kept.values()) k.close();
  kept.clear();
}

/*
 * And one pollInto() buffer per kept object: lib binds a wait to a buffer waited into twice in
 * a row, so a new buffer per run would rebind it every run, and its call site would see a new
 * bound function each time (pollInto() measured 1.8x C that way where a kept buffer gives 1.6x).
 */
const outs = new WeakMap<object, Int32Array>();
function outFor(owner: object, length: number): Int32Array {
  let out = outs.get(owner);
  if (out?.length !== length) outs.set(owner, (out = new Int32Array(length)));
  return out;
}

/** fd -> 1 for the `active` last fds. */
export function activeTable(fds: readonly number[], active: number): Uint8Array {
  const isActive = new Uint8Array(fds[fds.length - 1] + 1);
  for (const fd of fds.slice(fds.length - active)) isActive[fd] = 1;
  return isActive;
}

/** Throws the error of a call that reported the wrong fds. */
export function wrongFds(count: number, active: number, fd?: number): never {
  if (count !== active) throw new Error(`${count} fds reported ready, expected ${active}`);
  throw new Error(`fd ${fd} reported ready but it is idle`);
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
    if (api === 'selectors') {
      const sel = keep(`select-selector-${fds[fds.length - 1] >= FD_SETSIZE}`, fds, () => makeSelector('select', fds), (o, fd) => o.register(fd, EVENT_READ), (o) => o.close());
      const isActive = activeTable(fds, active);
      return {
        fn() {
          const ready = sel.select(timeoutMs);
          if (ready.length !== active) wrongFds(ready.length, active);
          for (let i = 0; i < ready.length; i++) if (isActive[ready[i][0].fd] !== 1) wrongFds(active, active, ready[i][0].fd);
        },
        close() {},
      };
    }
    const rlist = [...fds];
    const empty: number[] = [];
    const options = { allowLargeFds: fds[fds.length - 1] >= FD_SETSIZE };
    const isActive = activeTable(fds, active);
    return {
      fn() {
        const [r] = select(rlist, empty, empty, timeoutMs, options);
        if (r.length !== active) wrongFds(r.length, active);
        for (let i = 0; i < r.length; i++) if (isActive[r[i]] !== 1) wrongFds(active, active, r[i]);
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
    if (api === 'selectors') {
      const sel = keep('poll-selector', fds, () => makeSelector('poll', fds), (o, fd) => o.register(fd, EVENT_READ), (o) => o.close());
      const isActive = activeTable(fds, active);
      return {
        fn() {
          const ready = sel.select(timeoutMs);
          if (ready.length !== active) wrongFds(ready.length, active);
          for (let i = 0; i < ready.length; i++) if (isActive[ready[i][0].fd] !== 1) wrongFds(active, active, ready[i][0].fd);
        },
        close() {},
      };
    }
    const p = keep(`poll-${api}`, fds, () => new Poll(), (o, fd) => o.register(fd, constants.POLLIN), () => {});
    const isActive = activeTable(fds, active);
    if (api === 'raw') {
      return {
        fn() {
          const ready = p.poll(timeoutMs);
          if (ready.length !== active) wrongFds(ready.length, active);
          for (let i = 0; i < ready.length; i++) if (isActive[ready[i][0]] !== 1) wrongFds(active, active, ready[i][0]);
        },
        close() {},
      };
    }
    const out = outFor(p, 2 * Math.max(active, 1024));
    return {
      fn() {
        const count = p.pollInto(out, timeoutMs);
        if (count !== active) wrongFds(count, active);
        for (let i = 0; i < count; i++) if (isActive[out[2 * i]] !== 1) wrongFds(active, active, out[2 * i]);
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
    if (api === 'selectors') {
      const sel = keep('epoll-selector', fds, () => makeSelector('epoll', fds), (o, fd) => o.register(fd, EVENT_READ), (o) => o.close());
      const isActive = activeTable(fds, active);
      return {
        fn() {
          const ready = sel.select(timeoutMs);
          if (ready.length !== active) wrongFds(ready.length, active);
          for (let i = 0; i < ready.length; i++) if (isActive[ready[i][0].fd] !== 1) wrongFds(active, active, ready[i][0].fd);
        },
        close() {},
      };
    }
    const ep = keep(`epoll-${api}`, fds, () => new Epoll(), (o, fd) => o.register(fd, constants.EPOLLIN), (o) => o.close());
    const isActive = activeTable(fds, active);
    // 1024 events per wait, as the C floor and CPython's epoll.poll() default.
    const maxevents = Math.max(active, 1024);
    if (api === 'raw') {
      return {
        fn() {
          const ready = ep.poll(timeoutMs, maxevents);
          if (ready.length !== active) wrongFds(ready.length, active);
          for (let i = 0; i < ready.length; i++) if (isActive[ready[i][0]] !== 1) wrongFds(active, active, ready[i][0]);
        },
        close() {},
      };
    }
    const out = outFor(ep, 2 * maxevents);
    return {
      fn() {
        const count = ep.pollInto(out, timeoutMs);
        if (count !== active) wrongFds(count, active);
        for (let i = 0; i < count; i++) if (isActive[out[2 * i]] !== 1) wrongFds(active, active, out[2 * i]);
      },
      close() {},
    };
  },
  churn(api, fds, pairs = 1) {
    if (api === 'selectors') return selectorChurn(makeSelector('epoll', fds), fds);
    const ep = new Epoll();
    const extra = fds[fds.length - 1];
    for (const fd of fds.slice(0, -1)) ep.register(fd, constants.EPOLLIN);
    return {
      fn() {
        for (let i = 0; i < pairs; i++) {
          ep.register(extra, constants.EPOLLIN);
          ep.unregister(extra);
        }
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
    if (api === 'selectors') {
      const sel = keep('kqueue-selector', fds, () => makeSelector('kqueue', fds), (o, fd) => o.register(fd, EVENT_READ), (o) => o.close());
      const isActive = activeTable(fds, active);
      return {
        fn() {
          const ready = sel.select(timeoutMs);
          if (ready.length !== active) wrongFds(ready.length, active);
          for (let i = 0; i < ready.length; i++) if (isActive[ready[i][0].fd] !== 1) wrongFds(active, active, ready[i][0].fd);
        },
        close() {},
      };
    }
    const kq = new Kqueue();
    for (let i = 0; i < fds.length; i += 1024) kq.control(fds.slice(i, i + 1024).map((fd) => new KEvent(fd)), 0, 0);
    const isActive = activeTable(fds, active);
    const maxevents = Math.max(active, 1024);
    return {
      fn() {
        const events = kq.control(null, maxevents, timeoutMs);
        if (events.length !== active) wrongFds(events.length, active);
        for (let i = 0; i < events.length; i++) if (isActive[Number(events[i].ident)] !== 1) wrongFds(active, active, Number(events[i].ident));
      },
      close: () => kq.close(),
    };
  },
  churn: (api, fds) => selectorChurn(makeSelector('kqueue', fds), fds),
};

/** Backend name -> backend, only those that work in this process (io_uring: bench/io-uring-backend.ts). */
export function presentBackends(): Map<string, BenchBackend> {
  const all = [selectBackend, pollBackend, epollBackend, kqueueBackend, ioUringBackend];
  return new Map(all.filter((b) => canUse(b.name)).map((b) => [b.name, b]));
}
