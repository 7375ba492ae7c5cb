/** iomux: select, poll, epoll and kqueue on raw file descriptors. Public exports only. */
export { constants, EVENT_READ, EVENT_WRITE, FD_SETSIZE } from './constants';
export { isErrno } from './errors';
export type { ErrnoError, IomuxErrorCode } from './errors';
export type { FileLike } from './validate';
export { pipe, socketpair, close, read, write, setNonBlocking, dup2, getNofileLimit, setNofileLimit } from './fd';
export type { PairOptions } from './fd';
export { Epoll } from './epoll';
export type { EpollOptions, EpollPollAsyncOptions } from './epoll';
export { select, selectStats, resetSelectStats } from './select';
export type { WaitStats } from './stats';
export { listen, accept, connect, socketError, localAddress, shutdown } from './socket';
export type { TcpAddress, UnixAddress, SocketAddress, AcceptedSocket, LocalAddress, ShutdownHow } from './socket';
export type { SelectOptions } from './select';
export { Poll } from './poll';
export { KEvent, Kqueue } from './kqueue';
