/** Raw select(2): validate, then one native call (pselect, so fractional timeouts are exact). */
import { native } from './binding';
import { FD_SETSIZE } from './constants';
import { fdSetSizeError, invalidArgType } from './errors';
import { STAT_SLOTS, statsFromSlots } from './stats';
import type { WaitStats } from './stats';
import { checkNotDetached, fileLikeToFd, selectTimeout, validateOptions } from './validate';
import type { FileLike } from './validate';

/** Options for {@link select}. */
export interface SelectOptions {
  /**
   * Accept fds >= FD_SETSIZE by sizing the fd sets to the highest fd (default false).
   * Linux takes any nfds; on macOS this relies on `_DARWIN_UNLIMITED_SELECT`.
   */
  allowLargeFds?: boolean;
}

/**
 * The buffers of one call: the fds in rlist | wlist | xlist order, and the object each came
 * from. One module-level set is reused across calls, so a wait allocates nothing beyond its
 * three result arrays; a re-entrant call (a fileno() that itself calls select) gets its own.
 */
interface Scratch {
  fds: Int32Array;
  objs: unknown[];
  /** How many entries of objs this call has filled, so that they can be cleared after it. */
  used: number;
}

/** Counters of every raw select() call in this thread (native/stats.h slot layout). */
const counters = new Float64Array(STAT_SLOTS);

const shared: Scratch = { fds: new Int32Array(64), objs: [], used: 0 };
let sharedBusy = false;

function grow(s: Scratch): void {
  const grown = new Int32Array(s.fds.length * 2);
  grown.set(s.fds);
  s.fds = grown;
}

function push(s: Scratch, n: number, fd: number, obj: unknown): void {
  if (n === s.fds.length) grow(s);
  s.fds[n] = fd;
  s.objs[n] = obj;
  s.used = n + 1;
}

function addFd(s: Scratch, n: number, item: unknown, name: string, large: boolean): void {
  // fileno() is called exactly once per item per call; a throwing fileno() passes through.
  const fd = fileLikeToFd(item, name);
  if (fd >= FD_SETSIZE && !large) throw fdSetSizeError(fd, FD_SETSIZE);
  push(s, n, fd, item);
}

/** Appends one list's fds from index n on; returns the new count. */
function collect(s: Scratch, n: number, list: unknown, name: string, large: boolean): number {
  if (Array.isArray(list)) {
    // The length is read on every step, as CPython does: a fileno() that shrinks the list
    // ends the walk early instead of reading holes (CPython test_select_mutated).
    for (let i = 0; i < list.length; i++) {
      const item: unknown = list[i];
      // Plain fd numbers, the common case, skip the FileLike resolution: every call walks
      // every fd, so this loop is part of select()'s per-fd cost.
      if (typeof item === 'number' && (item | 0) === item && item >= 0 && (item < FD_SETSIZE || large)) {
        if (n === s.fds.length) grow(s);
        s.fds[n] = item;
        s.objs[n++] = item;
      } else {
        addFd(s, n++, item, name, large);
      }
    }
    s.used = Math.max(s.used, n);
    return n;
  }
  const iterable = list as Iterable<unknown> | null;
  if (iterable === null || typeof iterable !== 'object' || typeof iterable[Symbol.iterator] !== 'function') {
    throw invalidArgType(name, 'an iterable of file-likes', list);
  }
  checkNotDetached(iterable, name);
  for (const item of iterable) addFd(s, n++, item, name, large);
  return n;
}

function largeOption(options: unknown): boolean {
  const o = validateOptions<SelectOptions>(options);
  if (o.allowLargeFds !== undefined && typeof o.allowLargeFds !== 'boolean') {
    throw invalidArgType('options.allowLargeFds', 'of type boolean', o.allowLargeFds);
  }
  return o.allowLargeFds ?? false;
}

function pick<T>(s: Scratch, from: number, to: number): T[] {
  const out: T[] = [];
  for (let i = from; i < to; i++) if (s.fds[i] !== -1) out.push(s.objs[i] as T);
  return out;
}

/**
 * Waits until some of the given file-likes are ready, as select(2) (CPython's `select.select`).
 *
 * @param rlist file-likes to wait on for reading.
 * @param wlist file-likes to wait on for writing.
 * @param xlist file-likes to wait on for an "exceptional condition" (out-of-band data).
 * @param timeout milliseconds, fractions honoured to the nanosecond (pselect); `undefined` or
 *   `null` waits forever, `0` polls without waiting.
 * @param options `{ allowLargeFds }`: accept fds >= FD_SETSIZE.
 * @returns three new arrays holding the very objects passed in that are ready, in input order.
 * @throws TypeError `ERR_INVALID_ARG_TYPE` for a list that is not iterable, an item that is not
 *   a FileLike, a `fileno()` that returns a non-number, or a non-number timeout.
 * @throws Error `ERR_INVALID_ARG_VALUE` for a typed array list whose memory was detached.
 * @throws RangeError `ERR_OUT_OF_RANGE` for a negative or non-integer fd, or a timeout that is
 *   negative, NaN or > 2^31-1.
 * @throws RangeError `ERR_FD_SETSIZE` for an fd >= FD_SETSIZE without `allowLargeFds`.
 * @throws ErrnoError `EBADF` (syscall 'select') when an fd is not open (an fd at or past
 *   RLIMIT_NOFILE included, before anything is allocated for it: one opened before the limit
 *   was lowered is waited on as any other); `EINTR` with `err.signal`
 *   when a signal that JS listens for arrives during a wait that blocks (README, "Signals and
 *   stopped workers during a synchronous wait"); whatever a `fileno()` throws passes through.
 *
 * Portability: FD_SETSIZE is 1024 on Linux and macOS. Linux accepts larger sets with
 * `allowLargeFds`; macOS does too through `_DARWIN_UNLIMITED_SELECT`; other systems may refuse
 * with `EINVAL`. Prefer Poll, Epoll or a selector when fds may be large.
 */
export function select<T extends FileLike>(
  rlist: Iterable<T>,
  wlist: Iterable<T>,
  xlist: Iterable<T>,
  timeout?: number | null,
  options?: SelectOptions,
): [T[], T[], T[]] {
  const ms = selectTimeout(timeout);
  const large = largeOption(options);
  const owner = !sharedBusy;
  const s: Scratch = owner ? shared : { fds: new Int32Array(16), objs: [], used: 0 };
  sharedBusy = true;
  try {
    const r = collect(s, 0, rlist, 'rlist', large);
    const w = collect(s, r, wlist, 'wlist', large);
    const x = collect(s, w, xlist, 'xlist', large);
    native.select(s.fds, r, w - r, x - w, ms, large, counters);
    return [pick<T>(s, 0, r), pick<T>(s, r, w), pick<T>(s, w, x)];
  } finally {
    // Drop the references so the scratch never keeps a caller's objects alive.
    s.objs.fill(undefined, 0, s.used);
    s.used = 0;
    if (owner) sharedBusy = false;
  }
}

/**
 * Counters of the raw select() calls made in this thread (see {@link WaitStats}).
 * @returns a new object; the counters go on counting.
 */
export function selectStats(): WaitStats {
  return statsFromSlots(counters);
}

/**
 * Sets the raw select() counters back to 0 and switches timing on or off.
 * @param timing measure `syscallNs` and `callNs` from now on (default: keep as it is).
 */
export function resetSelectStats(timing?: boolean): void {
  const keep = counters[STAT_SLOTS - 1];
  counters.fill(0);
  counters[STAT_SLOTS - 1] = timing === undefined ? keep : timing ? 1 : 0;
}
