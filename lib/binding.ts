/**
 * Loads the native addon (prebuilds/ first, then build/, through node-gyp-build) and declares
 * its shape. This is the only `require` of native code in the package.
 *
 * Native timeout convention: a number of milliseconds, fractions allowed; any negative value
 * (or undefined/null) means wait forever. lib/validate.ts maps the public timeout table onto it.
 */
import path from 'node:path';
import type { NativeIoUringConstructor } from './binding-io-uring';
import type { NativeStats } from './stats';

export type { NativeIoUring, NativeIoUringConstructor } from './binding-io-uring';

/** poll(2) state kept natively: a pollfd array plus an fd -> index map. */
export interface NativePoll extends NativeStats {
  /** Adds fd, or replaces its events if it is already there. */
  register(fd: number, events: number): void;
  /** Returns false when fd is not registered. */
  modify(fd: number, events: number): boolean;
  /** Returns false when fd is not registered. */
  unregister(fd: number): boolean;
  /**
   * One poll(2) (ppoll on Linux; EINTR retried with the time left) writing (fd, revents) pairs
   * of the ready fds into out; returns the pair count. Allocates nothing.
   */
  pollInto(out: Int32Array, timeoutMs: number): number;
  readonly size: number;
}

/** An epoll instance that owns its fd (CLOEXEC unless asked otherwise). */
export interface NativeEpoll extends NativeStats {
  fileno(): number;
  readonly closed: boolean;
  /** Idempotent. After it every other method throws ERR_CLOSED. */
  close(): void;
  /**
   * epoll_ctl(ADD). data.u64 = tag << 32 | fd, so the selectors can drop stale events.
   * events and tag are taken as int32 or uint32 (EPOLLET either way); tag defaults to 0.
   */
  register(fd: number, events: number, tag: number): void;
  /** epoll_ctl(MOD), same tagging as register(). */
  modify(fd: number, events: number, tag: number): void;
  /** epoll_ctl(DEL). */
  unregister(fd: number): void;
  /**
   * One wait; maxevents >= 1, of which at most 65,536 are asked of the kernel per call (the rest
   * stay ready for the next one). A wait that blocks goes through ppoll(2) on the epoll fd and
   * the thread's interrupt fd (ns precision), then a zero-timeout epoll_wait: a signal JS listens
   * for ends it with EINTR (`err.signal`), worker termination ends it at once (README, "Signals
   * and stopped workers during a synchronous wait").
   */
  poll(timeoutMs: number, maxevents: number): Array<[number, number]>;
  /**
   * Writes records of `stride` int32s into out: (fd, events) for stride 2,
   * (fd, events, tag) for stride 3; waits for at most out.length / stride events.
   * Returns the record count. Allocates nothing. The tag comes back as an int32 (tag | 0).
   */
  pollInto(out: Int32Array, timeoutMs: number, stride: number): number;
  /**
   * pollInto(out, timeoutMs) as a plain function bound to this object and a stride: the same
   * call without unwrapping `this` or reading the stride each time (about half the call's
   * user-space instructions). Throws ERR_CLOSED once the object is closed or collected.
   * Optional so that test fakes may leave it out.
   */
  boundPollInto?(stride: 2 | 3): (out: Int32Array, timeoutMs: number) => number;
  /**
   * The same with out bound too, for a caller that waits into one buffer over and over: the
   * function skips looking the array up on every call (it only asks whether its ArrayBuffer was
   * detached since, and then throws RangeError as for an empty out). Returns undefined for an
   * out over a resizable ArrayBuffer, which is never bound.
   */
  boundPollInto?(stride: 2 | 3, out: Int32Array): ((timeoutMs: number) => number) | undefined;
  /**
   * Starts an asynchronous wait with no thread: a uv_poll_t watches the epoll fd in Node's own
   * loop and, when it turns readable, one zero-timeout epoll_wait drains up to maxevents events;
   * a uv_timer_t ends the wait at timeoutMs (whole ms in libuv, the precise deadline re-checked,
   * negative = forever). `callback(null, events)` or `callback(err)` is called exactly once,
   * never before waitAsync returns, unless cancelWait() drops the wait. close() during the wait
   * calls it at once with ERR_CLOSED. The object is kept alive while a wait is pending.
   * @throws ERR_CLOSED after close(); ERR_BUSY while a wait is pending (poll/pollInto too).
   */
  waitAsync(
    timeoutMs: number,
    maxevents: number,
    callback: (err: Error | null, events?: Array<[number, number]>) => void,
  ): void;
  /**
   * As waitAsync(), but the events are written into out as pollInto() writes them (records of
   * `stride` int32s, at most out.length / stride, tags included for stride 3) just before
   * `callback(null, count)` runs: no array per wait, and the selectors keep their tags. out is
   * held until the wait ends; the caller must not write to it meanwhile.
   * @throws ERR_CLOSED, ERR_BUSY as waitAsync(); RangeError for a stride other than 2 or 3 or
   *   an out shorter than one record.
   */
  waitIntoAsync(
    out: Int32Array,
    timeoutMs: number,
    stride: number,
    callback: (err: Error | null, count?: number) => void,
  ): void;
  /** Drops the pending wait without calling its callback; returns false if none was pending. */
  cancelWait(): boolean;
}

export interface NativeEpollConstructor {
  new (sizehint: number, cloexec: boolean): NativeEpoll;
  /** Takes ownership of an existing epoll fd. */
  fromFd(fd: number): NativeEpoll;
}

/**
 * poll(2) or select(2) run on a thread of the addon's own (one per Waiter, started by a wait and
 * ended, with its wake-up fd, once the callback that settled it returns without starting another
 * wait: an idle or dropped Waiter holds neither), for async waits on mechanisms that have no fd
 * for Node's loop to watch.
 * libuv's shared threadpool is not used: fs and dns need it, and a wait may last forever.
 * A wake-up fd (eventfd on Linux, else a pipe) sits in every set and is never reported; it
 * ends a wait at once on cancel(), close() or env teardown (worker terminated mid-wait).
 * An idle Waiter does not keep the process alive; a pending one does.
 */
export interface NativeWaiter extends NativeStats {
  /**
   * Starts one wait and returns at once. kind 0 = poll(2) (ppoll on Linux), 1 = select(2)
   * (pselect). fds holds `count` (fd, events) pairs, events as POLLIN/POLLOUT/POLLPRI bits; they
   * are copied before the wait starts, so the caller may reuse fds at once. For select, POLLIN,
   * POLLOUT and POLLPRI pick the read, write and except sets, and the results come back as the
   * same bits; an fd >= FD_SETSIZE throws RangeError unless `large` (heap bitmaps sized to the
   * highest fd). EINTR is retried with the time left. When the wait ends, on the JS thread,
   * (fd, revents) records for the ready fds are written into out (at most out.length / 2, in
   * the order of fds) and callback(null, records) is called; callback(null, -1) when the wait
   * was cancelled or the waiter closed; callback(err, -2) with a syscall error (code, errno,
   * syscall 'poll' or 'select'). Throws ERR_BUSY while a wait is pending, ERR_CLOSED after close().
   */
  wait(
    kind: number,
    fds: Int32Array,
    count: number,
    timeoutMs: number,
    large: boolean,
    out: Int32Array,
    callback: (err: Error | null, records: number) => void,
  ): void;
  /** Ends the pending wait with callback(null, -1) soon (the thread wakes at once); false when none is pending. */
  cancel(): boolean;
  /**
   * Idempotent. Ends a pending wait, joins the thread and closes the wake-up fds; a pending
   * callback is called with (null, -1) before close() returns.
   */
  close(): void;
  readonly closed: boolean;
  /** True from wait() until its callback is called. */
  readonly pending: boolean;
  // stats(): each finished wait is one call; syscalls (EINTR retries included), fds (the
  // wake-up fd included) and bytesIn are counted on the thread and added on the JS thread when
  // the wait's callback runs, with the ready records as events. A wait ended by close() is not
  // counted. callNs stays 0 (there is no single native call to time).
}

export interface NativeWaiterConstructor {
  new (): NativeWaiter;
}

/**
 * A kqueue that owns its fd (CLOEXEC). Changes and results are flat Int32Array records of
 * KEV_WORDS (10) int32s each, laid out as native/kqueue_record.h describes and packed by
 * lib/kqueue.ts: identLo, identHi, filter, flags, fflags, 0, dataLo, dataHi, udataLo, udataHi.
 */
export interface NativeKqueue extends NativeStats {
  fileno(): number;
  readonly closed: boolean;
  /** Idempotent. After it every other method throws ERR_CLOSED. */
  close(): void;
  /**
   * One kevent() call (EINTR retried with the time left, without re-sending the changes):
   * applies the first nchanges records of changes, waits for at most maxevents events and
   * writes them as records into out. Returns the record count. Allocates nothing in JS.
   */
  control(changes: Int32Array | null, nchanges: number, out: Int32Array | null, maxevents: number, timeoutMs: number): number;
  /**
   * Waits in Node's own loop (no thread) until the kqueue has events (a uv_poll_t on the kqueue
   * fd; with libkqueue on the epoll fd it waits on internally), then drains up to maxevents
   * events into out with a zero-timeout kevent(); a uv timer ends the wait at timeoutMs
   * (negative = forever) with 0. `callback(null, count)` or `callback(err)` is called exactly
   * once unless cancelWait() drops the wait; close() during the wait calls it at once with
   * ERR_CLOSED. control() with maxevents > 0 meanwhile throws ERR_BUSY.
   * @throws ERR_CLOSED after close(); ERR_BUSY while a wait is pending; ERR_NOT_SUPPORTED when
   *   libkqueue's internal epoll fd cannot be found.
   */
  waitAsync(out: Int32Array, maxevents: number, timeoutMs: number, callback: (err: Error | null, count?: number) => void): void;
  /** Drops the pending wait without calling its callback; returns false if none was pending. */
  cancelWait(): boolean;
}

export interface NativeKqueueConstructor {
  new (): NativeKqueue;
  /** Takes ownership of an existing kqueue fd (EBADF when it is not open). */
  fromFd(fd: number): NativeKqueue;
}

export interface NativePollConstructor {
  new (): NativePoll;
}

export interface NativeBinding {
  constants: Record<string, number>;
  /** Which optional mechanisms this build has. */
  has: { epoll: boolean; kqueue: boolean; libkqueue: boolean; ioUring?: boolean };

  /**
   * select(2) on fds = [read fds (nr) | write fds (nw) | except fds (nx)]. Entries that are not
   * ready are overwritten with -1; returns how many are ready. `large` sizes the fd sets to the
   * highest fd instead of FD_SETSIZE (the caller has checked the limit otherwise); an fd at or
   * past RLIMIT_NOFILE is EBADF before anything is sized to it. Sync waits (here, Poll, Epoll)
   * that block throw EINTR with `signal` for a signal JS listens for (README). `stats`, a
   * Float64Array of STAT_SLOTS counters (lib/stats.ts), is updated in place when given.
   */
  select(fds: Int32Array, nr: number, nw: number, nx: number, timeoutMs: number, large: boolean, stats?: Float64Array): number;

  Poll: NativePollConstructor;
  Epoll?: NativeEpollConstructor;
  /** Present in Linux builds; whether the kernel allows it is probed at run time. */
  IoUring?: NativeIoUringConstructor;
  /** null when io_uring_setup works in this process, else its errno error (ENOSYS, EPERM). */
  ioUringProbe?: () => Error | null;
  Waiter: NativeWaiterConstructor;
  /** True when the kernel has epoll_pwait2 (Linux 5.11+: sub-ms epoll timeouts); probed once. */
  epollPwait2Supported?: () => boolean;
  /** Present on macOS/BSD and on Linux builds linked against libkqueue. */
  Kqueue?: NativeKqueueConstructor;

  // fd helpers (lib/fd.ts)
  pipe(nonblocking: boolean): [number, number];
  socketpair(nonblocking: boolean): [number, number];
  close(fd: number): void;
  /** Returns bytes read, 0 at EOF, or null for EAGAIN. */
  read(fd: number, buf: Uint8Array, offset: number, length: number): number | null;
  /** Returns bytes written, or null for EAGAIN. */
  write(fd: number, buf: Uint8Array, offset: number, length: number): number | null;
  setNonBlocking(fd: number, on: boolean): void;
  /** dup2(2) with CLOEXEC kept on the new fd (dup3 where the OS has it). */
  dup2(oldfd: number, newfd: number): number;
  /** The soft and hard RLIMIT_NOFILE; Infinity for RLIM_INFINITY. */
  getNofileLimit(): { soft: number; hard: number };
  setNofileLimit(soft: number, hard: number): void;

  // socket helpers (lib/socket.ts); every fd is non-blocking and CLOEXEC
  listenTcp(host: string, port: number, backlog: number, reusePort?: boolean, ipv6Only?: boolean): number;
  listenUnix(path: string, backlog: number): number;
  accept(fd: number): { fd: number; address: string; port?: number } | null;
  connectTcp(host: string, port: number): number;
  connectUnix(path: string): number;
  /** SO_ERROR as an errno code ('ECONNREFUSED'), or null. */
  socketError(fd: number): string | null;
  localAddress(fd: number): { address: string; port: number };
  /** getpeername(2), in localAddress()'s shape. */
  remoteAddress(fd: number): { address: string; port: number };
  /** how: 0 = SHUT_RD, 1 = SHUT_WR, 2 = SHUT_RDWR. */
  shutdown(fd: number, how: number): void;

  // socket options (lib/sockopt.ts): an int, or SO_LINGER's struct; the kernel's answer as is
  setsockoptInt(fd: number, level: number, name: number, value: number): void;
  getsockoptInt(fd: number, level: number, name: number): number;
  setsockoptLinger(fd: number, onoff: boolean, seconds: number): void;
  getsockoptLinger(fd: number): { onoff: boolean; linger: number };

  // datagram sockets (lib/udp.ts); every fd is non-blocking and CLOEXEC
  /** family: 0 = AF_INET, 1 = AF_INET6, 2 = AF_UNIX; an unbound SOCK_DGRAM socket. */
  udpSocket(family: number): number;
  bindUdp(host: string, port: number): number;
  bindUdpUnix(path: string): number;
  /** Bytes sent, or null for EAGAIN. */
  sendTo(fd: number, buf: Uint8Array, offset: number, length: number, host: string, port: number): number | null;
  sendToUnix(fd: number, buf: Uint8Array, offset: number, length: number, path: string): number | null;
  /** One datagram (cut to length), or null for EAGAIN. */
  recvFrom(fd: number, buf: Uint8Array, offset: number, length: number): { bytes: number; address: { address: string; port: number } } | null;

  // vectored I/O (lib/iovec.ts): at most IOV_MAX buffers (RangeError beyond)
  /** Bytes read, 0 at EOF, or null for EAGAIN. */
  readv(fd: number, buffers: Uint8Array[]): number | null;
  /** Bytes written, or null for EAGAIN. */
  writev(fd: number, buffers: Uint8Array[]): number | null;
}

function load(): NativeBinding {
  // IOMUX_ADDON_PATH loads one given addon file instead (npm run test:sanitize points it at the
  // ASan/UBSan build in build-sanitize/; tests of an old build use it too).
  const override = process.env.IOMUX_ADDON_PATH;
  if (override) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(path.resolve(override)) as NativeBinding;
  }
  // tsc puts this file in dist/lib/; vitest and tsx run it from lib/.
  const inDist = path.basename(path.dirname(__dirname)) === 'dist';
  const base = path.join(__dirname, inDist ? '../..' : '..');
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => any;
    return nodeGypBuild(base) as NativeBinding;
  } catch (cause) {
    const err = new Error(
      `iomux: could not load the native addon (tried ${path.join(base, 'prebuilds', `${process.platform}-${process.arch}`)} ` +
        `and ${path.join(base, 'build', 'Release')}). Run \`npm run build\` in ${base} to compile it.`,
      { cause },
    );
    throw err;
  }
}

/** The loaded addon. */
export const native: NativeBinding = load();
