/**
 * Loads the native addon (prebuilds/ first, then build/, through node-gyp-build) and declares
 * its shape. This is the only `require` of native code in the package.
 *
 * Native timeout convention: a number of milliseconds, fractions allowed; any negative value
 * (or undefined/null) means wait forever. lib/validate.ts maps the public timeout table onto it.
 */
import path from 'node:path';
import type { NativeStats } from './stats';

/** poll(2) state kept natively: a pollfd array plus an fd -> index map. */
export interface NativePoll extends NativeStats {
  /** Adds fd, or replaces its events if it is already there. */
  register(fd: number, events: number): void;
  /** Returns false when fd is not registered. */
  modify(fd: number, events: number): boolean;
  /** Returns false when fd is not registered. */
  unregister(fd: number): boolean;
  /** One ppoll(2) (EINTR retried with the time left); a new [fd, revents] array per ready fd. */
  poll(timeoutMs: number): Array<[number, number]>;
  /** Like poll() but writes (fd, revents) pairs into out; returns the pair count. Allocates nothing. */
  pollInto(out: Int32Array, timeoutMs: number): number;
  readonly size: number;
}

/** An epoll instance that owns its fd (CLOEXEC unless asked otherwise). */
export interface NativeEpoll {
  fileno(): number;
  readonly closed: boolean;
  /** Idempotent. After it every other method throws ERR_CLOSED. */
  close(): void;
  /** epoll_ctl(ADD). data.u64 = tag << 32 | fd, so the selectors can drop stale events. */
  register(fd: number, events: number, tag: number): void;
  /** epoll_ctl(MOD), same tagging as register(). */
  modify(fd: number, events: number, tag: number): void;
  /** epoll_ctl(DEL). */
  unregister(fd: number): void;
  /** One wait (epoll_pwait2 for sub-ms precision where the kernel has it). */
  poll(timeoutMs: number, maxevents: number): Array<[number, number]>;
  /**
   * Writes records of `stride` int32s into out: (fd, events) for stride 2,
   * (fd, events, tag) for stride 3; waits for at most out.length / stride events.
   * Returns the record count. Allocates nothing.
   */
  pollInto(out: Int32Array, timeoutMs: number, stride: number): number;
}

export interface NativeEpollConstructor {
  new (sizehint: number, cloexec: boolean): NativeEpoll;
  /** Takes ownership of an existing epoll fd. */
  fromFd(fd: number): NativeEpoll;
}

/**
 * A kqueue that owns its fd (CLOEXEC). Changes and results are flat Int32Array records of
 * KEV_WORDS (10) int32s each, laid out as native/kqueue_record.h describes and packed by
 * lib/kqueue.ts: identLo, identHi, filter, flags, fflags, 0, dataLo, dataHi, udataLo, udataHi.
 */
export interface NativeKqueue {
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
  has: { epoll: boolean; kqueue: boolean; libkqueue: boolean };

  /**
   * select(2) on fds = [read fds (nr) | write fds (nw) | except fds (nx)]. Entries that are not
   * ready are overwritten with -1; returns how many are ready. `large` sizes the fd sets to the
   * highest fd instead of FD_SETSIZE (the caller has checked the limit otherwise). `stats`, a
   * Float64Array of STAT_SLOTS counters (lib/stats.ts), is updated in place when given.
   */
  select(fds: Int32Array, nr: number, nw: number, nx: number, timeoutMs: number, large: boolean, stats?: Float64Array): number;

  Poll: NativePollConstructor;
  Epoll?: NativeEpollConstructor;
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
  listenTcp(host: string, port: number, backlog: number): number;
  listenUnix(path: string, backlog: number): number;
  accept(fd: number): { fd: number; address: string; port?: number } | null;
  connectTcp(host: string, port: number): number;
  connectUnix(path: string): number;
  /** SO_ERROR as an errno code ('ECONNREFUSED'), or null. */
  socketError(fd: number): string | null;
  localAddress(fd: number): { address: string; port: number };
  /** how: 0 = SHUT_RD, 1 = SHUT_WR, 2 = SHUT_RDWR. */
  shutdown(fd: number, how: number): void;
}

function load(): NativeBinding {
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
