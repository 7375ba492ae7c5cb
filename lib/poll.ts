/** Raw poll(2): class Poll, a pollfd array kept natively. Validate, then one native call. */
import { native } from './binding';
import type { NativePoll } from './binding';
import { constants } from './constants';
import { stateError } from './errors';
import type { WaitStats } from './stats';
import { fileLikeToFd, pollTimeout, validateInteger, validateOutBuffer } from './validate';
import type { FileLike } from './validate';

/**
 * Any 16-bit mask, as CPython's select.poll takes (test_poll3): pollfd.events is a short, and
 * flags this package does not name (POLLRDHUP elsewhere, a newer kernel's) go to the kernel as
 * they are, which ignores what it does not know.
 */
const MAX_POLL_EVENTS = 0xffff;

function validatePollEvents(value: unknown): number {
  return validateInteger(value, 'events', 0, MAX_POLL_EVENTS);
}

/** register()'s default: readable, urgent data, writable (as CPython's select.poll). */
const DEFAULT_EVENTS = constants.POLLIN | constants.POLLPRI | constants.POLLOUT;

/**
 * A set of fds watched with poll(2) (CPython's `select.poll()` object). The pollfd array lives
 * in native memory and is handed to the kernel as it is on every wait.
 *
 * Portability: on Linux the wait uses ppoll(2), so fractional timeouts are exact; elsewhere
 * poll(2) takes whole milliseconds and a fraction is rounded up (0.3 ms waits 1 ms, never 0).
 */
export class Poll {
  #native: NativePoll = new native.Poll();
  /** poll()'s reusable wait buffer: (fd, revents) pairs, grown with the registrations. */
  #scratch = new Int32Array(16);

  /**
   * Watches an fd, or changes its events if it is already watched.
   * @param fd the fd or a FileLike.
   * @param events a mask of POLL* flags, any integer 0..0xffff (default `POLLIN | POLLPRI | POLLOUT`).
   * @throws TypeError `ERR_INVALID_ARG_TYPE` for a non-FileLike or non-number events.
   * @throws RangeError `ERR_OUT_OF_RANGE` for a negative fd or events outside 0..0xffff.
   */
  register(fd: FileLike, events: number = DEFAULT_EVENTS): void {
    const f = fileLikeToFd(fd);
    this.#native.register(f, validatePollEvents(events));
  }

  /**
   * Changes the events of an fd that is watched.
   * @param fd the fd or a FileLike.
   * @param events a mask of POLL* flags, any integer 0..0xffff.
   * @throws Error `ERR_NOT_REGISTERED` if fd is not watched (CPython: OSError ENOENT).
   * @throws TypeError `ERR_INVALID_ARG_TYPE` / RangeError `ERR_OUT_OF_RANGE` for bad arguments.
   */
  modify(fd: FileLike, events: number): void {
    const f = fileLikeToFd(fd);
    if (!this.#native.modify(f, validatePollEvents(events))) {
      throw stateError('ERR_NOT_REGISTERED', `fd ${f} is not registered`);
    }
  }

  /**
   * Stops watching an fd. Works after the fd was closed.
   * @param fd the fd or a FileLike.
   * @throws Error `ERR_NOT_REGISTERED` if fd is not watched (CPython: KeyError).
   * @throws TypeError `ERR_INVALID_ARG_TYPE` / RangeError `ERR_OUT_OF_RANGE` for a bad fd.
   */
  unregister(fd: FileLike): void {
    const f = fileLikeToFd(fd);
    if (!this.#native.unregister(f)) {
      throw stateError('ERR_NOT_REGISTERED', `fd ${f} is not registered`);
    }
  }

  /**
   * Waits for events (one poll(2), retried after a signal with the time left, unless JS listens
   * for that signal: then it throws `EINTR` with `err.signal`, see the README's "Signals and
   * stopped workers during a synchronous wait").
   * @param timeout milliseconds, fractions honoured; `undefined`, `null` or negative waits
   *   forever (as poll(2)); `0` does not wait.
   * @returns a new `[fd, revents]` pair per ready fd; a closed fd reports `POLLNVAL`.
   * @throws TypeError `ERR_INVALID_ARG_TYPE` for a non-number timeout; RangeError
   *   `ERR_OUT_OF_RANGE` for NaN or > 2^31-1; ErrnoError from poll(2) (e.g. `EINVAL` when more
   *   fds are watched than RLIMIT_NOFILE allows).
   */
  poll(timeout?: number | null): Array<[fd: number, revents: number]> {
    const ms = pollTimeout(timeout);
    // Waiting into a reused buffer and building the pairs here is cheaper than building them
    // through N-API (about 180 ns a pair there): the pairs are the only allocation.
    const need = 2 * Math.max(1, this.#native.size);
    if (this.#scratch.length < need) this.#scratch = new Int32Array(Math.max(need, 2 * this.#scratch.length));
    const buf = this.#scratch;
    const n = this.#native.pollInto(buf, ms);
    const out = new Array<[number, number]>(n);
    for (let i = 0; i < n; i++) out[i] = [buf[2 * i], buf[2 * i + 1]];
    return out;
  }

  /**
   * Like {@link Poll.poll} but writes `(fd, revents)` pairs into `out` and allocates nothing.
   * When more fds are ready than `out` holds, the rest are reported by the next call, which
   * starts after the last fd reported so that none starves.
   * @param out an Int32Array of even length >= 2; never written past its end.
   * @param timeout as for {@link Poll.poll}.
   * @returns the number of pairs written (at most `out.length / 2`).
   * @throws TypeError `ERR_INVALID_ARG_TYPE` if out is not an Int32Array; RangeError
   *   `ERR_OUT_OF_RANGE` for an odd or too short out, or a bad timeout.
   */
  pollInto(out: Int32Array, timeout?: number | null): number {
    const buf = validateOutBuffer(out);
    return this.#native.pollInto(buf, pollTimeout(timeout));
  }

  /** The number of fds watched. */
  get size(): number {
    return this.#native.size;
  }

  /**
   * Counters of this object's waits (see {@link WaitStats}).
   * @returns a new object; the counters go on counting.
   */
  stats(): WaitStats {
    return this.#native.stats();
  }

  /** Sets every counter back to 0 (timing stays as it is). */
  resetStats(): void {
    this.#native.resetStats();
  }

  /**
   * Switches the measuring of `syscallNs` and `callNs` on or off (off by default).
   * @param on true to measure.
   */
  setStatsTiming(on: boolean): void {
    this.#native.setStatsTiming(on === true);
  }
}
