/**
 * What Epoll and Kqueue share: a kernel object that owns its fd (created close-on-exec, closed
 * by close(), `[Symbol.dispose]()` or, if leaked, by the garbage collector), its counters, and
 * the adoption of an existing fd by `fromFd()`.
 */
import { Counted, type NativeStats } from './stats';

/** The native side of a kernel object with an fd of its own. */
export interface NativeKernel extends NativeStats {
  fileno(): number;
  readonly closed: boolean;
  close(): void;
}

// Set only while a fromFd() runs its constructor, to hand it the native object to adopt.
let adopting: NativeKernel | undefined;

/**
 * Runs make() (a constructor call) so that the constructor adopts `native` (see `adopted()`).
 * @returns What make() returns.
 */
export function adopt<R>(native: NativeKernel, make: () => R): R {
  adopting = native;
  try {
    return make();
  } finally {
    adopting = undefined;
  }
}

/** The native object a constructor running inside `adopt()` takes over, else undefined. */
export function adopted<N extends NativeKernel>(): N | undefined {
  const native = adopting as N | undefined;
  adopting = undefined;
  return native;
}

/**
 * The base of Epoll and Kqueue: every method after `close()` throws `ERR_CLOSED` without
 * touching the old fd number, which the kernel may have given to another file.
 */
export abstract class KernelObject<N extends NativeKernel> extends Counted {
  /** The native object, which owns the fd. */
  protected readonly _native: N;

  /** @param native The native object to own. */
  constructor(native: N) {
    super();
    this._native = native;
  }

  /**
   * The kernel object's fd.
   * @returns The fd number.
   * @throws Error `ERR_CLOSED` after close().
   */
  fileno(): number {
    return this._native.fileno();
  }

  /** True once close() has been called. */
  get closed(): boolean {
    return this._native.closed;
  }

  /**
   * Closes the fd. Idempotent. A pending asynchronous wait is rejected with `ERR_CLOSED`.
   * @throws ErrnoError when close(2) fails (e.g. `EBADF` if the fd was closed behind its back);
   *   the object is closed all the same.
   */
  close(): void {
    this._native.close();
  }

  /** Calls close(), for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  protected override _counters(): NativeStats {
    return this._native;
  }
}
