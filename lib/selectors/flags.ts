/**
 * EVENT_READ/EVENT_WRITE to and from the kernel's flags (POLLIN/POLLOUT, EPOLLIN/EPOLLOUT),
 * and the one loop that turns (fd, flags[, tag]) records into selector entries: poll, epoll
 * and the thread waits of poll and select all go through it.
 */
import { EVENT_READ, EVENT_WRITE } from '../constants';
import type { FdTable } from './fd-table';
import type { SelectorEvent, SelectorKey } from './types';

/** The kernel's flags for a mask of EVENT_READ and EVENT_WRITE. */
export function toKernelFlags(events: number, readFlag: number, writeFlag: number): number {
  return (events & EVENT_READ ? readFlag : 0) | (events & EVENT_WRITE ? writeFlag : 0);
}

/**
 * Turns n records of `stride` int32s (fd, flags[, tag]) into entries of the current keys,
 * pushed onto ready. With tags, a record whose tag is not its fd's current one is stale.
 * @returns How many records were stale (no key, or an older registration's tag).
 */
export function collectRecords<T>(
  out: Int32Array,
  n: number,
  stride: number,
  keys: FdTable<SelectorKey<T>>,
  tags: FdTable<number> | undefined,
  readFlag: number,
  writeFlag: number,
  ready: Array<SelectorEvent<T>>,
): number {
  let stale = 0;
  for (let i = 0, at = 0; i < n; i++, at += stride) {
    const fd = out[at];
    const key = keys.get(fd);
    if (key === undefined || (tags !== undefined && tags.get(fd) !== out[at + 2])) {
      stale++;
      continue;
    }
    const flags = out[at + 1];
    // As CPython: anything but "readable" (HUP, ERR, NVAL too) wakes writers, and anything but
    // "writable" wakes readers, so an error or hang-up reaches whoever waits.
    const events = ((flags & ~readFlag ? EVENT_WRITE : 0) | (flags & ~writeFlag ? EVENT_READ : 0)) & key.events;
    if (events !== 0) ready.push([key, events]);
  }
  return stale;
}
