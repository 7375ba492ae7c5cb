/**
 * What PollSelector and EpollSelector share (CPython's `_PollLikeSelector`): both ask the kernel
 * for records of (fd, events[, tag]) in one reused Int32Array, translate the kernel's flags into
 * EVENT_READ/EVENT_WRITE, and drop records that do not belong to a current registration.
 * A subclass sets the static fields and implements the four native hooks.
 */
import { EVENT_READ, EVENT_WRITE } from '../constants';
import { FdTable } from './fd-table';
import { BaseSelector, type SelectorEvent, type SelectorKey } from './base';

/** The statics a PollLikeSelector subclass must define. */
export interface PollLikeStatics {
  /** The kernel's flag for "readable" (POLLIN, EPOLLIN). */
  readonly READ_FLAG: number;
  /** The kernel's flag for "writable" (POLLOUT, EPOLLOUT). */
  readonly WRITE_FLAG: number;
  /** Int32s per record: 2 = (fd, events); 3 = (fd, events, tag) with tags checked. */
  readonly STRIDE: 2 | 3;
}

/** Smallest record capacity of the output buffer: even an empty selector passes maxevents >= 1. */
const MIN_RECORDS = 8;

/**
 * The shared half of the poll(2) and epoll(7) selectors.
 * @typeParam T The type of the data attached to each key.
 */
export abstract class PollLikeSelector<T = unknown> extends BaseSelector<T> {
  readonly #readFlag: number;
  readonly #writeFlag: number;
  readonly #stride: 2 | 3;
  /** fd -> generation tag of its current registration (only kept when STRIDE is 3). */
  readonly #tags = new FdTable<number>();
  #nextTag = 0;
  #out: Int32Array;

  constructor() {
    super();
    const statics = this.constructor as unknown as PollLikeStatics;
    this.#readFlag = statics.READ_FLAG;
    this.#writeFlag = statics.WRITE_FLAG;
    this.#stride = statics.STRIDE;
    this.#out = new Int32Array(MIN_RECORDS * this.#stride);
  }

  /** Registers fd natively with the kernel flags and the registration's tag. */
  protected abstract _nativeRegister(fd: number, flags: number, tag: number): void;
  /** Changes fd's kernel flags, keeping or replacing its tag. */
  protected abstract _nativeModify(fd: number, flags: number, tag: number): void;
  /** Unregisters fd natively. */
  protected abstract _nativeUnregister(fd: number): void;
  /** One native wait writing records of STRIDE int32s into out; returns the record count. */
  protected abstract _nativeWait(out: Int32Array, timeoutMs: number): number;

  protected override _add(key: SelectorKey<T>): void {
    const tag = this.#newTag();
    this._nativeRegister(key.fd, this.#toFlags(key.events), tag);
    if (this.#stride === 3) this.#tags.set(key.fd, tag);
    this.#reserve();
  }

  protected override _remove(key: SelectorKey<T>): void {
    // Forget the tag first: whatever the kernel says, records for this registration are stale now.
    this.#tags.delete(key.fd);
    this._nativeUnregister(key.fd);
  }

  protected override _modify(old: SelectorKey<T>, key: SelectorKey<T>): void {
    const tag = this.#tags.get(old.fd) ?? this.#newTag();
    this._nativeModify(key.fd, this.#toFlags(key.events), tag);
  }

  protected override _poll(timeoutMs: number, ready: Array<SelectorEvent<T>>): number {
    const out = this.#out;
    return this._collect(out, this._nativeWait(out, timeoutMs), ready);
  }

  /** The output buffer for one wait (replaced, never reused, when it has to grow). */
  protected get _out(): Int32Array {
    return this.#out;
  }

  /**
   * Turns n kernel records of out into entries for the current registrations, pushed onto ready.
   * @returns n.
   */
  protected _collect(out: Int32Array, n: number, ready: Array<SelectorEvent<T>>): number {
    const stride = this.#stride;
    const readFlag = this.#readFlag;
    const writeFlag = this.#writeFlag;
    let stale = 0;
    for (let i = 0, at = 0; i < n; i++, at += stride) {
      const fd = out[at];
      const key = this._keyFor(fd);
      // A record tagged for an older registration of this fd number (closed, reused, registered
      // again) must not reach the newer key.
      if (key === undefined || (stride === 3 && this.#tags.get(fd) !== out[at + 2])) {
        stale++;
        continue;
      }
      const flags = out[at + 1];
      // As CPython: anything but "readable" (HUP, ERR, NVAL too) wakes writers, and anything but
      // "writable" wakes readers, so an error or hang-up reaches whoever waits.
      let events = 0;
      if (flags & ~readFlag) events |= EVENT_WRITE;
      if (flags & ~writeFlag) events |= EVENT_READ;
      events &= key.events;
      if (events !== 0) ready.push([key, events]);
    }
    this._staleRecords(stale);
    return n;
  }

  /** Told after each wait how many of its records were stale; a subclass may act on it. */
  protected _staleRecords(_count: number): void {}

  /** Registers every current key again through register(fd, flags, tag), for a new kernel set. */
  protected _registerAllWith(register: (fd: number, flags: number, tag: number) => void): void {
    for (const key of this.getMap().values()) {
      register(key.fd, this.#toFlags(key.events), this.#tags.get(key.fd) ?? 0);
    }
  }

  #toFlags(events: number): number {
    let flags = 0;
    if (events & EVENT_READ) flags |= this.#readFlag;
    if (events & EVENT_WRITE) flags |= this.#writeFlag;
    return flags;
  }

  /** Tags stay in [1, 2^31-1] so that they read back the same from an Int32Array. */
  #newTag(): number {
    this.#nextTag = this.#nextTag >= 0x7fffffff ? 1 : this.#nextTag + 1;
    return this.#nextTag;
  }

  /** Grows the output buffer so that one wait can report every registered fd. */
  #reserve(): void {
    const need = this._size * this.#stride;
    if (this.#out.length >= need) return;
    let records = this.#out.length / this.#stride;
    while (records * this.#stride < need) records *= 2;
    this.#out = new Int32Array(records * this.#stride);
  }
}
