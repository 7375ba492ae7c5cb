/** SelectSelector: the selectors layer over select(2) (CPython's `selectors.SelectSelector`). */
import { native } from '../binding';
import { FdTable } from './fd-table';
import { constants, EVENT_READ, EVENT_WRITE, FD_SETSIZE } from '../constants';
import { fdSetSizeError } from '../errors';
import type { NativeStats } from '../stats';
import { validateOptions } from '../validate';
import { BaseSelector } from './base';
import { collectRecords } from './flags';
import { seam } from './seams';
import { SlotStats } from './stats';
import { ThreadedWaits, WAIT_SELECT } from './threaded';
import type { BackendName, SelectorEvent, SelectorKey } from './types';

/** Options of `new SelectSelector()`. */
export interface SelectSelectorOptions {
  /**
   * Accept fds >= FD_SETSIZE: the fd sets are then sized to the highest fd. Without it,
   * `register()` of such an fd throws ERR_FD_SETSIZE at once.
   */
  allowLargeFds?: boolean;
}

const { POLLIN, POLLOUT } = constants;

/**
 * One list of fds kept in an Int32Array in registration order, with O(1) removal by swapping
 * the last fd into the hole. It is kept in sync on register/unregister, never rebuilt per wait.
 */
class FdList {
  fds = new Int32Array(16);
  length = 0;
  readonly #index = new FdTable<number>();

  add(fd: number): void {
    if (this.length === this.fds.length) {
      const bigger = new Int32Array(this.fds.length * 2);
      bigger.set(this.fds);
      this.fds = bigger;
    }
    this.#index.set(fd, this.length);
    this.fds[this.length++] = fd;
  }

  remove(fd: number): void {
    const at = this.#index.get(fd);
    if (at === undefined) return;
    this.#index.delete(fd);
    const last = this.fds[--this.length];
    if (at !== this.length) {
      this.fds[at] = last;
      this.#index.set(last, at);
    }
  }

  indexOf(fd: number): number {
    return this.#index.get(fd) ?? -1;
  }
}

/**
 * A selector over select(2): fds must be below FD_SETSIZE unless `allowLargeFds` is given.
 *
 * Portability: everywhere. A registered fd that was closed makes `select()` throw EBADF, as
 * CPython's does; unregister before closing. Linux accepts any nfds with `allowLargeFds`.
 * @typeParam T The type of the data attached to each key.
 */
export class SelectSelector<T = unknown> extends BaseSelector<T> {
  /** Which kernel mechanism this selector uses: 'select'. */
  readonly backend: BackendName = 'select';
  /** native.select (a test seam can replace it). */
  readonly #select = seam('select', native.select);
  readonly #allowLargeFds: boolean;
  readonly #reads = new FdList();
  readonly #writes = new FdList();
  /** The buffer handed to native select(): [reads | writes], overwritten with -1 where not ready. */
  #work = new Int32Array(32);
  /** How many registered fds are >= FD_SETSIZE (only with allowLargeFds). */
  #large = 0;
  /** select(2) has no object to count in: this selector's counters, passed to every call. */
  readonly #counters = new SlotStats();
  // The thread's records carry the sets an fd was found in as POLLIN (read) and POLLOUT (write).
  protected override readonly _waits = new ThreadedWaits<T>(WAIT_SELECT, {
    keys: () => this.getMap().values(),
    size: () => this._keys.size,
    large: () => this.#large > 0,
    generation: () => this._generation,
    collect: (records, n, ready) => void collectRecords(records, n, 2, this._keys, undefined, POLLIN, POLLOUT, ready),
    pollNow: (ready) => this._poll(0, ready),
  });

  /**
   * @param options `{ allowLargeFds }`.
   * @throws TypeError ERR_INVALID_ARG_TYPE: options is not an object.
   */
  constructor(options?: SelectSelectorOptions) {
    super();
    const opts = validateOptions<SelectSelectorOptions>(options);
    this.#allowLargeFds = opts.allowLargeFds === true;
  }

  protected override _checkFd(fd: number): void {
    if (fd >= FD_SETSIZE && !this.#allowLargeFds) throw fdSetSizeError(fd, FD_SETSIZE);
  }

  protected override _add(key: SelectorKey<T>): void {
    if (key.fd >= FD_SETSIZE) {
      if (!this.#allowLargeFds) throw fdSetSizeError(key.fd, FD_SETSIZE);
      this.#large++;
    }
    if (key.events & EVENT_READ) this.#reads.add(key.fd);
    if (key.events & EVENT_WRITE) this.#writes.add(key.fd);
    // reads and writes are both copied whole into #work (see _poll), so it holds two capacities.
    const need = this.#reads.fds.length + this.#writes.fds.length;
    if (this.#work.length < need) this.#work = new Int32Array(need * 2);
  }

  protected override _remove(key: SelectorKey<T>): void {
    if (key.fd >= FD_SETSIZE) this.#large--;
    this.#reads.remove(key.fd);
    this.#writes.remove(key.fd);
  }

  protected override _modify(old: SelectorKey<T>, key: SelectorKey<T>): void {
    this._remove(old);
    this._add(key);
  }

  protected override _poll(timeoutMs: number, ready: Array<SelectorEvent<T>>): number {
    const reads = this.#reads;
    const writes = this.#writes;
    const nr = reads.length;
    const nw = writes.length;
    const work = this.#work;
    // Whole-array copies allocate nothing (no subarray views); the tail past nr + nw is ignored.
    work.set(reads.fds, 0);
    work.set(writes.fds, nr);
    const n = this.#select(work, nr, nw, 0, timeoutMs, this.#large > 0, this.#counters.slots);
    if (n === 0) return 0;
    for (let i = 0; i < nr; i++) {
      const fd = work[i];
      if (fd < 0) continue;
      const key = this._keys.get(fd);
      if (key === undefined) continue;
      let events = EVENT_READ;
      const w = writes.indexOf(fd);
      if (w >= 0 && work[nr + w] >= 0) events |= EVENT_WRITE;
      ready.push([key, events]);
    }
    for (let i = 0; i < nw; i++) {
      const fd = work[nr + i];
      if (fd < 0) continue;
      const r = reads.indexOf(fd);
      if (r >= 0 && work[r] >= 0) continue; // already reported with its read readiness, merged
      const key = this._keys.get(fd);
      if (key !== undefined) ready.push([key, EVENT_WRITE]);
    }
    return n;
  }

  protected override _statsSources(): NativeStats[] {
    return [this.#counters, this._waits];
  }

  protected override _close(): void {
    this._waits.close();
  }
}
