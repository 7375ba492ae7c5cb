/**
 * kqueue(2) on raw fds: `KEvent` (CPython's `select.kevent`) and `Kqueue` (`select.kqueue`).
 * Changes and results cross into native code as flat Int32Array records that this file packs
 * and unpacks, so a control() call builds no objects natively and reuses its buffers.
 */
import { native, type NativeKqueue, type NativeKqueueConstructor } from './binding';
import { invalidArgType, outOfRange, stateError } from './errors';
import { type FileLike, fileLikeToFd, pollTimeout, validateFd, validateInteger } from './validate';

/** int32 words per kevent record; native/kqueue_record.h describes the layout. */
const KEV_WORDS = 10;
/** The most events (or changes) one control() call takes; native/kqueue.cc has the same bound. */
const MAX_EVENTS = 2 ** 20;
const TWO_32 = 2 ** 32;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

const KQ_FILTER_READ = native.constants.KQ_FILTER_READ ?? -1;
const KQ_EV_ADD = native.constants.KQ_EV_ADD ?? 1;

/**
 * Checks a 64-bit field given as a number or a bigint. Returns a number when the value is a
 * safe integer and a bigint otherwise, so that equal values always compare equal with `===`.
 */
function validateWide(value: unknown, name: string, signed: boolean): number | bigint {
  const min = signed ? INT64_MIN : 0n;
  const max = signed ? INT64_MAX : UINT64_MAX;
  const range = signed ? 'an integer >= -(2 ** 63) and < 2 ** 63' : 'an integer >= 0 and < 2 ** 64';
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < Number(min) || value >= Number(max)) {
      throw outOfRange(name, range, value);
    }
    return Number.isSafeInteger(value) ? value : BigInt(value);
  }
  if (typeof value === 'bigint') {
    if (value < min || value > max) throw outOfRange(name, range, value);
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }
  throw invalidArgType(name, 'of type number or bigint', value);
}

/** Writes a 64-bit value as two int32 words (low, high), two's complement. */
function packWide(out: Int32Array, i: number, value: number | bigint): void {
  if (typeof value === 'number') {
    out[i] = value >>> 0;
    out[i + 1] = Math.floor(value / TWO_32);
  } else if (typeof value === 'bigint') {
    out[i] = Number(BigInt.asUintN(32, value));
    out[i + 1] = Number(BigInt.asIntN(32, value >> 32n));
  } else {
    throw invalidArgType('KEvent field', 'of type number or bigint', value);
  }
}

/** Reads two int32 words (low, high) back as a number, or a bigint when it is not safe. */
function unpackWide(buf: Int32Array, i: number, signed: boolean): number | bigint {
  const lo = buf[i] >>> 0;
  const hi = signed ? buf[i + 1] : buf[i + 1] >>> 0;
  const value = hi * TWO_32 + lo;
  if (Number.isSafeInteger(value)) return value;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/**
 * One kevent: a change to send to a Kqueue, or an event it returned (CPython's select.kevent).
 * Fields hold numbers; data and udata (and a large ident) become bigints only where a number
 * could not hold them exactly.
 */
export class KEvent {
  /** What the filter watches: an fd for READ/WRITE/VNODE, a pid, a signal, a timer or user id. */
  readonly ident: number | bigint;
  /** A KQ_FILTER_* constant (a C short). */
  readonly filter: number;
  /** KQ_EV_* bits, up to 0xffff. */
  readonly flags: number;
  /** Filter-specific KQ_NOTE_* bits, up to 0xffffffff. */
  readonly fflags: number;
  /** Filter-specific data (signed 64-bit): bytes ready, an errno with KQ_EV_ERROR, a period... */
  readonly data: number | bigint;
  /** Opaque user data (unsigned 64-bit), returned unchanged with the event. */
  readonly udata: number | bigint;

  /**
   * Makes a kevent; the defaults ask to add a read filter, as CPython's do.
   * @param ident - A FileLike, or any unsigned 64-bit number or bigint (pid, signal, timer id).
   * @param filter - A KQ_FILTER_* constant; default KQ_FILTER_READ.
   * @param flags - KQ_EV_* bits (0 to 0xffff); default KQ_EV_ADD.
   * @param fflags - KQ_NOTE_* bits (0 to 0xffffffff); default 0.
   * @param data - Signed 64-bit filter data; default 0.
   * @param udata - Unsigned 64-bit user data; default 0.
   * @throws TypeError ERR_INVALID_ARG_TYPE for a value of the wrong type; RangeError
   *   ERR_OUT_OF_RANGE for a value outside its C field.
   */
  constructor(
    ident: FileLike | bigint,
    filter: number = KQ_FILTER_READ,
    flags: number = KQ_EV_ADD,
    fflags = 0,
    data: number | bigint = 0,
    udata: number | bigint = 0,
  ) {
    this.ident =
      typeof ident === 'number' || typeof ident === 'bigint' ? validateWide(ident, 'ident', false) : fileLikeToFd(ident, 'ident');
    this.filter = validateInteger(filter, 'filter', -32768, 32767);
    this.flags = validateInteger(flags, 'flags', 0, 0xffff);
    this.fflags = validateInteger(fflags, 'fflags', 0, 0xffffffff);
    this.data = validateWide(data, 'data', true);
    this.udata = validateWide(udata, 'udata', false);
  }

  /**
   * True when other is a KEvent with the same six fields (CPython's kevent `==`).
   * @param other - Any value; a non-KEvent is simply not equal.
   * @returns Whether all fields match.
   */
  equals(other: unknown): boolean {
    return other instanceof KEvent && KEvent.compare(this, other) === 0;
  }

  /**
   * Orders kevents by (ident, filter, flags, fflags, data, udata), as CPython's kevent `<`.
   * @param a - A KEvent.
   * @param b - A KEvent.
   * @returns A negative number, 0 or a positive number, for Array.prototype.sort.
   * @throws TypeError ERR_INVALID_ARG_TYPE when either is not a KEvent.
   */
  static compare(a: KEvent, b: KEvent): number {
    if (!(a instanceof KEvent)) throw invalidArgType('a', 'an instance of KEvent', a);
    if (!(b instanceof KEvent)) throw invalidArgType('b', 'an instance of KEvent', b);
    const fa = [a.ident, a.filter, a.flags, a.fflags, a.data, a.udata];
    const fb = [b.ident, b.filter, b.flags, b.fflags, b.data, b.udata];
    for (let i = 0; i < fa.length; i++) {
      if (fa[i] < fb[i]) return -1;
      if (fa[i] > fb[i]) return 1;
    }
    return 0;
  }
}

function packKEvent(buf: Int32Array, at: number, ev: KEvent): void {
  packWide(buf, at, ev.ident);
  buf[at + 2] = ev.filter;
  buf[at + 3] = ev.flags;
  buf[at + 4] = ev.fflags;
  buf[at + 5] = 0;
  packWide(buf, at + 6, ev.data);
  packWide(buf, at + 8, ev.udata);
}

function unpackKEvent(buf: Int32Array, at: number): KEvent {
  return new KEvent(
    unpackWide(buf, at, false),
    buf[at + 2],
    buf[at + 3] & 0xffff,
    buf[at + 4] >>> 0,
    unpackWide(buf, at + 6, true),
    unpackWide(buf, at + 8, false),
  );
}

function nativeKqueue(): NativeKqueueConstructor {
  if (native.Kqueue) return native.Kqueue;
  throw stateError(
    'ERR_NOT_SUPPORTED',
    `kqueue is not supported on ${process.platform}: this build has no kqueue ` +
      '(macOS and the BSDs have it; on Linux, rebuild with IOMUX_KQUEUE_PREFIX=<libkqueue install prefix>)',
  );
}

/** Set by Kqueue.fromFd() for the constructor to adopt instead of making a new kqueue. */
let adopting: NativeKqueue | undefined;
const EMPTY = new Int32Array(0);

/**
 * A kqueue (CPython's select.kqueue) that owns its fd: created close-on-exec, closed by close(),
 * `[Symbol.dispose]()` or, if leaked, by the garbage collector.
 *
 * Portability: kqueue is native on macOS and the BSDs. On Linux it exists only in builds linked
 * against libkqueue (IOMUX_KQUEUE_PREFIX), which emulates it over epoll; elsewhere the
 * constructor throws ERR_NOT_SUPPORTED. Read and write readiness on one fd are two events.
 */
export class Kqueue {
  readonly #kq: NativeKqueue;
  #changes: Int32Array = EMPTY;
  #out: Int32Array = EMPTY;

  /**
   * Makes a new kqueue.
   * @throws Error ERR_NOT_SUPPORTED when this build has no kqueue; a syscall error (EMFILE...).
   */
  constructor() {
    const ctor = nativeKqueue();
    const adopted = adopting;
    adopting = undefined;
    this.#kq = adopted ?? new ctor();
  }

  /**
   * Wraps an existing kqueue fd and takes ownership of it: closing the object closes the fd.
   * @param fd - An open kqueue fd.
   * @returns A Kqueue owning fd.
   * @throws ERR_NOT_SUPPORTED without kqueue; RangeError/TypeError for a bad fd; EBADF when
   *   fd is not open.
   */
  static fromFd(fd: number): Kqueue {
    const ctor = nativeKqueue();
    adopting = ctor.fromFd(validateFd(fd));
    try {
      return new Kqueue();
    } finally {
      adopting = undefined;
    }
  }

  /**
   * @returns The kqueue fd.
   * @throws Error ERR_CLOSED after close().
   */
  fileno(): number {
    return this.#kq.fileno();
  }

  /** Whether close() has been called. */
  get closed(): boolean {
    return this.#kq.closed;
  }

  /**
   * Closes the kqueue fd; calling it again does nothing.
   * @throws A close(2) error (the object is closed all the same).
   */
  close(): void {
    this.#kq.close();
    this.#changes = EMPTY;
    this.#out = EMPTY;
  }

  /** Same as close(), for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Applies changes, then waits for events (kevent(2), CPython's kqueue.control).
   * @param changes - KEvents to apply first, any iterable, or null for none.
   * @param maxevents - The most events to return (0 to 2 ** 20); 0 only applies the changes.
   * @param timeout - Milliseconds, fractions honoured to the ns; undefined, null or negative
   *   wait forever; 0 does not wait.
   * @returns The events, one KEvent each; a change that failed comes back with KQ_EV_ERROR
   *   and the errno in data when there is room for it.
   * @throws Error ERR_CLOSED after close(); TypeError ERR_INVALID_ARG_TYPE when changes is
   *   not an iterable of KEvent; RangeError ERR_OUT_OF_RANGE for maxevents or timeout; a
   *   kevent syscall error (EBADF, ENOENT...) when a change fails and no event slot is free.
   *
   * Portability: kqueue reports read and write readiness of one fd as two events; on Linux
   * (libkqueue) filters are emulated and some (AIO, NETDEV) are absent.
   */
  control(changes: Iterable<KEvent> | null | undefined, maxevents: number, timeout?: number | null): KEvent[] {
    if (this.#kq.closed) throw stateError('ERR_CLOSED', 'I/O operation on a closed Kqueue');
    const max = validateInteger(maxevents, 'maxevents', 0, MAX_EVENTS);
    const ms = pollTimeout(timeout);
    const nchanges = this.#packChanges(changes);
    if (this.#out.length < max * KEV_WORDS) this.#out = new Int32Array(max * KEV_WORDS);
    const n = this.#kq.control(this.#changes, nchanges, this.#out, max, ms);
    const events = new Array<KEvent>(n);
    for (let i = 0; i < n; i++) events[i] = unpackKEvent(this.#out, i * KEV_WORDS);
    return events;
  }

  /** Packs changes into the reusable buffer, growing it as needed; returns how many. */
  #packChanges(changes: Iterable<KEvent> | null | undefined): number {
    if (changes === null || changes === undefined) return 0;
    if (typeof changes !== 'object' || typeof (changes as Partial<Iterable<KEvent>>)[Symbol.iterator] !== 'function') {
      throw invalidArgType('changes', 'an iterable of KEvent or null', changes);
    }
    let n = 0;
    for (const ev of changes) {
      if (!(ev instanceof KEvent)) throw invalidArgType(`changes[${n}]`, 'an instance of KEvent', ev);
      if (n >= MAX_EVENTS) throw outOfRange('changes.length', `<= ${MAX_EVENTS}`, n + 1);
      if ((n + 1) * KEV_WORDS > this.#changes.length) {
        const grown = new Int32Array(Math.max(this.#changes.length * 2, 8 * KEV_WORDS));
        grown.set(this.#changes);
        this.#changes = grown;
      }
      packKEvent(this.#changes, n * KEV_WORDS, ev);
      n++;
    }
    return n;
  }
}
