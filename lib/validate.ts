/** Argument checks shared by every public entry point. All policy on inputs lives here. */
import { invalidArgType, invalidArgValue, outOfRange } from './errors';

/** Anything that names a file descriptor: the number itself, `{ fd }`, or `{ fileno() }`. */
export type FileLike =
  | number
  | {
      /** The file descriptor. */
      fd: number;
    }
  | {
      /** Returns the file descriptor (called once per use, as CPython calls `fileno()`). */
      fileno(): number;
    };

const MAX_INT32 = 2 ** 31 - 1;
const MAX_TIMEOUT_MS = MAX_INT32;

function checkFdNumber(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_INT32) {
    throw outOfRange(name, `an integer >= 0 and <= ${MAX_INT32}`, value);
  }
  return value;
}

/** A plain fd number: a non-negative int32. */
export function validateFd(value: unknown, name = 'fd'): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  return checkFdNumber(value, name);
}

/**
 * Resolves a FileLike to its fd. A `fileno()` that throws passes its error through unchanged
 * (as CPython does); one that returns a non-number is a TypeError.
 */
export function fileLikeToFd(value: unknown, name = 'fd'): number {
  if (typeof value === 'number') return checkFdNumber(value, name);
  if (typeof value === 'object' && value !== null) {
    const obj = value as { fd?: unknown; fileno?: unknown };
    // Each property is read once: a getter (or a Proxy) may answer differently the next time,
    // and what is checked must be what is used.
    const fileno = obj.fileno;
    if (typeof fileno === 'function') {
      const fd: unknown = (fileno as () => unknown).call(value);
      if (typeof fd !== 'number') throw invalidArgType(`${name}.fileno()`, 'of type number', fd);
      return checkFdNumber(fd, `${name}.fileno()`);
    }
    if ('fd' in obj) {
      const fd = obj.fd;
      if (typeof fd !== 'number') throw invalidArgType(`${name}.fd`, 'of type number', fd);
      return checkFdNumber(fd, `${name}.fd`);
    }
  }
  throw invalidArgType(name, 'of type number or an object with an fd property or a fileno() method', value);
}

/** A uint32 event mask whose bits are all within `allowed`. */
export function validateEvents(value: unknown, allowed: number, name = 'events'): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value) || value < -(2 ** 31) || value > 2 ** 32 - 1) {
    throw outOfRange(name, 'a 32-bit integer', value);
  }
  const bits = value >>> 0;
  const unknown = (bits & ~(allowed >>> 0)) >>> 0;
  if (unknown !== 0) throw outOfRange(name, `a mask of known flags (unknown bits 0x${unknown.toString(16)})`, value);
  return value | 0;
}

/** An integer within [min, max]. */
export function validateInteger(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw outOfRange(name, `an integer >= ${min} and <= ${max}`, value);
  }
  return value;
}

function checkTimeoutNumber(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number') throw invalidArgType('timeout', 'of type number', value);
  if (Number.isNaN(value) || value > MAX_TIMEOUT_MS) {
    throw outOfRange('timeout', `a number of milliseconds <= ${MAX_TIMEOUT_MS}`, value);
  }
  return value;
}

/** Raw select(): undefined/null wait forever, negative is a RangeError. Returns native ms (-1 = forever). */
export function selectTimeout(value: unknown): number {
  const t = checkTimeoutNumber(value);
  if (t === undefined) return -1;
  if (t < 0) throw outOfRange('timeout', 'a non-negative number of milliseconds', value);
  return t;
}

/** Poll#poll, Epoll#poll, Kqueue#control: negative waits forever, as poll(2) does. */
export function pollTimeout(value: unknown): number {
  const t = checkTimeoutNumber(value);
  return t === undefined || t < 0 ? -1 : t;
}

/** Selectors' select(): negative means don't wait, as in CPython's selectors. */
export function selectorTimeout(value: unknown): number {
  const t = checkTimeoutNumber(value);
  if (t === undefined) return -1;
  return t < 0 ? 0 : t;
}

/**
 * Whether a typed array's memory was detached (transferred to a worker, `structuredClone` with
 * `transfer`, `ArrayBuffer#transfer`): it then reads as empty, and iterating it throws a
 * TypeError without a code. Node 20 has no `ArrayBuffer#detached`; only an empty view can be
 * detached, and constructing a view of a detached buffer throws.
 */
export function isDetachedView(value: ArrayBufferView): boolean {
  if (value.byteLength !== 0) return false;
  try {
    new Uint8Array(value.buffer, 0, 0);
    return false;
  } catch {
    return true;
  }
}

/** Throws ERR_INVALID_ARG_VALUE when value is a typed array (or DataView) whose memory is detached. */
export function checkNotDetached(value: unknown, name: string): void {
  if (ArrayBuffer.isView(value) && isDetachedView(value)) {
    throw invalidArgValue(name, value, 'must not be a view of a detached ArrayBuffer');
  }
}

/** An Int32Array of even length >= minRecord to receive (fd, events) records. */
export function validateOutBuffer(value: unknown, record = 2, name = 'out'): Int32Array {
  if (!(value instanceof Int32Array)) throw invalidArgType(name, 'an instance of Int32Array', value);
  if (value.length < record || value.length % record !== 0) {
    // A detached view reads as empty: say that rather than "too short" (a hot path, so only here).
    checkNotDetached(value, name);
    throw outOfRange(`${name}.length`, `a multiple of ${record} and >= ${record}`, value.length);
  }
  return value;
}

/** An AbortSignal or undefined. */
export function validateSignal(value: unknown, name = 'options.signal'): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) throw invalidArgType(name, 'an instance of AbortSignal', value);
  return value;
}

/** An options object or undefined. */
export function validateOptions<T extends object>(value: unknown, name = 'options'): Partial<T> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object') throw invalidArgType(name, 'of type object', value);
  return value as Partial<T>;
}
