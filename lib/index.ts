/** iomux: select, poll, epoll and kqueue on raw file descriptors. Public exports only. */
export { constants, EVENT_READ, EVENT_WRITE, FD_SETSIZE } from './constants';
export { isErrno } from './errors';
export type { ErrnoError, IomuxErrorCode } from './errors';
export type { FileLike } from './validate';
export { pipe, socketpair, close, read, write, setNonBlocking, dup2, getNofileLimit, setNofileLimit } from './fd';
export type { PairOptions } from './fd';
export { select } from './select';
export type { SelectOptions } from './select';
export { Poll } from './poll';
export { KEvent, Kqueue } from './kqueue';
export { BaseSelector, SelectorMap } from './selectors/base';
export type { BackendName, SelectorEvent, SelectorKey } from './selectors/base';
export { SelectSelector } from './selectors/select';
export type { SelectSelectorOptions } from './selectors/select';
export { PollSelector } from './selectors/poll';
export { EpollSelector } from './selectors/epoll';
export { availableBackends, canUse, capabilities, createSelector, defaultBackend, DefaultSelector } from './selectors/default';
export type { Capabilities, DefaultSelectorOptions } from './selectors/default';
