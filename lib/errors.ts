/** Node-style argument and state errors. Syscall errors are built natively (native/errors.cc). */
import { inspect } from 'node:util';

/** The library's own error codes (API.md). */
export type IomuxErrorCode =
  | 'ERR_NOT_REGISTERED'
  | 'ERR_ALREADY_REGISTERED'
  | 'ERR_CLOSED'
  | 'ERR_BUSY'
  | 'ERR_FD_SETSIZE'
  | 'ERR_NOT_SUPPORTED'
  | 'ERR_INVALID_ARG_VALUE';

/** An Error carrying a syscall's errno the way Node's own fs/net errors do. */
export interface ErrnoError extends Error {
  /** The negative errno in libuv's numbering: `util.getSystemErrorName(err.errno) === err.code`. */
  errno: number;
  /** The errno's name, such as `'EBADF'`. */
  code: string;
  /** The system call that failed, such as `'epoll_ctl'`. */
  syscall: string;
}

function describeReceived(value: unknown): string {
  if (value === null || value === undefined) return `Received ${String(value)}`;
  if (typeof value === 'function') return `Received function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') {
    const name = (value as object).constructor?.name;
    return name ? `Received an instance of ${name}` : `Received ${inspect(value, { depth: -1 })}`;
  }
  let shown = inspect(value, { colors: false });
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return `Received type ${typeof value} (${shown})`;
}

/** TypeError ERR_INVALID_ARG_TYPE, worded as Node words it. */
export function invalidArgType(name: string, expected: string, value: unknown): TypeError {
  const err = new TypeError(`The "${name}" argument must be ${expected}. ${describeReceived(value)}`);
  return Object.assign(err, { code: 'ERR_INVALID_ARG_TYPE' });
}

/** RangeError ERR_OUT_OF_RANGE, worded as Node words it. */
export function outOfRange(name: string, range: string, value: unknown): RangeError {
  const shown = typeof value === 'number' || typeof value === 'bigint' ? String(value) : inspect(value);
  const err = new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${shown}`);
  return Object.assign(err, { code: 'ERR_OUT_OF_RANGE' });
}

/** Error ERR_INVALID_ARG_VALUE (a value of the right type that is not accepted). */
export function invalidArgValue(name: string, value: unknown, reason: string): Error {
  const err = new Error(`The argument '${name}' ${reason}. Received ${inspect(value)}`);
  return Object.assign(err, { code: 'ERR_INVALID_ARG_VALUE' });
}

/** A state error with one of the library's codes; the message should name the fd. */
export function stateError(code: IomuxErrorCode, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * Error ERR_CLOSED: an object used after its close().
 * @param what - What is closed: 'selector', 'Kqueue', 'waiter'.
 */
export function closedError(what: string): Error {
  return stateError('ERR_CLOSED', `I/O operation on a closed ${what}`);
}

/**
 * Error ERR_BUSY: a second wait on an object while one is in progress.
 * @param what - The object: 'selector', 'Kqueue', 'waiter'.
 */
export function busyError(what: string): Error {
  return stateError('ERR_BUSY', `a wait is already in progress on this ${what}`);
}

/** RangeError ERR_FD_SETSIZE: select(2) cannot watch this fd without allowLargeFds. */
export function fdSetSizeError(fd: number, limit: number): RangeError {
  const err = new RangeError(
    `fd ${fd} is >= FD_SETSIZE (${limit}): select(2) cannot watch it; pass { allowLargeFds: true } or use poll/epoll`,
  );
  return Object.assign(err, { code: 'ERR_FD_SETSIZE' });
}

/** Node's AbortError, as node:timers/promises builds it. */
export function abortError(signal: AbortSignal): Error {
  const err = new Error('The operation was aborted', { cause: signal.reason });
  return Object.assign(err, { name: 'AbortError', code: 'ABORT_ERR' });
}

/** True when err is a syscall error with the given code, e.g. isErrno(err, 'EBADF'). */
export function isErrno(err: unknown, code?: string): err is ErrnoError {
  if (!(err instanceof Error)) return false;
  const e = err as Partial<ErrnoError>;
  if (typeof e.errno !== 'number' || typeof e.syscall !== 'string' || typeof e.code !== 'string') return false;
  return code === undefined || e.code === code;
}
