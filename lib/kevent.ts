/**
 * KEvent (CPython's `select.kevent`) and the flat Int32Array record in which a kevent crosses
 * into native code (native/kqueue_record.h), packed and unpacked here.
 */
import { native } from './binding';
import { invalidArgType, outOfRange } from './errors';
import { fileLikeToFd, type FileLike, validateInteger } from './validate';

/** int32 words per kevent record; native/kqueue_record.h describes the layout. */
export const KEV_WORDS = 10;
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

/**
 * Writes one change of small values (an fd, a filter, flags and an int32 udata) as the record
 * at word `at` of buf, without making a KEvent (the selectors' register/unregister path).
 */
export function packChange(buf: Int32Array, at: number, fd: number, filter: number, flags: number, udata: number): void {
  buf.fill(0, at, at + KEV_WORDS);
  buf[at] = fd;
  buf[at + 2] = filter;
  buf[at + 3] = flags;
  buf[at + 8] = udata;
}

/** Writes ev as one record at word `at` of buf. */
export function packKEvent(buf: Int32Array, at: number, ev: KEvent): void {
  packWide(buf, at, ev.ident);
  buf[at + 2] = ev.filter;
  buf[at + 3] = ev.flags;
  buf[at + 4] = ev.fflags;
  buf[at + 5] = 0;
  packWide(buf, at + 6, ev.data);
  packWide(buf, at + 8, ev.udata);
}

/** Reads the record at word `at` of buf as a new KEvent. */
export function unpackKEvent(buf: Int32Array, at: number): KEvent {
  return new KEvent(
    unpackWide(buf, at, false),
    buf[at + 2],
    buf[at + 3] & 0xffff,
    buf[at + 4] >>> 0,
    unpackWide(buf, at + 6, true),
    unpackWide(buf, at + 8, false),
  );
}
