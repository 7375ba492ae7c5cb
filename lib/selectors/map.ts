/** A selector's fd -> key table (KeyTable) and the read-only live view of it (SelectorMap). */
import { EVENT_READ, EVENT_WRITE } from '../constants';
import { outOfRange } from '../errors';
import { validateEvents, type FileLike } from '../validate';
import { FdTable } from './fd-table';
import type { SelectorKey } from './types';

/** Checks a selector events mask: a non-zero mask of EVENT_READ and EVENT_WRITE. */
export function validateSelectorEvents(value: unknown): number {
  const events = validateEvents(value, EVENT_READ | EVENT_WRITE);
  if (events === 0) throw outOfRange('events', 'a non-zero mask of EVENT_READ and EVENT_WRITE', value);
  return events;
}

/** A new frozen key. */
export function makeKey<T>(fileobj: FileLike, fd: number, events: number, data: T): SelectorKey<T> {
  return Object.freeze({ fileobj, fd, events, data });
}

/**
 * fd -> key (an FdTable of its own, so that every fd lookup stays monomorphic), plus registered
 * objects (not numbers) -> fd, so that a socket closed since it was registered is still found
 * by identity.
 */
export class KeyTable<T> {
  /** The keys by fd. */
  readonly byFd = new FdTable<SelectorKey<T>>();
  readonly #byObject = new Map<object, number>();

  /** Adds or replaces a key under its fd (and its object). */
  insert(key: SelectorKey<T>): void {
    this.byFd.set(key.fd, key);
    if (typeof key.fileobj === 'object' && key.fileobj !== null) this.#byObject.set(key.fileobj, key.fd);
  }

  /** Removes a key (and its object, unless the object was registered again under another fd). */
  remove(key: SelectorKey<T>): void {
    this.byFd.delete(key.fd);
    const obj = key.fileobj;
    if (typeof obj === 'object' && obj !== null && this.#byObject.get(obj) === key.fd) this.#byObject.delete(obj);
  }

  /** The key registered for this very object, or undefined. */
  ofObject(obj: object): SelectorKey<T> | undefined {
    const fd = this.#byObject.get(obj);
    const key = fd === undefined ? undefined : this.byFd.get(fd);
    return key?.fileobj === obj ? key : undefined;
  }

  clear(): void {
    this.byFd.clear();
    this.#byObject.clear();
  }
}

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
