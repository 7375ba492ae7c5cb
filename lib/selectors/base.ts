/**
 * The selectors layer's bookkeeping, shared by every backend: the fd -> key map, argument checks,
 * lookups by identity then by fd, rollback of a failed register/modify, close, and the retry loop
 * that keeps dropped stale events from shortening a wait. Modeled on CPython's
 * Lib/selectors.py `_BaseSelectorImpl`; a backend subclass only talks to its kernel object.
 */
import { EVENT_READ, EVENT_WRITE } from '../constants';
import { isErrno, outOfRange, stateError } from '../errors';
import { fileLikeToFd, selectorTimeout, validateEvents, type FileLike } from '../validate';

/** The names of the selector backends. */
export type BackendName = 'select' | 'poll' | 'epoll' | 'kqueue';

/**
 * What a selector remembers about one registered file (CPython's `SelectorKey` named tuple).
 * Keys are frozen: `modify()` returns a new key instead of changing the old one.
 */
export interface SelectorKey<T = unknown> {
  /** The object given to `register()`, returned as it is. */
  readonly fileobj: FileLike;
  /** Its file descriptor at registration time. */
  readonly fd: number;
  /** The events it is watched for: a mask of EVENT_READ and EVENT_WRITE. */
  readonly events: number;
  /** The caller's attached data. */
  readonly data: T;
}

/** One ready entry of `select()`: the key and the events that are ready (a subset of key.events). */
export type SelectorEvent<T> = [key: SelectorKey<T>, events: number];

const ALL_EVENTS = EVENT_READ | EVENT_WRITE;

function validateSelectorEvents(value: unknown): number {
  const events = validateEvents(value, ALL_EVENTS);
  if (events === 0) throw outOfRange('events', 'a non-zero mask of EVENT_READ and EVENT_WRITE', value);
  return events;
}

function makeKey<T>(fileobj: FileLike, fd: number, events: number, data: T): SelectorKey<T> {
  return Object.freeze({ fileobj, fd, events, data });
}

/**
 * A live, read-only view of a selector's fd -> key map (CPython's `_SelectorMapping`). It has no
 * mutators; after the selector is closed it is empty.
 */
export class SelectorMap<T> implements ReadonlyMap<number, SelectorKey<T>> {
  readonly #keys: Map<number, SelectorKey<T>>;

  /** @param keys The selector's own map, viewed and never copied. */
  constructor(keys: Map<number, SelectorKey<T>>) {
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

  /** Calls fn for each key, in registration order. */
  forEach(fn: (key: SelectorKey<T>, fd: number, map: ReadonlyMap<number, SelectorKey<T>>) => void, thisArg?: unknown): void {
    for (const [fd, key] of this.#keys) fn.call(thisArg, key, fd, this);
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

  [Symbol.iterator](): MapIterator<[number, SelectorKey<T>]> {
    return this.#keys.entries();
  }

  get [Symbol.toStringTag](): string {
    return 'SelectorMap';
  }
}

/**
 * The base of every selector: CPython's `selectors.BaseSelector` with its bookkeeping.
 * Subclasses implement the four protected hooks `_add`, `_remove`, `_modify` and `_poll`.
 *
 * @typeParam T The type of the data attached to each key.
 */
export abstract class BaseSelector<T = unknown> {
  /** Which kernel mechanism this selector uses. */
  abstract readonly backend: BackendName;

  readonly #keys = new Map<number, SelectorKey<T>>();
  /** Registered objects (not numbers) -> fd, so a closed socket is still found by identity. */
  readonly #byObject = new Map<object, number>();
  readonly #view = new SelectorMap<T>(this.#keys);
  #closed = false;

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Starts watching a file for events.
   * @param fileobj A FileLike: an fd, `{ fd }` or `{ fileno() }`.
   * @param events A non-zero mask of EVENT_READ and EVENT_WRITE.
   * @param data Anything to attach to the key (a callback, a connection state).
   * @returns The new frozen key.
   * @throws TypeError ERR_INVALID_ARG_TYPE: fileobj is not a FileLike or events not a number.
   * @throws RangeError ERR_OUT_OF_RANGE: a negative fd, events 0 or with other bits.
   * @throws Error ERR_ALREADY_REGISTERED: this fd is registered already (also through another object).
   * @throws Error ERR_CLOSED: the selector is closed.
   * @throws RangeError ERR_FD_SETSIZE: (SelectSelector) fd >= FD_SETSIZE without allowLargeFds.
   * @throws Error with an errno code: the kernel refused (epoll: EPERM for a regular file).
   *   Nothing is left registered then.
   */
  register(fileobj: FileLike, events: number, data?: T): SelectorKey<T> {
    this.#checkOpen();
    const mask = validateSelectorEvents(events);
    const fd = fileLikeToFd(fileobj, 'fileobj');
    if (this.#keys.has(fd)) throw stateError('ERR_ALREADY_REGISTERED', `fd ${fd} is already registered`);
    const key = makeKey(fileobj, fd, mask, data as T);
    this.#insert(key);
    try {
      this._add(key);
    } catch (err) {
      this.#delete(key);
      throw err;
    }
    return key;
  }

  /**
   * Stops watching a file. It works after the file was closed, and after its fd number was
   * reused by another file: the object is found by identity first, then by fd, and the
   * kernel's EBADF/ENOENT for a closed fd are ignored.
   * @param fileobj The object (or fd) given to `register()`.
   * @returns The key that was removed.
   * @throws Error ERR_NOT_REGISTERED: nothing is registered for it.
   * @throws Error ERR_CLOSED: the selector is closed.
   * @throws TypeError / RangeError: fileobj is not a valid FileLike and is not registered.
   */
  unregister(fileobj: FileLike): SelectorKey<T> {
    this.#checkOpen();
    const key = this.#lookup(fileobj);
    this.#delete(key);
    try {
      this._remove(key);
    } catch (err) {
      // The fd was closed since it was registered (EBADF), or closed and reused so the kernel no
      // longer knows it under this number (ENOENT): the registration is gone either way.
      if (!isErrno(err, 'EBADF') && !isErrno(err, 'ENOENT')) throw err;
    }
    return key;
  }

  /**
   * Changes the events or the data of a registered file. A change of data alone makes no system
   * call. As in CPython, `data` replaces the old data (leaving it out sets it to undefined).
   * @param fileobj The object (or fd) given to `register()`.
   * @param events A non-zero mask of EVENT_READ and EVENT_WRITE.
   * @param data The new data.
   * @returns The new key (the old one is unchanged: keys are frozen).
   * @throws Error ERR_NOT_REGISTERED, ERR_CLOSED; TypeError / RangeError as `register()`.
   * @throws Error with an errno code: the kernel refused; the file is then unregistered, in the
   *   map and in the kernel alike (CPython bpo-30014).
   */
  modify(fileobj: FileLike, events: number, data?: T): SelectorKey<T> {
    this.#checkOpen();
    const mask = validateSelectorEvents(events);
    const old = this.#lookup(fileobj);
    if (mask === old.events && data === old.data) return old;
    const key = makeKey(old.fileobj, old.fd, mask, data as T);
    if (mask !== old.events) {
      try {
        this._modify(old, key);
      } catch (err) {
        this.#delete(old);
        this.#forget(old);
        throw err;
      }
    }
    this.#keys.set(key.fd, key);
    return key;
  }

  /**
   * Waits until at least one registered file is ready, or the timeout passes.
   * @param timeout Milliseconds (fractions honoured); undefined/null waits forever; 0 or a
   *   negative number does not wait (as Python's selectors).
   * @returns One [key, events] entry per ready fd, with its events merged; [] on timeout.
   * @throws Error ERR_CLOSED after `close()`.
   * @throws TypeError / RangeError ERR_OUT_OF_RANGE: a timeout that is not a number, NaN or > 2^31-1.
   * @throws Error with an errno code: the wait failed (select: EBADF for a closed registered fd).
   *
   * Portability: select and poll see a closed registered fd (EBADF / POLLNVAL) where epoll
   * silently forgets it; unregister files before closing them.
   */
  select(timeout?: number | null): Array<SelectorEvent<T>> {
    const ms = selectorTimeout(timeout);
    this.#checkOpen();
    const ready: Array<SelectorEvent<T>> = [];
    const start = ms > 0 ? performance.now() : 0;
    let left = ms;
    for (;;) {
      const records = this._poll(left, ready);
      if (ready.length > 0 || records === 0 || ms === 0) return ready;
      // Every record was stale (a registration that no longer exists): wait on with the time left.
      if (ms > 0) {
        left = ms - (performance.now() - start);
        if (left <= 0) return ready;
      }
    }
  }

  /**
   * The key registered for a file.
   * @param fileobj The object (or fd) given to `register()`.
   * @returns Its key.
   * @throws Error ERR_NOT_REGISTERED; ERR_CLOSED after `close()`.
   */
  getKey(fileobj: FileLike): SelectorKey<T> {
    this.#checkOpen();
    return this.#lookup(fileobj);
  }

  /**
   * A live read-only view of the fd -> key map. After `close()` it is empty.
   * @returns The view (the same object on every call).
   */
  getMap(): ReadonlyMap<number, SelectorKey<T>> {
    return this.#view;
  }

  /**
   * The kernel object's fd.
   * @returns The epoll/kqueue fd; -1 for select and poll, and after `close()`.
   */
  fileno(): number {
    return -1;
  }

  /** Releases the kernel object and forgets every key. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#keys.clear();
    this.#byObject.clear();
    this._close();
  }

  /** Calls `close()`, for `using sel = new DefaultSelector()`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** The number of registered fds (for subclasses sizing their buffers). */
  protected get _size(): number {
    return this.#keys.size;
  }

  /** The key for fd, for subclasses turning kernel records into entries. */
  protected _keyFor(fd: number): SelectorKey<T> | undefined {
    return this.#keys.get(fd);
  }

  /** Tells the kernel about a new key. Throwing rolls the registration back. */
  protected abstract _add(key: SelectorKey<T>): void;
  /** Tells the kernel a key is gone. EBADF/ENOENT thrown from here are ignored. */
  protected abstract _remove(key: SelectorKey<T>): void;
  /** Changes a key's events in the kernel. Throwing unregisters the file. */
  protected abstract _modify(old: SelectorKey<T>, key: SelectorKey<T>): void;
  /**
   * Performs one wait of at most timeoutMs (native convention: negative = forever) and pushes
   * an entry per ready, current registration onto ready. selectAsync() is meant to reuse it with
   * a timeout of 0 once the kernel object is readable.
   * @returns How many records the kernel gave, stale ones included (0 = the wait timed out).
   */
  protected abstract _poll(timeoutMs: number, ready: Array<SelectorEvent<T>>): number;
  /** Releases the kernel object; called once. */
  protected _close(): void {}

  /** Throws ERR_CLOSED when the selector is closed. */
  protected _checkOpen(): void {
    this.#checkOpen();
  }

  #checkOpen(): void {
    if (this.#closed) throw stateError('ERR_CLOSED', 'the selector is closed');
  }

  #lookup(fileobj: FileLike): SelectorKey<T> {
    if (typeof fileobj === 'object' && fileobj !== null) {
      const fd = this.#byObject.get(fileobj);
      const key = fd === undefined ? undefined : this.#keys.get(fd);
      if (key !== undefined && key.fileobj === fileobj) return key;
    }
    const fd = fileLikeToFd(fileobj, 'fileobj');
    const key = this.#keys.get(fd);
    if (key === undefined) throw stateError('ERR_NOT_REGISTERED', `fd ${fd} is not registered`);
    return key;
  }

  #insert(key: SelectorKey<T>): void {
    this.#keys.set(key.fd, key);
    if (typeof key.fileobj === 'object' && key.fileobj !== null) this.#byObject.set(key.fileobj, key.fd);
  }

  #delete(key: SelectorKey<T>): void {
    this.#keys.delete(key.fd);
    const obj = key.fileobj;
    if (typeof obj === 'object' && obj !== null && this.#byObject.get(obj) === key.fd) this.#byObject.delete(obj);
  }

  /** Removes a key from the kernel after a failed modify, whatever the kernel says. */
  #forget(key: SelectorKey<T>): void {
    try {
      this._remove(key);
    } catch {
      // The modify already failed and is what the caller hears about; the kernel may not have
      // had the fd any more (closed), which is the state we want.
    }
  }
}
