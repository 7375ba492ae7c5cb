/**
 * TCP and Unix stream sockets on raw file descriptors: enough to write a server with no `net`
 * module. Every fd these functions return is non-blocking and close-on-exec; close it with
 * `close()` from lib/fd.ts. Pair them with `select`, `Poll`, `Epoll`, `Kqueue` or a selector.
 */
import { isIP } from 'node:net';
import { native } from './binding';
import { invalidArgType, invalidArgValue } from './errors';
import { validateFd, validateInteger, validateOptions } from './validate';

/** A TCP address: a numeric IPv4/IPv6 literal (or 'localhost') and a port. */
export interface TcpAddress {
  /** Numeric IPv4 or IPv6 address ('::1', 'fe80::1%eth0'), or 'localhost' for 127.0.0.1. */
  host?: string;
  /** The TCP port, 0 to 65535 (0 for `listen()`: the kernel picks a free one). */
  port: number;
}

/** A Unix-domain socket address: a filesystem path. */
export interface UnixAddress {
  /** The socket file's path (non-empty, no NUL byte, at most `sun_path`'s size). */
  path: string;
}

/** What `listen()` and `connect()` take. An object with a `path` property is a Unix address. */
export type SocketAddress = TcpAddress | UnixAddress;

/** A connection taken by `accept()`. `port` is absent for Unix sockets. */
export interface AcceptedSocket {
  /** The new connection's fd: non-blocking and close-on-exec. */
  fd: number;
  /** The peer's IP address (IPv4 peers of a dual-stack '::' listener read '::ffff:a.b.c.d'), or for Unix sockets its path, usually ''. */
  address: string;
  /** The peer's TCP port; absent for Unix sockets. */
  port?: number;
}

/**
 * The one address shape that functions return: `localAddress()`, `remoteAddress()`,
 * `recvFrom()`. Unix sockets give their path ('' if unnamed) and port 0. `sendTo()` takes it back.
 */
export interface LocalAddress {
  /** The IPv4 or IPv6 address, or a Unix socket's path. */
  address: string;
  /** The TCP port; 0 for Unix sockets. */
  port: number;
}

/** What `listen()` takes besides the address (a bare number is the backlog). */
export interface ListenOptions {
  /** Pending-connection queue length (default 511); the kernel caps it (Linux: net.core.somaxconn). */
  backlog?: number;
  /** SO_REUSEPORT: several sockets (one per worker) listen on one port and the kernel spreads connections. */
  reusePort?: boolean;
  /** IPV6_V6ONLY for an IPv6 host: '::' then takes IPv6 peers only (default false: dual stack). */
  ipv6Only?: boolean;
}

/** Which half of a connection `shutdown()` closes. */
export type ShutdownHow = 'read' | 'write' | 'both';

const DEFAULT_HOST = '127.0.0.1';
const MAX_BACKLOG = 2 ** 31 - 1;
const HOW: Record<ShutdownHow, number> = { read: 0, write: 1, both: 2 };
/** More UTF-16 units than any sun_path has bytes (108 on Linux, 104 on macOS and the BSDs). */
const MAX_PATH_UNITS = 1024;

/** A validated address: what listen(), connect(), bindUdp() and sendTo() hand to native code. */
export type Parsed = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

function validateHost(value: unknown): string {
  if (value === undefined) return DEFAULT_HOST;
  if (typeof value !== 'string') throw invalidArgType('address.host', 'of type string', value);
  // Only literals: resolving names is node:dns's job, and a blocking resolver has no place here.
  if (value === 'localhost') return DEFAULT_HOST;
  if (isIP(value) === 0) {
    throw invalidArgValue('address.host', value, "must be a numeric IPv4 or IPv6 address or 'localhost'");
  }
  const pct = value.indexOf('%');
  if (pct >= 0) validateScope(value, value.slice(pct + 1));
  return value;
}

/** IFNAMSIZ - 1 on Linux and macOS: the longest interface name. */
const MAX_IFNAME = 15;
const MAX_SCOPE_ID = 2 ** 32 - 1;

/**
 * An IPv6 zone: an interface index 1..2^32-1 or an interface name. The native parser reads a
 * number with strtoul(), which takes a sign and wraps ('-1' became 4294967295): a number is
 * checked here, and a name is left to if_nametoindex() (unknown: ERR_INVALID_ARG_VALUE there).
 */
function validateScope(host: string, scope: string): void {
  if (/^[0-9]+$/.test(scope)) {
    const id = Number(scope);
    if (id >= 1 && id <= MAX_SCOPE_ID) return;
  } else if (scope.length <= MAX_IFNAME && !/^[+-]/.test(scope)) {
    return;
  }
  throw invalidArgValue(
    'address.host',
    host,
    `has a bad scope id '${scope.slice(0, 20)}': it must be an interface index 1..${MAX_SCOPE_ID} or an interface name`,
  );
}

/** String#isWellFormed (Node 20; ES2024, newer than this project's TypeScript lib setting). */
function isWellFormed(value: string): boolean {
  return (value as string & { isWellFormed(): boolean }).isWellFormed();
}

function validatePath(value: unknown): string {
  if (typeof value !== 'string') throw invalidArgType('address.path', 'of type string', value);
  if (value.length === 0 || value.includes('\0')) {
    throw invalidArgValue('address.path', value, 'must be a non-empty string without null bytes');
  }
  // A lone surrogate has no UTF-8 form: it would become U+FFFD and name another file.
  if (!isWellFormed(value)) throw invalidArgValue('address.path', value, 'must be well-formed Unicode (no lone surrogates)');
  // Longer than any sun_path: refused as the native side would (ENAMETOOLONG, from bind or
  // connect), but without copying a string of any length into native memory first.
  return value.length > MAX_PATH_UNITS ? value.slice(0, MAX_PATH_UNITS + 1) : value;
}

/** Checks a `{ host?, port }` or `{ path }` address (ports from minPort to 65535). */
export function parseAddress(value: unknown, minPort: number): Parsed {
  if (typeof value !== 'object' || value === null) throw invalidArgType('address', 'of type object', value);
  const obj = value as { host?: unknown; port?: unknown; path?: unknown };
  if ('path' in obj && obj.path !== undefined) return { kind: 'unix', path: validatePath(obj.path) };
  const port = validateInteger(obj.port, 'address.port', minPort, 65535);
  return { kind: 'tcp', host: validateHost(obj.host), port };
}

/**
 * Opens a listening TCP or Unix stream socket.
 *
 * TCP: `host` defaults to '127.0.0.1'; all interfaces only when asked with '0.0.0.0' or '::'
 * ('::' is dual-stack, IPV6_V6ONLY off, as Node's default). Port 0 picks a free port: read it
 * back with `localAddress()`. SO_REUSEADDR is on (a restarted server binds over TIME_WAIT) and
 * SO_REUSEPORT is off, so a second listener on the same port gets EADDRINUSE.
 * Unix: the path must not exist yet (EADDRINUSE otherwise); the caller unlinks it when done.
 *
 * @param address `{ host?, port }` or `{ path }`.
 * @param options `{ backlog, reusePort, ipv6Only }`, or the backlog as a number. `reusePort`
 *   (SO_REUSEPORT) lets other sockets that also ask for it listen on the same port, each getting a
 *   share of the connections (Linux hashes them over the listeners); `ipv6Only` (IPV6_V6ONLY) applies to IPv6 hosts only.
 * @returns The listening fd, non-blocking and close-on-exec.
 * @throws TypeError ERR_INVALID_ARG_TYPE for a non-object address, non-string host/path or non-number port/backlog, a non-object options or non-boolean reusePort/ipv6Only.
 * @throws RangeError ERR_OUT_OF_RANGE for a port outside 0..65535 or a backlog outside 0..2^31-1.
 * @throws Error ERR_INVALID_ARG_VALUE for a host that is not an IP literal or has a bad IPv6 scope
 *   (not an index 1..2^32-1 nor a known interface name), or a path that is empty, has a NUL or
 *   is not well-formed Unicode (a lone surrogate).
 * @throws Error ERR_NOT_SUPPORTED for reusePort where the OS has no SO_REUSEPORT.
 * @throws Errno errors EADDRINUSE, EACCES, EADDRNOTAVAIL (bind), ENAMETOOLONG (path too long for sun_path), EMFILE (socket).
 *
 * Portability: on macOS/BSD the fd gets O_NONBLOCK and FD_CLOEXEC through fcntl right after
 * socket(2), and SO_NOSIGPIPE; Linux sets both flags atomically. sun_path holds 107 bytes on
 * Linux, 103 on macOS.
 */
export function listen(address: SocketAddress, options?: ListenOptions | number): number {
  const parsed = parseAddress(address, 0);
  const opts: ListenOptions = typeof options === 'number' ? { backlog: options } : validateOptions<ListenOptions>(options);
  const n = validateInteger(opts.backlog ?? 511, 'backlog', 0, MAX_BACKLOG);
  const reusePort = optionalBoolean(opts.reusePort, 'options.reusePort');
  const ipv6Only = optionalBoolean(opts.ipv6Only, 'options.ipv6Only');
  if (parsed.kind === 'unix') return native.listenUnix(parsed.path, n);
  return native.listenTcp(parsed.host, parsed.port, n, reusePort, ipv6Only);
}

function optionalBoolean(value: unknown, name: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw invalidArgType(name, 'of type boolean', value);
  return value;
}

/**
 * Takes one pending connection from a listening socket.
 *
 * @param fd A listening socket.
 * @returns `{ fd, address, port }` (fd non-blocking and close-on-exec); for a Unix socket
 *   `address` is the peer's bound path or '' and `port` is absent; `null` when nothing is pending (EAGAIN).
 * @throws TypeError/RangeError for a bad fd.
 * @throws Errno errors from accept4 (Linux/BSD) or accept (macOS): EBADF, ENOTSOCK, EINVAL (not listening), EMFILE.
 *   At EMFILE the connection stays queued and the listener readable: a loop would spin; take
 *   connections with `SpareFd#accept()` to drop them instead.
 *
 * Portability: a connection reset before it was taken (ECONNABORTED) is skipped, as libuv does.
 */
export function accept(fd: number): AcceptedSocket | null {
  return native.accept(validateFd(fd));
}

/**
 * Starts a non-blocking connect. When it returns, the connection may still be in progress:
 * wait until the fd is writable, then call `socketError()` to learn how it ended.
 *
 * @param address `{ host, port }` (host defaults to '127.0.0.1'; port 1..65535) or `{ path }`.
 * @returns The socket fd, non-blocking and close-on-exec.
 * @throws TypeError/RangeError/ERR_INVALID_ARG_VALUE as for `listen()` (port 0 is out of range here).
 * @throws Errno errors from connect: ECONNREFUSED, ENOENT (no such Unix path), ENAMETOOLONG, ENETUNREACH.
 *
 * Portability: a refused TCP connect may throw ECONNREFUSED at once or show later in
 * `socketError()`, as the kernel decides (Linux loopback usually reports it later). A Unix
 * connect completes or fails at once; Linux gives EAGAIN when the listener's backlog is full.
 */
export function connect(address: SocketAddress): number {
  const parsed = parseAddress(address, 1);
  return parsed.kind === 'unix' ? native.connectUnix(parsed.path) : native.connectTcp(parsed.host, parsed.port);
}

/**
 * Reads and clears the socket's pending error (SO_ERROR).
 *
 * @param fd A socket.
 * @returns The error as an errno code ('ECONNREFUSED', 'ETIMEDOUT', ...), or `null` if there is none.
 * @throws TypeError/RangeError for a bad fd; errno errors EBADF, ENOTSOCK (getsockopt).
 */
export function socketError(fd: number): string | null {
  return native.socketError(validateFd(fd));
}

/**
 * The address a socket is bound to (getsockname).
 *
 * @param fd A socket.
 * @returns `{ address, port }`: IPv4 or IPv6 text and port; for a Unix socket its path ('' if
 *   unnamed) and port 0.
 * @throws TypeError/RangeError for a bad fd; errno errors EBADF, ENOTSOCK (getsockname).
 */
export function localAddress(fd: number): LocalAddress {
  return native.localAddress(validateFd(fd));
}

/**
 * The address of the peer a socket is connected to (getpeername).
 *
 * @param fd A connected socket.
 * @returns `{ address, port }`, the shape of `localAddress()`; for a Unix socket the peer's path
 *   ('' if unnamed) and port 0.
 * @throws TypeError/RangeError for a bad fd; errno errors ENOTCONN, EBADF, ENOTSOCK (getpeername).
 */
export function remoteAddress(fd: number): LocalAddress {
  return native.remoteAddress(validateFd(fd));
}

/**
 * Shuts down one or both halves of a connection. After 'write' the peer reads EOF (0) once it
 * has drained what was sent; the fd stays open until `close()`.
 *
 * @param fd A connected socket.
 * @param how 'read', 'write' or 'both' (the default).
 * @throws TypeError ERR_INVALID_ARG_TYPE for a non-string how; Error ERR_INVALID_ARG_VALUE for an unknown one.
 * @throws Errno errors ENOTCONN, ENOTSOCK, EBADF (shutdown).
 */
export function shutdown(fd: number, how: ShutdownHow = 'both'): void {
  const n = validateFd(fd);
  if (typeof how !== 'string') throw invalidArgType('how', 'of type string', how);
  if (!Object.prototype.hasOwnProperty.call(HOW, how)) {
    throw invalidArgValue('how', how, "must be one of 'read', 'write' or 'both'");
  }
  native.shutdown(n, HOW[how]);
}

export { SpareFd } from './spare-fd';
