/** File-descriptor helpers on raw fds: enough to feed the multiplexers without node:net. */
import { fstatSync } from 'node:fs';
import { native } from './binding';
import { invalidArgType, outOfRange } from './errors';
import { checkNotDetached, validateFd, validateInteger, validateOptions } from './validate';

/** Options for pipe() and socketpair(). */
export interface PairOptions {
  /** Set O_NONBLOCK on both ends (default false). */
  nonblocking?: boolean;
}

function pairOptions(options: unknown): boolean {
  const nonblocking = validateOptions<PairOptions>(options).nonblocking; // read once (getters)
  if (nonblocking !== undefined && typeof nonblocking !== 'boolean') {
    throw invalidArgType('options.nonblocking', 'of type boolean', nonblocking);
  }
  return nonblocking ?? false;
}

/**
 * Makes a pipe. Both ends are CLOEXEC.
 * @param options `{ nonblocking }` sets O_NONBLOCK on both ends.
 * @returns `[readEnd, writeEnd]`.
 * @throws ErrnoError `EMFILE` / `ENFILE` when no fd is left.
 */
export function pipe(options?: PairOptions): [r: number, w: number] {
  return native.pipe(pairOptions(options));
}

/**
 * Makes a connected pair of AF_UNIX stream sockets. Both ends are CLOEXEC.
 * @param options `{ nonblocking }` sets O_NONBLOCK on both ends.
 * @returns the two ends.
 * @throws ErrnoError `EMFILE` / `ENFILE` when no fd is left.
 */
export function socketpair(options?: PairOptions): [number, number] {
  return native.socketpair(pairOptions(options));
}

/**
 * Closes an fd.
 * @param fd the descriptor.
 * @throws ErrnoError `EBADF` if fd is not open.
 */
export function close(fd: number): void {
  native.close(validateFd(fd));
}

/** Checks (buf, offset, length): a Uint8Array and a range inside it. */
export function span(buf: unknown, offset: unknown, length: unknown): [Uint8Array, number, number] {
  if (!(buf instanceof Uint8Array)) throw invalidArgType('buffer', 'an instance of Buffer or Uint8Array', buf);
  // A detached buffer reads as empty: read() would answer 0, which means end of file.
  checkNotDetached(buf, 'buffer');
  const off = offset === undefined ? 0 : validateInteger(offset, 'offset', 0, buf.length);
  const len = length === undefined ? buf.length - off : validateInteger(length, 'length', 0, buf.length - off);
  return [buf, off, len];
}

/**
 * Reads at most `length` bytes into `buf` at `offset` (one read(2), EINTR retried).
 * @param fd the descriptor.
 * @param buf where the bytes go.
 * @param offset start in buf (default 0).
 * @param length most bytes to read (default: the rest of buf).
 * @returns the count read, 0 at end of file, or null when a non-blocking fd has nothing (EAGAIN).
 * @throws ErrnoError (`EBADF`, `ECONNRESET`, ...); RangeError `ERR_OUT_OF_RANGE` for a span outside buf;
 *   Error `ERR_INVALID_ARG_VALUE` for a buffer whose memory was detached (transferred).
 */
export function read(fd: number, buf: Uint8Array, offset?: number, length?: number): number | null {
  const f = validateFd(fd);
  const [b, off, len] = span(buf, offset, length);
  return native.read(f, b, off, len);
}

/**
 * Writes at most `length` bytes from `buf` at `offset` (one write(2), EINTR retried). On a
 * socket, a peer that has gone gives `EPIPE` rather than a SIGPIPE.
 * @param fd the descriptor.
 * @param buf the bytes.
 * @param offset start in buf (default 0).
 * @param length most bytes to write (default: the rest of buf).
 * @returns the count written, or null when a non-blocking fd is full (EAGAIN).
 * @throws ErrnoError (`EBADF`, `EPIPE`, ...); RangeError `ERR_OUT_OF_RANGE` for a span outside buf;
 *   Error `ERR_INVALID_ARG_VALUE` for a buffer whose memory was detached (transferred).
 */
export function write(fd: number, buf: Uint8Array, offset?: number, length?: number): number | null {
  const f = validateFd(fd);
  const [b, off, len] = span(buf, offset, length);
  return native.write(f, b, off, len);
}

/**
 * Sets or clears O_NONBLOCK.
 * @param fd the descriptor.
 * @param on true (default) for non-blocking.
 * @throws ErrnoError `EBADF`.
 */
export function setNonBlocking(fd: number, on = true): void {
  if (typeof on !== 'boolean') throw invalidArgType('on', 'of type boolean', on);
  native.setNonBlocking(validateFd(fd), on);
}

/**
 * Duplicates `oldfd` onto `newfd` (closing what newfd was), CLOEXEC on the copy. Used to place
 * fds at chosen numbers, e.g. below FD_SETSIZE for select().
 * @param oldfd the open descriptor.
 * @param newfd the number it should also have.
 * @returns newfd.
 * @throws ErrnoError `EBADF` (oldfd not open, or newfd beyond RLIMIT_NOFILE).
 */
export function dup2(oldfd: number, newfd: number): number {
  return native.dup2(validateFd(oldfd, 'oldfd'), validateFd(newfd, 'newfd'));
}

/**
 * The RLIMIT_NOFILE limits of this process.
 * @returns `{ soft, hard }`, `Infinity` for RLIM_INFINITY.
 */
export function getNofileLimit(): {
  /** The limit in force for this process. */
  soft: number;
  /** The ceiling up to which the soft limit may be raised without privileges. */
  hard: number;
} {
  return native.getNofileLimit();
}

function validateLimit(value: unknown, name: string): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (value === Infinity) return value;
  if (!Number.isSafeInteger(value) || value < 0) throw outOfRange(name, 'an integer >= 0 or Infinity', value);
  return value;
}

/**
 * Sets RLIMIT_NOFILE. Raising the soft limit up to the hard one needs no privilege.
 * @param soft the new soft limit.
 * @param hard the new hard limit (default: keep the current one).
 * @throws ErrnoError `EINVAL` (soft > hard), `EPERM` (raising hard without privilege), as the kernel says.
 */
export function setNofileLimit(soft: number, hard?: number): void {
  const s = validateLimit(soft, 'soft');
  const h = hard === undefined ? native.getNofileLimit().hard : validateLimit(hard, 'hard');
  native.setNofileLimit(s, h);
}

/**
 * Asks the kernel whether fd is open (one fstat(2)); for numbers that a table must not take on
 * trust. Internal: not exported from the package.
 * @param fd A validated fd number.
 * @throws ErrnoError `EBADF` (syscall 'fstat', Node's own UVException shape) when it is not open.
 */
export function assertOpenFd(fd: number): void {
  fstatSync(fd);
}
