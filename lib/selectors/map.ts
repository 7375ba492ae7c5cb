/** SelectorMap: the read-only live view that `BaseSelector#getMap()` returns. */
import type { SelectorKey } from './base';
import type { FdTable } from './fd-table';

/**
 * A live, read-only view of a selector's fd -> key map (CPython's `_SelectorMapping`). It has no
 * mutators; after the selector is closed it is empty. It iterates in fd order (CPython's dict
 * iterates in registration order).
 */
export class SelectorMap<T> implements ReadonlyMap<number, SelectorKey<T>> {
  readonly #keys: FdTable<SelectorKey<T>>;

  /** @param keys The selector's own map, viewed and never copied. */
  constructor(keys: FdTable<SelectorKey<T>>) {
    this.#keys = keys;
  }

  /** The number of registered fds. */
  get size(): number {
    return this.#keys.size;
  }

  /** @returns The key registered for fd, or undefined. */
  get(fd: number): SelectorKey<T> | undefined {
    return this.#keys.get(fd);
  }

  /** @returns Whether fd is registered. */
  has(fd: number): boolean {
    return this.#keys.has(fd);
  }

  /** Calls fn for each key, in fd order. */
  forEach(fn: (key: SelectorKey<T>, fd: number, map: ReadonlyMap<number, SelectorKey<T>>) => void, thisArg?: unknown): void {
    for (const [fd, key] of this.#keys.entries()) fn.call(thisArg, key, fd, this);
  }

  /** @returns The registered fds. */
  keys(): MapIterator<number> {
    return this.#keys.keys();
  }

  /** @returns The registered keys. */
  values(): MapIterator<SelectorKey<T>> {
    return this.#keys.values();
  }

  /** @returns [fd, key] pairs. */
  entries(): MapIterator<[number, SelectorKey<T>]> {
    return this.#keys.entries();
  }

  /** The `[fd, key]` pairs, as `entries()`. */
  [Symbol.iterator](): MapIterator<[number, SelectorKey<T>]> {
    return this.#keys.entries();
  }

  /** `'SelectorMap'`, for `Object.prototype.toString`. */
  get [Symbol.toStringTag](): string {
    return 'SelectorMap';
  }
}
