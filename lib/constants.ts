/** Typed view of the native constants: only what this platform defines is present. */
import { native } from './binding';

/** The selectors' read event bit (CPython's `selectors.EVENT_READ`). */
export const EVENT_READ = 1;
/** The selectors' write event bit (CPython's `selectors.EVENT_WRITE`). */
export const EVENT_WRITE = 2;

/** poll(2) bits every POSIX system has, and FD_SETSIZE. */
const PORTABLE_NAMES = ['FD_SETSIZE', 'POLLIN', 'POLLPRI', 'POLLOUT', 'POLLERR', 'POLLHUP', 'POLLNVAL'] as const satisfies readonly ConstantName[];
/** poll(2) bits that only some systems define (POLLRDHUP: Linux). */
const POLL_EXTRA_NAMES = ['POLLRDNORM', 'POLLRDBAND', 'POLLWRNORM', 'POLLWRBAND', 'POLLMSG', 'POLLRDHUP'] as const satisfies readonly ConstantName[];
/** epoll(7) flags: Linux only. */
const EPOLL_NAMES = [
  'EPOLLIN', 'EPOLLPRI', 'EPOLLOUT', 'EPOLLERR', 'EPOLLHUP', 'EPOLLRDNORM', 'EPOLLRDBAND', 'EPOLLWRNORM',
  'EPOLLWRBAND', 'EPOLLMSG', 'EPOLLRDHUP', 'EPOLLEXCLUSIVE', 'EPOLLWAKEUP', 'EPOLLONESHOT', 'EPOLLET', 'EPOLL_CLOEXEC',
] as const satisfies readonly ConstantName[];
/** kqueue(2) filters, flags and notes under CPython's names: kqueue builds only, each where `<sys/event.h>` has it. */
const KQUEUE_NAMES = [
  'KQ_FILTER_READ', 'KQ_FILTER_WRITE', 'KQ_FILTER_AIO', 'KQ_FILTER_VNODE', 'KQ_FILTER_PROC', 'KQ_FILTER_NETDEV',
  'KQ_FILTER_SIGNAL', 'KQ_FILTER_TIMER', 'KQ_FILTER_USER',
  'KQ_EV_ADD', 'KQ_EV_DELETE', 'KQ_EV_ENABLE', 'KQ_EV_DISABLE', 'KQ_EV_ONESHOT', 'KQ_EV_CLEAR', 'KQ_EV_EOF',
  'KQ_EV_ERROR', 'KQ_EV_SYSFLAGS', 'KQ_EV_FLAG1', 'KQ_EV_RECEIPT', 'KQ_EV_DISPATCH',
  'KQ_NOTE_LOWAT', 'KQ_NOTE_DELETE', 'KQ_NOTE_WRITE', 'KQ_NOTE_EXTEND', 'KQ_NOTE_ATTRIB', 'KQ_NOTE_LINK',
  'KQ_NOTE_RENAME', 'KQ_NOTE_REVOKE', 'KQ_NOTE_TRUNCATE', 'KQ_NOTE_EXIT', 'KQ_NOTE_FORK', 'KQ_NOTE_EXEC',
  'KQ_NOTE_PCTRLMASK', 'KQ_NOTE_PDATAMASK', 'KQ_NOTE_TRACK', 'KQ_NOTE_TRACKERR', 'KQ_NOTE_CHILD', 'KQ_NOTE_LINKUP',
  'KQ_NOTE_LINKDOWN', 'KQ_NOTE_LINKINV', 'KQ_NOTE_TRIGGER', 'KQ_NOTE_FFNOP', 'KQ_NOTE_FFAND', 'KQ_NOTE_FFOR',
  'KQ_NOTE_FFCOPY', 'KQ_NOTE_FFCTRLMASK', 'KQ_NOTE_FFLAGSMASK', 'KQ_NOTE_SECONDS', 'KQ_NOTE_USECONDS',
  'KQ_NOTE_NSECONDS', 'KQ_NOTE_ABSOLUTE',
] as const satisfies readonly ConstantName[];

/** Socket levels, options (lib/sockopt.ts) and IOV_MAX (lib/iovec.ts), each where the OS defines it. */
const SOCKET_NAMES = [
  'SOL_SOCKET', 'IPPROTO_TCP', 'IPPROTO_IPV6', 'SO_REUSEADDR', 'SO_REUSEPORT', 'SO_KEEPALIVE', 'SO_BROADCAST', 'SO_RCVBUF', 'SO_SNDBUF', 'SO_LINGER',
  'SO_ERROR', 'TCP_NODELAY', 'TCP_QUICKACK', 'TCP_KEEPIDLE', 'TCP_KEEPALIVE', 'TCP_KEEPINTVL', 'TCP_KEEPCNT', 'TCP_DEFER_ACCEPT', 'IPV6_V6ONLY', 'IOV_MAX',
] as const satisfies readonly ConstantName[];

/** Every name the addon may export, on any platform (test/constants.test.ts checks the addon against it). */
export const CONSTANT_NAMES: readonly ConstantName[] = [...PORTABLE_NAMES, ...POLL_EXTRA_NAMES, ...EPOLL_NAMES, ...KQUEUE_NAMES, ...SOCKET_NAMES];

type Listed = (typeof PORTABLE_NAMES | typeof POLL_EXTRA_NAMES | typeof EPOLL_NAMES | typeof KQUEUE_NAMES | typeof SOCKET_NAMES)[number];
type NoneLeft<T extends never> = T;
/** Compiles only while every name of ConstantName is in one of the lists above. */
type EveryNameListed = NoneLeft<Exclude<ConstantName, Listed>>;

/**
 * The name of a C constant iomux knows: `POLL*`, `EPOLL*`, `KQ_FILTER_*`, `KQ_EV_*`, `KQ_NOTE_*`,
 * `FD_SETSIZE`, and the socket levels and options (`SOL_SOCKET`, `IPPROTO_*`, `SO_*`, `TCP_*`,
 * `IPV6_V6ONLY`) with `IOV_MAX`.
 */
export type ConstantName =
  | 'FD_SETSIZE' | 'POLLIN' | 'POLLPRI' | 'POLLOUT' | 'POLLERR' | 'POLLHUP' | 'POLLNVAL' | 'POLLRDNORM'
  | 'POLLRDBAND' | 'POLLWRNORM' | 'POLLWRBAND' | 'POLLMSG' | 'POLLRDHUP' | 'EPOLLIN' | 'EPOLLPRI' | 'EPOLLOUT'
  | 'EPOLLERR' | 'EPOLLHUP' | 'EPOLLRDNORM' | 'EPOLLRDBAND' | 'EPOLLWRNORM' | 'EPOLLWRBAND' | 'EPOLLMSG'
  | 'EPOLLRDHUP' | 'EPOLLEXCLUSIVE' | 'EPOLLWAKEUP' | 'EPOLLONESHOT' | 'EPOLLET' | 'EPOLL_CLOEXEC'
  | 'KQ_FILTER_READ' | 'KQ_FILTER_WRITE' | 'KQ_FILTER_AIO' | 'KQ_FILTER_VNODE' | 'KQ_FILTER_PROC'
  | 'KQ_FILTER_NETDEV' | 'KQ_FILTER_SIGNAL' | 'KQ_FILTER_TIMER' | 'KQ_FILTER_USER' | 'KQ_EV_ADD'
  | 'KQ_EV_DELETE' | 'KQ_EV_ENABLE' | 'KQ_EV_DISABLE' | 'KQ_EV_ONESHOT' | 'KQ_EV_CLEAR' | 'KQ_EV_EOF'
  | 'KQ_EV_ERROR' | 'KQ_EV_SYSFLAGS' | 'KQ_EV_FLAG1' | 'KQ_EV_RECEIPT' | 'KQ_EV_DISPATCH' | 'KQ_NOTE_LOWAT'
  | 'KQ_NOTE_DELETE' | 'KQ_NOTE_WRITE' | 'KQ_NOTE_EXTEND' | 'KQ_NOTE_ATTRIB' | 'KQ_NOTE_LINK'
  | 'KQ_NOTE_RENAME' | 'KQ_NOTE_REVOKE' | 'KQ_NOTE_TRUNCATE' | 'KQ_NOTE_EXIT' | 'KQ_NOTE_FORK'
  | 'KQ_NOTE_EXEC' | 'KQ_NOTE_PCTRLMASK' | 'KQ_NOTE_PDATAMASK' | 'KQ_NOTE_TRACK' | 'KQ_NOTE_TRACKERR'
  | 'KQ_NOTE_CHILD' | 'KQ_NOTE_LINKUP' | 'KQ_NOTE_LINKDOWN' | 'KQ_NOTE_LINKINV' | 'KQ_NOTE_TRIGGER'
  | 'KQ_NOTE_FFNOP' | 'KQ_NOTE_FFAND' | 'KQ_NOTE_FFOR' | 'KQ_NOTE_FFCOPY' | 'KQ_NOTE_FFCTRLMASK'
  | 'KQ_NOTE_FFLAGSMASK' | 'KQ_NOTE_SECONDS' | 'KQ_NOTE_USECONDS' | 'KQ_NOTE_NSECONDS' | 'KQ_NOTE_ABSOLUTE'
  | 'SOL_SOCKET' | 'IPPROTO_TCP' | 'IPPROTO_IPV6' | 'SO_REUSEADDR' | 'SO_REUSEPORT'
  | 'SO_KEEPALIVE' | 'SO_BROADCAST' | 'SO_RCVBUF' | 'SO_SNDBUF' | 'SO_LINGER'
  | 'SO_ERROR' | 'TCP_NODELAY' | 'TCP_QUICKACK' | 'TCP_KEEPIDLE' | 'TCP_KEEPALIVE'
  | 'TCP_KEEPINTVL' | 'TCP_KEEPCNT' | 'TCP_DEFER_ACCEPT' | 'IPV6_V6ONLY' | 'IOV_MAX';

/**
 * The C constants by name, with exact keys so that a misspelt name does not compile.
 *
 * Portability: `FD_SETSIZE` and `POLLIN`, `POLLPRI`, `POLLOUT`, `POLLERR`, `POLLHUP`, `POLLNVAL`
 * exist everywhere; `EPOLL*` on Linux only; `KQ_*` on macOS and the BSDs (and Linux builds with
 * libkqueue), each only where the system headers define it; the other `POLL*` bits where the
 * system has them. A name the platform lacks reads `undefined` at run time, although it is typed
 * `number` (as Node's own `os.constants` are), so code meant for one platform needs no `!`.
 */
export type Constants = { readonly [K in ConstantName]: number };

/**
 * C constants under their C names: POLL*, EPOLL* (Linux), KQ_FILTER_* / KQ_EV_* / KQ_NOTE_*
 * (kqueue builds), FD_SETSIZE, and for sockets SOL_SOCKET, IPPROTO_TCP, IPPROTO_IPV6, SO_*,
 * TCP_*, IPV6_V6ONLY and IOV_MAX. A flag the platform lacks is absent (undefined).
 * EPOLLET is 1 << 31 and is given as the signed value JS bit operations produce (-2147483648).
 */
export const constants: Constants = Object.freeze({ ...native.constants }) as Constants;

/** FD_SETSIZE of this platform: select(2) can only watch fds below it. */
export const FD_SETSIZE: number = constants.FD_SETSIZE;
