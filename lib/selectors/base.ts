/**
 * The selectors layer's bookkeeping, shared by every backend: the fd -> key map, argument checks,
 * lookups by identity then by fd, rollback of a failed register/modify, close, and the retry loop
 * that keeps dropped stale events from shortening a wait. Modeled on CPython's
 * Lib/selectors.py `_BaseSelectorImpl`; a backend subclass only talks to its kernel object.
 */
import { abortError, busyError, closedError, isErrno, stateError } from '../errors';
import { assertOpenFd } from '../fd';
import { Counted, type NativeStats } from '../stats';
import { fileLikeToFd, selectorTimeout, validateOptions, validateSignal, type FileLike } from '../validate';
import { AsyncSelect, timeLeft } from './async-select';
import type { FdTable } from './fd-table';
import { KeyTable, makeKey, SelectorMap, validateSelectorEvents } from './map';
import { StatsSum } from './stats';
import type { AsyncBackend, AsyncWaitDone, BackendName, SelectAsyncOptions, SelectorEvent, SelectorKey } from './types';

export { SelectorMap };
export type { AsyncWaitDone, BackendName, SelectAsyncOptions, SelectorEvent, SelectorKey };

/**
 * The base of every selector: CPython's `selectors.BaseSelector` with its bookkeeping.
 * Subclasses implement the protected hooks: `_add`, `_remove`, `_modify` and `_poll` for
 * the kernel, `_waits` for selectAsync(), `_statsSources` and `_close`.
 *
 * Its `stats()` are the native objects' counters summed (see WaitStats). A `select()` is one
 * call. A `selectAsync()` on epoll is one call, with one zero-timeout syscall per wake-up. On
 * poll and select it is one threaded wait (its wake-up fd counted in `fds` and `bytesIn`); a
 * registration change during it restarts the wait (one more call), or, when the thread had
 * already answered, adds one zero-timeout wait on the JS thread. A timeout of 0 is one `select(0)`.
 *
 * @typeParam T The type of the data attached to each key.
 */
export abstract class BaseSelector<T = unknown> extends Counted {
  /** Which kernel mechanism this selector uses. */
  abstract readonly backend: BackendName;

  readonly #keys = new KeyTable<T>();
  readonly #byFd = this.#keys.byFd;
  readonly #view = new SelectorMap<T>(this.#byFd);
  #closed = false;
  /** The selectAsync() in progress, if any, with its abort handling and time-left loop. */
  readonly #async = new AsyncSelect<T>(() => this._waits);
  /** Bumped by every change of the registrations (not by a data-only modify). */
  #generation = 0;

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
   * @throws Error ERR_CLOSED: the selector is closed (also when fileobj's `fileno()` closed it).
   * @throws RangeError ERR_FD_SETSIZE: (SelectSelector) fd >= FD_SETSIZE without allowLargeFds.
   * @throws Error with an errno code: the kernel refused (epoll: EPERM for a regular file), or
   *   EBADF (syscall 'fstat') for an fd at or past RLIMIT_NOFILE that is not open: such a
   *   number is checked with the kernel before any table takes it. Nothing is left registered then.
   */
  register(fileobj: FileLike, events: number, data?: T): SelectorKey<T> {
    this.#checkOpen();
    const mask = validateSelectorEvents(events);
    const fd = fileLikeToFd(fileobj, 'fileobj');
    // fileno() is the caller's code and may have closed this selector or registered this fd.
    this.#checkOpen();
    if (this.#byFd.has(fd)) throw stateError('ERR_ALREADY_REGISTERED', `fd ${fd} is already registered`);
    this._checkFd(fd);
    // A number past the fd limit cannot be open unless the limit was lowered since: ask the
    // kernel (EBADF) before any table keeps it, whatever the backend would do with it.
    if (!this.#byFd.fitsDense(fd)) assertOpenFd(fd);
    const key = makeKey(fileobj, fd, mask, data as T);
    this.#keys.insert(key);
    this.#generation++;
    try {
      this._add(key);
    } catch (err) {
      this.#keys.remove(key);
      throw err;
    }
    if (this.#async.busy) this._waits.changed?.();
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
    this.#keys.remove(key);
    this.#generation++;
    if (this.#async.busy) this._waits.changed?.();
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
      this.#generation++;
      try {
        this._modify(old, key);
      } catch (err) {
        this.#keys.remove(old);
        try {
          this._remove(old);
        } catch {
          // The modify's error is what the caller hears about; the kernel may no longer have had
          // the fd (closed), which is the state wanted.
        }
        throw err;
      }
      if (this.#async.busy) this._waits.changed?.();
    }
    this.#keys.insert(key);
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
    this.#checkIdle();
    const ready: Array<SelectorEvent<T>> = [];
    const start = ms > 0 ? performance.now() : 0;
    for (let left = ms; ; ) {
      const records = this._poll(left, ready);
      if (ready.length > 0 || records === 0 || ms === 0) return ready;
      // Every record was stale (a registration that no longer exists): wait on with the time left.
      left = timeLeft(ms, start);
      if (left === 0) return ready;
    }
  }

  /**
   * Waits like `select()`, without blocking the thread: Node's event loop (timers, sockets,
   * HTTP) runs on while the wait is pending.
   * @param timeout As `select()`: undefined/null waits forever; 0 or negative does not wait
   *   (answered by one `select(0)`, settled in a microtask).
   * @param options `{ signal }`.
   * @returns A promise of one [key, events] entry per ready fd; [] on timeout.
   * @throws (rejects) Error ERR_CLOSED when the selector is closed before or during the wait
   *   (settled at once by `close()`); ERR_BUSY while another wait (async or `select()`) is in
   *   progress; AbortError (`code` 'ABORT_ERR', `cause` = `signal.reason`) when the signal
   *   aborts before or during the wait (the selector stays usable); TypeError / RangeError for a
   *   bad timeout or options; an errno error as `select()`.
   *
   * Portability: epoll (and kqueue) have an fd that Node's loop watches: no thread. poll and
   * select run the wait on a thread of the addon's own (one per selector, started on the first
   * wait) over a copy of the registrations; a `register()`, `modify()` or `unregister()` during
   * the wait restarts it (one thread round trip), so with every backend a file registered during
   * a wait takes part in it, and one unregistered and closed is released at once.
   */
  selectAsync(timeout?: number | null, options?: SelectAsyncOptions): Promise<Array<SelectorEvent<T>>> {
    try {
      const ms = selectorTimeout(timeout);
      const signal = validateSignal(validateOptions<SelectAsyncOptions>(options).signal);
      this.#checkOpen();
      this.#checkIdle();
      if (signal?.aborted) throw abortError(signal);
      if (ms === 0) return Promise.resolve(this.select(0));
      return this.#async.start(ms, signal);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Loops `selectAsync()` and yields each ready entry, for servers:
   * `for await (const [key, events] of sel.events({ signal })) ...`. An entry whose file was
   * unregistered by the loop body (while handling an earlier entry of the same batch) is
   * skipped, and one whose events were modified meanwhile is narrowed to the new events.
   * @param options `{ signal }`.
   * @returns An async generator that returns (ends the loop) when the selector is closed,
   *   also from inside the loop body or during a wait.
   * @throws AbortError (code 'ABORT_ERR') when the signal aborts; ERR_BUSY, errno errors as
   *   `selectAsync()`.
   */
  async *events(options?: SelectAsyncOptions): AsyncGenerator<SelectorEvent<T>, void, undefined> {
    for (;;) {
      let ready: Array<SelectorEvent<T>>;
      try {
        ready = await this.selectAsync(null, options);
      } catch (err) {
        if (this.#closed && (err as { code?: unknown }).code === 'ERR_CLOSED') return;
        throw err;
      }
      for (const [key, events] of ready) {
        const now = this.#byFd.get(key.fd);
        if (now === undefined || (now.events & events) === 0) continue;
        yield [now, now.events & events];
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
    // Settle first: the backend's own callback, called while _close() releases it, is then ignored.
    this.#async.closeNow();
    this._close();
  }

  /** Calls `close()`, for `using sel = new DefaultSelector()`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Changes whenever a registration is added, removed or changes events (not data alone). */
  protected get _generation(): number {
    return this.#generation;
  }

  /** The fd -> key table, which subclasses read (their size, their records' keys). */
  protected get _keys(): FdTable<SelectorKey<T>> {
    return this.#byFd;
  }

  /**
   * Refuses an fd this backend can never watch, before any bookkeeping or kernel check
   * (select: ERR_FD_SETSIZE).
   */
  protected _checkFd(_fd: number): void {}

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
  /** The backend's asynchronous wait, for selectAsync(). */
  protected abstract readonly _waits: AsyncBackend<T>;

  /** The native objects whose counters stats() sums. */
  protected abstract _statsSources(): NativeStats[];

  protected override _counters(): NativeStats {
    return new StatsSum(this._statsSources());
  }

  /** Releases the kernel object; called once, after a pending selectAsync() was settled. */
  protected abstract _close(): void;

  #checkOpen(): void {
    if (this.#closed) throw closedError('selector');
  }

  #checkIdle(): void {
    if (this.#async.busy) throw busyError('selector');
  }

  #lookup(fileobj: FileLike): SelectorKey<T> {
    const mine = typeof fileobj === 'object' && fileobj !== null ? this.#keys.ofObject(fileobj) : undefined;
    if (mine !== undefined) return mine;
    const fd = fileLikeToFd(fileobj, 'fileobj');
    // fileno() is the caller's code and may have closed this selector.
    this.#checkOpen();
    const key = this.#byFd.get(fd);
    if (key === undefined) throw stateError('ERR_NOT_REGISTERED', `fd ${fd} is not registered`);
    return key;
  }
}
