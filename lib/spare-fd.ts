/** SpareFd: one fd held in reserve so that a server out of fds can still drop connections. */
import { openSync } from 'node:fs';
import { native } from './binding';
import { isErrno } from './errors';
import type { AcceptedSocket } from './socket';
import { validateFd } from './validate';

/** Errors that say no fd is left for accept(): the process's (EMFILE) or the system's (ENFILE). */
const NO_FD_LEFT: ReadonlySet<string> = new Set(['EMFILE', 'ENFILE']);

function isNoFdLeft(err: unknown): boolean {
  return isErrno(err) && NO_FD_LEFT.has(err.code);
}

/** SpareFd#fd when close() was called: never reopened. */
const CLOSED = -2;
/** SpareFd#fd when the spare was released to drop connections and not yet reopened. */
const LOST = -1;

/**
 * One file descriptor held in reserve (an open /dev/null), so that a server out of fds can
 * still take the connections waiting on its listener and close them, as libuv
 * (`uv__emfile_trick`) and nginx do. Without it, `accept()` fails with EMFILE and leaves the
 * connection queued: the listener stays readable and an accept loop spins at full speed, while
 * the client waits for nothing.
 *
 * Use one per process (or per thread), and take connections with `spare.accept(listener)`
 * instead of `accept(listener)`.
 *
 * Portability: everywhere. ENFILE (the system's table is full) is handled the same way, but
 * another process may take the freed slot first; then the error is thrown as `accept()` would.
 */
export class SpareFd {
  #fd = LOST;
  #dropped = 0;

  /**
   * Opens the spare fd (close-on-exec).
   * @throws ErrnoError EMFILE / ENFILE when not even one fd is left.
   */
  constructor() {
    this.#fd = openSync('/dev/null', 'r');
  }

  /** How many connections were accepted and closed at once for want of an fd. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Whether the spare fd is held now (false after `close()`, or when it could not be reopened yet). */
  get held(): boolean {
    return this.#fd >= 0;
  }

  /**
   * Takes one pending connection, like `accept()`. When there is no fd left for it (EMFILE,
   * ENFILE), the spare fd is closed, every pending connection is accepted and closed at once
   * (its client reads EOF or a reset), `dropped` grows by their number, and the spare is opened
   * again: the listener is no longer readable, so the loop waits instead of spinning.
   * @param fd A listening socket.
   * @returns The connection as `accept()` gives it; `null` when nothing is pending (EAGAIN) or
   *   when the pending connections were dropped (compare `dropped` before and after to tell).
   * @throws TypeError/RangeError for a bad fd; errno errors as `accept()`: EMFILE / ENFILE only
   *   when the spare is not held (closed, or taken by another thread before it was reopened).
   */
  accept(fd: number): AcceptedSocket | null {
    const listener = validateFd(fd);
    try {
      return native.accept(listener);
    } catch (err) {
      if (!isNoFdLeft(err) || !this.#reopen()) throw err;
    }
    this.#dropPending(listener);
    return null;
  }

  /** Closes the spare fd. Idempotent. */
  close(): void {
    if (this.#fd >= 0) native.close(this.#fd);
    this.#fd = CLOSED;
  }

  /** Calls `close()`, for `using spare = new SpareFd()`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Whether the spare is held, opening it again first if it was lost (not after close()). */
  #reopen(): boolean {
    if (this.#fd >= 0) return true;
    if (this.#fd === CLOSED) return false;
    try {
      this.#fd = openSync('/dev/null', 'r');
      return true;
    } catch {
      return false;
    }
  }

  /** Releases the spare, accepts and closes every pending connection, takes the spare back. */
  #dropPending(listener: number): void {
    native.close(this.#fd);
    this.#fd = LOST;
    let failure: unknown;
    try {
      for (let conn = native.accept(listener); conn !== null; conn = native.accept(listener)) {
        native.close(conn.fd);
        this.#dropped++;
      }
    } catch (err) {
      // EMFILE again: another thread took the freed fd. Anything else is the caller's to hear.
      if (!isNoFdLeft(err)) failure = err;
    }
    this.#reopen();
    if (failure !== undefined) throw failure;
  }
}
