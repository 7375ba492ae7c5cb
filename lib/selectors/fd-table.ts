/**
 * FdTable: a map from fd to value, stored in an array indexed by fd.
 *
 * Why not a Map: a server registers and unregisters the same small fd numbers over and over, and
 * V8's Map leaves every deleted entry in its bucket's chain until the table is rebuilt, so
 * set/delete of one recurring key slows down with the number of live entries (measured here:
 * 80 ns per has+set+delete at 10 entries, 1.3 us at 1000, 97 us at 19,000). An array indexed by
 * fd costs the same at any size. fds are small dense integers (the kernel hands out the lowest
 * free number), so the array stays about as long as the highest fd registered.
 */
export class FdTable<V> {
  #slots: Array<V | undefined> = [];
  #size = 0;

  /** The number of fds with a value. */
  get size(): number {
    return this.#size;
  }

  get(fd: number): V | undefined {
    return this.#slots[fd];
  }

  has(fd: number): boolean {
    return this.#slots[fd] !== undefined;
  }

  /** Sets fd's value; `undefined` is not a value (use delete). */
  set(fd: number, value: V): this {
    const slots = this.#slots;
    // Grow by appending, so the array keeps V8's fast (non-dictionary) elements.
    while (slots.length <= fd) slots.push(undefined);
    if (slots[fd] === undefined) this.#size++;
    slots[fd] = value;
    return this;
  }

  delete(fd: number): boolean {
    const slots = this.#slots;
    if (slots[fd] === undefined) return false;
    slots[fd] = undefined;
    this.#size--;
    return true;
  }

  clear(): void {
    this.#slots = [];
    this.#size = 0;
  }

  /** [fd, value] pairs in fd order. */
  *entries(): MapIterator<[number, V]> {
    const slots = this.#slots;
    for (let fd = 0; fd < slots.length; fd++) {
      const v = slots[fd];
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
    return undefined;
  }
}
