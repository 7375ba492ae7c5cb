/**
 * The selector backends this package knows, in one table. DefaultSelector, canUse(),
 * createSelector() and capabilities() read it; a new backend (kqueue) is one more entry.
 */
import { native } from '../binding';
import { isErrno } from '../errors';
import type { BackendName, BaseSelector } from './base';
import { EpollSelector } from './epoll';
import { IoUringSelector } from './io-uring';
import { KqueueSelector } from './kqueue';
import { PollSelector } from './poll';
import { SelectSelector } from './select';

/**
 * How a probe ended: 'works'; 'absent' (a definitive no: not built, ENOSYS, EINVAL,
 * ERR_NOT_SUPPORTED), kept for the life of the process; or 'failed' (any other refusal, e.g.
 * EPERM from a sandbox), not kept, so the next question probes again. A transient refusal
 * (EMFILE, ENFILE, ENOMEM, ...) is no answer at all: the probe throws it.
 */
export type ProbeVerdict = 'works' | 'absent' | 'failed';

/** One backend: how to know it works here, and how to make one. */
export interface BackendEntry {
  readonly name: BackendName;
  /**
   * Its place in the DefaultSelector order on a platform (lower first), or undefined when it
   * is never chosen by default there (it can still be asked for by name).
   */
  rank(platform: NodeJS.Platform): number | undefined;
  /**
   * Checks at run time that it works: creates the kernel object and releases it.
   * @throws ErrnoError EMFILE, ENFILE, ENOMEM, ENOBUFS, EAGAIN: the process or system is short
   *   of a resource right now, which says nothing about the backend.
   */
  probe(): ProbeVerdict;
  /** Makes a selector. */
  create<T>(): BaseSelector<T>;
}

const BSD_LIKE: ReadonlySet<string> = new Set(['darwin', 'freebsd', 'openbsd', 'netbsd']);

/** Errors that say the kernel lacks the mechanism: true for the life of the process. */
const DEFINITIVE: ReadonlySet<unknown> = new Set(['ENOSYS', 'EINVAL', 'ERR_NOT_SUPPORTED']);
/** Errors that say a resource is short for now: they reach the caller and nothing is kept. */
const TRANSIENT: ReadonlySet<string> = new Set(['EMFILE', 'ENFILE', 'ENOMEM', 'ENOBUFS', 'EAGAIN']);

/** Runs fn, which makes and releases the backend's kernel object, and classifies how it went. */
function works(fn: () => void): ProbeVerdict {
  try {
    fn();
    return 'works';
  } catch (err) {
    if (isErrno(err) && TRANSIENT.has(err.code)) throw err;
    return DEFINITIVE.has((err as { code?: unknown } | null)?.code) ? 'absent' : 'failed';
  }
}

/**
 * The known backends. The platform's own mechanism ranks 0 (kqueue on macOS/BSD, epoll on
 * Linux), poll 1, select 2. On Linux a libkqueue build has kqueue too, but as an emulation over
 * epoll it is usable by name only, never chosen by default.
 */
export const BACKENDS: BackendEntry[] = [
  {
    name: 'kqueue',
    rank: (platform) => (isBsdLike(platform) ? 0 : undefined),
    // libkqueue makes process-wide fds and a thread on its first kqueue, kept for good: asking
    // whether kqueue is there (every DefaultSelector does) must not cost that, so a libkqueue
    // build counts as working once linked; a kernel kqueue is tried.
    probe: () => {
      if (native.Kqueue === undefined) return 'absent';
      if (native.has.libkqueue) return 'works';
      return works(() => new KqueueSelector().close());
    },
    create: <T>() => new KqueueSelector<T>(),
  },
  {
    name: 'epoll',
    rank: (platform) => (platform === 'linux' ? 0 : undefined),
    probe: () => (native.Epoll === undefined ? 'absent' : works(() => new EpollSelector().close())),
    create: <T>() => new EpollSelector<T>(),
  },
  {
    // Never chosen by default (epoll is the platform's own); by name only.
    name: 'io_uring',
    rank: () => undefined,
    probe: () => (native.IoUring === undefined ? 'absent' : works(() => new IoUringSelector().close())),
    create: <T>() => new IoUringSelector<T>(),
  },
  {
    name: 'poll',
    rank: () => 1,
    probe: () => works(() => void new native.Poll().pollInto(new Int32Array(2), 0)),
    create: <T>() => new PollSelector<T>(),
  },
  {
    name: 'select',
    rank: () => 2,
    probe: () => works(() => void native.select(new Int32Array(0), 0, 0, 0, 0, false)),
    create: <T>() => new SelectSelector<T>(),
  },
];

/** Whether the platform counts as a BSD (kqueue is its own mechanism there). */
export function isBsdLike(platform: NodeJS.Platform): boolean {
  return BSD_LIKE.has(platform);
}
