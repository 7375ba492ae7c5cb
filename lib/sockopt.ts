/**
 * Socket options on raw fds: setsockopt(2) and getsockopt(2) for the options servers use,
 * typed by option. The levels and names are the C constants in `constants` (SOL_SOCKET,
 * IPPROTO_TCP, IPPROTO_IPV6, SO_*, TCP_*, IPV6_V6ONLY), present only where this OS defines them.
 */
import { native } from './binding';
import { invalidArgType, invalidArgValue } from './errors';
import { constants, type ConstantName } from './constants';
import { validateFd, validateInteger } from './validate';

/** SO_LINGER's value: whether close() lingers, and for how many seconds. */
export interface Linger {
  /** Whether close() lingers to send what is queued (SO_LINGER on). */
  onoff: boolean;
  /** How long close() may linger, in seconds (0 with onoff: close() resets the connection). */
  linger: number;
}

/** What an option holds: a flag, a number (bytes, seconds, a count, an errno), or SO_LINGER's pair. */
export type SockoptValue = boolean | number | Linger;

type Kind = 'bool' | 'int' | 'linger' | 'error';

const MAX_INT32 = 2 ** 31 - 1;

// The options iomux knows, by level. A name this OS lacks is simply left out.
const KNOWN: ReadonlyArray<[level: ConstantName, kind: Kind, names: ConstantName[]]> = [
  ['SOL_SOCKET', 'bool', ['SO_REUSEADDR', 'SO_REUSEPORT', 'SO_KEEPALIVE', 'SO_BROADCAST']],
  ['SOL_SOCKET', 'int', ['SO_RCVBUF', 'SO_SNDBUF']],
  ['SOL_SOCKET', 'linger', ['SO_LINGER']],
  ['SOL_SOCKET', 'error', ['SO_ERROR']],
  ['IPPROTO_TCP', 'bool', ['TCP_NODELAY', 'TCP_QUICKACK']],
  ['IPPROTO_TCP', 'int', ['TCP_KEEPIDLE', 'TCP_KEEPALIVE', 'TCP_KEEPINTVL', 'TCP_KEEPCNT', 'TCP_DEFER_ACCEPT']],
  ['IPPROTO_IPV6', 'bool', ['IPV6_V6ONLY']],
];

function buildTable(): Map<string, Kind> {
  const table = new Map<string, Kind>();
  for (const [levelName, kind, names] of KNOWN) {
    const level = constants[levelName];
    if (level === undefined) continue;
    for (const name of names) {
      const value = constants[name];
      if (value !== undefined) table.set(`${level}:${value}`, kind);
    }
  }
  return table;
}

const TABLE = buildTable();

function lookup(level: unknown, name: unknown): [number, number, Kind] {
  const l = validateInteger(level, 'level', -(2 ** 31), MAX_INT32);
  const n = validateInteger(name, 'name', -(2 ** 31), MAX_INT32);
  const kind = TABLE.get(`${l}:${n}`);
  if (kind === undefined) {
    throw invalidArgValue('name', n, `is not a socket option iomux supports at level ${l} on ${process.platform}`);
  }
  return [l, n, kind];
}

function flagValue(value: unknown): number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return validateInteger(value, 'value', -(2 ** 31), MAX_INT32);
  throw invalidArgType('value', 'of type boolean or number', value);
}

function lingerValue(value: unknown): Linger {
  if (typeof value !== 'object' || value === null) throw invalidArgType('value', 'of type object', value);
  const { onoff, linger } = value as { onoff?: unknown; linger?: unknown };
  if (typeof onoff !== 'boolean') throw invalidArgType('value.onoff', 'of type boolean', onoff);
  return { onoff, linger: validateInteger(linger, 'value.linger', 0, 65535) };
}

/**
 * Sets a socket option (setsockopt(2)).
 *
 * Flags (SO_REUSEADDR, SO_REUSEPORT, SO_KEEPALIVE, SO_BROADCAST, TCP_NODELAY, TCP_QUICKACK,
 * IPV6_V6ONLY) take a boolean (or a number, passed as is); sizes and times (SO_RCVBUF, SO_SNDBUF,
 * TCP_KEEPIDLE/TCP_KEEPALIVE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_DEFER_ACCEPT) a non-negative
 * integer; SO_LINGER `{ onoff, linger }` (seconds). SO_ERROR is read-only.
 *
 * @param fd A socket.
 * @param level `constants.SOL_SOCKET`, `constants.IPPROTO_TCP` or `constants.IPPROTO_IPV6`.
 * @param name The option, e.g. `constants.TCP_NODELAY`.
 * @param value The new value.
 * @throws TypeError ERR_INVALID_ARG_TYPE for a non-number fd/level/name or a value of the wrong type.
 * @throws RangeError ERR_OUT_OF_RANGE for a bad fd, a non-integer level/name, or a value out of range.
 * @throws Error ERR_INVALID_ARG_VALUE for an option iomux does not know (or SO_ERROR, which is read-only).
 * @throws Errno errors from setsockopt: EBADF, ENOTSOCK, ENOPROTOOPT (e.g. TCP_NODELAY on a Unix socket), EINVAL.
 *
 * Portability: TCP_QUICKACK and TCP_DEFER_ACCEPT are Linux-only; macOS calls the keep-alive idle
 * time TCP_KEEPALIVE (TCP_KEEPIDLE elsewhere). An option missing from `constants` is not available.
 */
export function setsockopt(fd: number, level: number, name: number, value: SockoptValue): void {
  const f = validateFd(fd);
  const [l, n, kind] = lookup(level, name);
  if (kind === 'error') throw invalidArgValue('name', n, 'is read-only (SO_ERROR)');
  if (kind === 'linger') {
    const { onoff, linger } = lingerValue(value);
    native.setsockoptLinger(f, onoff, linger);
    return;
  }
  if (kind === 'int') {
    if (typeof value !== 'number') throw invalidArgType('value', 'of type number', value);
    native.setsockoptInt(f, l, n, validateInteger(value, 'value', 0, MAX_INT32));
    return;
  }
  native.setsockoptInt(f, l, n, flagValue(value));
}

/**
 * Reads a socket option (getsockopt(2)), as the kernel reports it.
 *
 * @param fd A socket.
 * @param level As for `setsockopt()`.
 * @param name As for `setsockopt()`.
 * @returns A boolean for flags; a number for sizes and times, as the kernel gives it (Linux
 *   reports SO_RCVBUF/SO_SNDBUF as twice what was set, room for its bookkeeping); for SO_LINGER
 *   `{ onoff, linger }`; for SO_ERROR the pending error as a negative errno (0 if none), which
 *   `util.getSystemErrorName()` names; reading it clears it, as `socketError()` does.
 * @throws As `setsockopt()`, with syscall 'getsockopt'.
 */
export function getsockopt(fd: number, level: number, name: number): SockoptValue {
  const f = validateFd(fd);
  const [l, n, kind] = lookup(level, name);
  if (kind === 'linger') return native.getsockoptLinger(f);
  const v = native.getsockoptInt(f, l, n);
  if (kind === 'bool') return v !== 0;
  // libuv's numbering (negative), the convention of err.errno throughout Node.
  if (kind === 'error') return v === 0 ? 0 : -v;
  return v;
}
