/** Typed view of the native constants: only what this platform defines is present. */
import { native } from './binding';

/** The selectors' event bits (CPython's selectors.EVENT_READ / EVENT_WRITE). */
export const EVENT_READ = 1;
export const EVENT_WRITE = 2;

/**
 * C constants under their C names: POLL*, EPOLL* (Linux), KQ_FILTER_* / KQ_EV_* / KQ_NOTE_*
 * (kqueue builds), FD_SETSIZE, and for sockets SOL_SOCKET, IPPROTO_TCP, IPPROTO_IPV6, SO_*,
 * TCP_*, IPV6_V6ONLY and IOV_MAX. A flag the platform lacks is absent (undefined).
 * EPOLLET is 1 << 31 and is given as the signed value JS bit operations produce (-2147483648).
 */
export const constants: Readonly<Record<string, number>> = Object.freeze({ ...native.constants });

/** FD_SETSIZE of this platform: select(2) can only watch fds below it. */
export const FD_SETSIZE: number = native.constants.FD_SETSIZE;
