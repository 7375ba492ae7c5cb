/**
 * Datagram sockets on raw file descriptors: UDP over IPv4 and IPv6, and Unix datagram sockets.
 * Every fd is non-blocking and close-on-exec; close it with `close()`. Wait for EVENT_READ on it
 * with any selector, then call `recvFrom()` until it returns null.
 */
import { isIP } from 'node:net';
import { native } from './binding';
import { invalidArgType, invalidArgValue } from './errors';
import { span } from './fd';
import { parseAddress, type LocalAddress, type Parsed, type SocketAddress } from './socket';
import { validateFd } from './validate';

/** The address family of `udpSocket()`. */
export type DatagramFamily = 'ipv4' | 'ipv6' | 'unix';

/** One datagram taken by `recvFrom()`: its length and its sender, in `localAddress()`'s shape. */
export interface Datagram {
  /** Bytes of the datagram written into the buffer (cut to the length given). */
  bytes: number;
  /** The sender, in `localAddress()`'s shape: pass it to `sendTo()` to reply. */
  address: LocalAddress;
}

const FAMILY: Record<DatagramFamily, number> = { ipv4: 0, ipv6: 1, unix: 2 };

/**
 * Opens an unbound datagram socket. An IP socket gets an ephemeral port at its first
 * `sendTo()`; an unbound Unix socket can send but nobody can answer it (bind it with
 * `bindUdp({ path })` to get replies).
 *
 * @param family 'ipv4' (default), 'ipv6' or 'unix'.
 * @returns The fd, non-blocking and close-on-exec.
 * @throws TypeError ERR_INVALID_ARG_TYPE for a non-string family; Error ERR_INVALID_ARG_VALUE for an unknown one.
 * @throws Errno errors EAFNOSUPPORT (no IPv6 in this kernel), EMFILE (socket).
 */
export function udpSocket(family: DatagramFamily = 'ipv4'): number {
  if (typeof family !== 'string') throw invalidArgType('family', 'of type string', family);
  if (!Object.prototype.hasOwnProperty.call(FAMILY, family)) {
    throw invalidArgValue('family', family, "must be one of 'ipv4', 'ipv6' or 'unix'");
  }
  return native.udpSocket(FAMILY[family]);
}

/**
 * Opens a datagram socket bound to an address: UDP for `{ host?, port }` (host defaults to
 * '127.0.0.1'; '::' is dual-stack; port 0 picks a free port, read it with `localAddress()`),
 * a Unix datagram socket for `{ path }` (the path must not exist; unlink it when done).
 *
 * @param address `{ host?, port }` or `{ path }`, as `listen()` takes.
 * @returns The bound fd, non-blocking and close-on-exec.
 * @throws TypeError/RangeError/ERR_INVALID_ARG_VALUE as `listen()` for a bad address.
 * @throws Errno errors EADDRINUSE, EADDRNOTAVAIL, EACCES (bind); ENAMETOOLONG (path too long for sun_path).
 */
export function bindUdp(address: SocketAddress): number {
  const parsed = parseAddress(address, 0);
  return parsed.kind === 'unix' ? native.bindUdpUnix(parsed.path) : native.bindUdp(parsed.host, parsed.port);
}

// `{ address, port }` as recvFrom() gives it: an IP literal is UDP, anything else a Unix path.
function destination(value: unknown): Parsed {
  if (typeof value === 'object' && value !== null && 'address' in value) {
    const { address, port } = value as { address: unknown; port?: unknown };
    if (typeof address !== 'string') throw invalidArgType('address.address', 'of type string', address);
    if (isIP(address) !== 0) return parseAddress({ host: address, port }, 1);
    return parseAddress({ path: address }, 1);
  }
  return parseAddress(value, 1);
}

/**
 * Sends one datagram (one sendto(2), EINTR retried).
 *
 * @param fd A datagram socket.
 * @param buf The payload (a Buffer or Uint8Array); `offset` and `length` pick a part of it.
 * @param address Where to: `{ address, port }` as `recvFrom()` and `localAddress()` return it
 *   (an IP literal is UDP, anything else a Unix path, port ignored), or `{ host, port }` / `{ path }`.
 * @param offset Start in buf (default 0).
 * @param length Bytes to send (default: the rest of buf).
 * @returns The bytes sent (the whole datagram), or null when the send buffer is full (EAGAIN).
 * @throws TypeError/RangeError/ERR_INVALID_ARG_VALUE for a bad fd, buffer, span or address (port 1..65535).
 * @throws Errno errors from sendto: EMSGSIZE (larger than the socket can send), EAFNOSUPPORT /
 *   EINVAL (an IPv6 address on an IPv4 socket), ECONNREFUSED / ENOENT (Unix: nobody bound there), EBADF.
 *
 * Portability: an IPv4 destination on an IPv6 socket must be written '::ffff:a.b.c.d'.
 */
export function sendTo(fd: number, buf: Uint8Array, address: LocalAddress | SocketAddress, offset?: number, length?: number): number | null {
  const f = validateFd(fd);
  const [b, off, len] = span(buf, offset, length);
  const to = destination(address);
  if (to.kind === 'unix') return native.sendToUnix(f, b, off, len, to.path);
  return native.sendTo(f, b, off, len, to.host, to.port);
}

/**
 * Takes one datagram (one recvfrom(2), EINTR retried).
 *
 * @param fd A datagram socket.
 * @param buf Where the payload goes; `offset` and `length` pick a part of it.
 * @param offset Start in buf (default 0).
 * @param length Room for the datagram (default: the rest of buf). A longer datagram is cut to it
 *   and the rest is lost: give 65535 bytes (65507 for UDP over IPv4) to never lose a byte.
 * @returns `{ bytes, address }`, address in `localAddress()`'s shape (a Unix sender that is not
 *   bound reads `{ address: '', port: 0 }`), or null when nothing is waiting (EAGAIN).
 * @throws TypeError/RangeError for a bad fd, buffer or span; errno errors EBADF, ENOTSOCK, ECONNREFUSED (recvfrom).
 */
export function recvFrom(fd: number, buf: Uint8Array, offset?: number, length?: number): Datagram | null {
  const f = validateFd(fd);
  const [b, off, len] = span(buf, offset, length);
  return native.recvFrom(f, b, off, len);
}
