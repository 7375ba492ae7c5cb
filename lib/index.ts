/**
 * iomux: select, poll, epoll and kqueue on raw file descriptors. Public exports only.
 * @packageDocumentation
 */
// The declarations use Node's types (AbortSignal, NodeJS.Platform, Buffer): every public type is
// reached through this file, so one reference here brings @types/node into a consumer's program.
/// <reference types="node" preserve="true" />
export { constants, EVENT_READ, EVENT_WRITE, FD_SETSIZE } from './constants';
export type { ConstantName, Constants } from './constants';
export { isErrno } from './errors';
export type { ErrnoError, IomuxErrorCode } from './errors';
export type { FileLike } from './validate';
export { pipe, socketpair, close, read, write, setNonBlocking, dup2, getNofileLimit, setNofileLimit } from './fd';
export type { PairOptions } from './fd';
export { Epoll } from './epoll';
export type { EpollOptions, EpollPollAsyncOptions } from './epoll';
export { IoUring } from './io-uring';
export type { IoUringInfo, IoUringOptions, IoUringWaitAsyncOptions } from './io-uring';
export type { IoUringSupport } from './io-uring-support';
export { select, selectStats, resetSelectStats } from './select';
export type { WaitStats } from './stats';
export { listen, accept, connect, socketError, localAddress, remoteAddress, shutdown, SpareFd } from './socket';
export type { TcpAddress, UnixAddress, SocketAddress, AcceptedSocket, LocalAddress, ListenOptions, ShutdownHow } from './socket';
export { setsockopt, getsockopt } from './sockopt';
export type { Linger, SockoptValue } from './sockopt';
export { udpSocket, bindUdp, sendTo, recvFrom } from './udp';
export type { DatagramFamily, Datagram } from './udp';
export { readv, writev, IOV_MAX } from './iovec';
export type { SelectOptions } from './select';
export { Poll } from './poll';
export { KEvent, Kqueue } from './kqueue';
export type { KqueueControlAsyncOptions } from './kqueue';
export { BaseSelector, SelectorMap } from './selectors/base';
export type { AsyncWaitDone, BackendName, SelectAsyncOptions, SelectorEvent, SelectorKey } from './selectors/base';
export { SelectSelector } from './selectors/select';
export type { SelectSelectorOptions } from './selectors/select';
export { PollSelector } from './selectors/poll';
export { EpollSelector } from './selectors/epoll';
export { KqueueSelector } from './selectors/kqueue';
export { IoUringSelector } from './selectors/io-uring';
export { availableBackends, canUse, capabilities, createSelector, defaultBackend, DefaultSelector } from './selectors/default';
export type { Capabilities, DefaultSelectorOptions } from './selectors/default';
