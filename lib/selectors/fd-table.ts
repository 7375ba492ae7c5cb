/**
 * FdTable: a map from fd to value, stored in an array indexed by fd for the fds a process can
 * open, and in a Map for the rare numbers above that.
 *
 * Why an array: a server registers and unregisters the same small fd numbers over and over, and
 * V8's Map leaves every deleted entry in its bucket's chain until the table is rebuilt, so
 * set/delete of one recurring key slows down with the number of live entries (measured here:
 * 80 ns per has+set+delete at 10 entries, 1.3 us at 1000, 97 us at 19,000). An array indexed by
 * fd costs the same at any size. fds are small dense integers (the kernel hands out the lowest
 * free number), so the array stays about as long as the highest fd registered.
 *
 * Why a bound: an array grown up to any fd given would make `register(2 ** 31 - 1)` allocate
 * slots for every number below it (V8 aborts the process with "invalid size"). The kernel only
 * hands out numbers below RLIMIT_NOFILE, so the array covers [0, max(1024, soft limit)) (at most
 * 2^20 slots) and a number past it goes to a Map: memory follows the registrations.
 */
import { native } from '../binding';

/** Below this the array is always used, without asking for the limit. */
const DENSE_MIN = 1024;
/** The array never grows past this many slots, whatever RLIMIT_NOFILE says (8 MiB at most). */
const DENSE_MAX = 2 ** 20;

const NO_FDS: readonly number[] = [];

/** The default dense bound: the RLIMIT_NOFILE soft limit, within [DENSE_MIN, DENSE_MAX]. */
export function nofileDenseBound(): number {
  const soft = native.getNofileLimit().soft;
  return Math.min(DENSE_MAX, Math.max(DENSE_MIN, soft));
}

export class FdTable<V> {
  #slots: Array<V | undefined> = [];
  /** fds below it live in #slots, fds at or above it in #sparse. It only grows. */
  #bound = DENSE_MIN;
  #sparse: Map<number, V> | undefined;
  #size = 0;
  readonly #denseBound: () => number;

  /**
   * @param denseBound Gives the number of fds the array may cover (read again, lazily, when an
   *   fd at or past the current bound arrives, since the limit may have been raised).
   */
  constructor(denseBound: () => number = nofileDenseBound) {
    this.#denseBound = denseBound;
  }

  /** The number of fds with a value. */
  get size(): number {
    return this.#size;
  }

  get(fd: number): V | undefined {
    // The array first: a hit or a miss with no sparse entries (the usual case) costs one load.
    const v = this.#slots[fd];
    if (v !== undefined || this.#sparse === undefined) return v;
    return fd >= this.#bound ? this.#sparse.get(fd) : undefined;
  }

  has(fd: number): boolean {
    return this.get(fd) !== undefined;
  }

  /**
   * Whether fd would be kept in the array, i.e. is below the process's fd limit. A number past
   * it cannot come from the kernel now: callers ask the kernel about it before keeping it.
   */
  fitsDense(fd: number): boolean {
    return fd < this.#bound || this.#raiseBound(fd);
  }

  /** Sets fd's value; `undefined` is not a value (use delete). */
  set(fd: number, value: V): this {
    if (fd < this.#bound || this.#raiseBound(fd)) {
      const slots = this.#slots;
      // Grow by appending, so the array keeps V8's fast (non-dictionary) elements.
      while (slots.length <= fd) slots.push(undefined);
      if (slots[fd] === undefined) this.#size++;
      slots[fd] = value;
      return this;
    }
    const sparse = (this.#sparse ??= new Map());
    if (!sparse.has(fd)) this.#size++;
    sparse.set(fd, value);
    return this;
  }

  delete(fd: number): boolean {
    const slots = this.#slots;
    if (slots[fd] !== undefined) {
      slots[fd] = undefined;
      this.#size--;
      return true;
    }
    if (this.#sparse === undefined || fd < this.#bound || !this.#sparse.delete(fd)) return false;
    this.#size--;
    return true;
  }

  clear(): void {
    this.#slots = [];
    this.#sparse = undefined;
    this.#size = 0;
  }

  /** [fd, value] pairs in fd order. */
  *entries(): MapIterator<[number, V]> {
    const slots = this.#slots;
    for (let fd = 0; fd < slots.length; fd++) {
      const v = slots[fd];
      if (v !== undefined) yield [fd, v];
    }
    for (const fd of this.#sparseFds()) {
      const v = this.#sparse?.get(fd);
      if (v !== undefined) yield [fd, v];
    }
    return undefined;
  }

  /** The fds with a value, in order. */
  *keys(): MapIterator<number> {
    for (const [fd] of this.entries()) yield fd;
    return undefined;
  }

  /** The values, in fd order. */
  *values(): MapIterator<V> {
    const slots = this.#slots;
    for (let fd = 0; fd < slots.length; fd++) {
      const v = slots[fd];
      if (v !== undefined) yield v;
    }
    for (const fd of this.#sparseFds()) {
      const v = this.#sparse?.get(fd);
      if (v !== undefined) yield v;
    }
    return undefined;
  }

  /** The fds in the Map, sorted: each is above every array fd, so walks stay in fd order. */
  #sparseFds(): readonly number[] {
    const sparse = this.#sparse;
    if (sparse === undefined || sparse.size === 0) return NO_FDS;
    return [...sparse.keys()].sort((a, b) => a - b);
  }

  /** Reads the bound again; moves the sparse entries it now covers into the array. */
  #raiseBound(fd: number): boolean {
    const bound = this.#denseBound();
    if (bound <= this.#bound) return false;
    this.#bound = bound;
    const sparse = this.#sparse;
    if (sparse !== undefined) {
      for (const [k, v] of [...sparse]) {
        if (k >= bound) continue;
        sparse.delete(k);
        while (this.#slots.length <= k) this.#slots.push(undefined);
        this.#slots[k] = v;
      }
    }
    return fd < bound;
  }
}
