/**
 * Finds the fd that turns readable when a libkqueue kqueue has events pending, so that
 * Kqueue#controlAsync can wait in Node's own loop on Linux too. A kernel kqueue fd is pollable
 * itself; libkqueue's is not: it is the write end of a pipe whose read end libkqueue adds to the
 * kqueue's internal epoll set (to notice the close) and, with EPOLLONESHOT, to one process-wide
 * monitoring epoll. The internal epoll set is the one to watch: it holds every fd the emulated
 * filters wait on. It is found through /proc (Linux only), and this depends on libkqueue's
 * internals (src/linux/platform.c, linux_kqueue_init): when the layout is not as expected the
 * lookup gives undefined and controlAsync reports ERR_NOT_SUPPORTED.
 */
import fs from 'node:fs';

/** EPOLLONESHOT: set only on the monitoring epoll's entry for the pipe's read end. */
const EPOLLONESHOT = 0x40000000;

function link(fd: string): string | undefined {
  try {
    return fs.readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

/**
 * The epoll fd libkqueue waits on for the kqueue whose fd is kqFd, or undefined.
 * @param kqFd - the fd libkqueue's kqueue() returned.
 * @returns the fd to watch for readability.
 */
export function libkqueueWatchFd(kqFd: number): number | undefined {
  const pipe = link(String(kqFd));
  if (pipe === undefined || !pipe.startsWith('pipe:')) return undefined;
  let fds: string[];
  try {
    fds = fs.readdirSync('/proc/self/fd');
  } catch {
    return undefined;
  }
  const readEnds = new Set(fds.filter((fd) => fd !== String(kqFd) && link(fd) === pipe));
  for (const fd of fds) {
    if (link(fd) !== 'anon_inode:[eventpoll]') continue;
    let info: string;
    try {
      info = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    } catch {
      continue;
    }
    for (const m of info.matchAll(/^tfd:\s+(\d+)\s+events:\s+([0-9a-f]+)/gm)) {
      if (readEnds.has(m[1]) && (parseInt(m[2], 16) & EPOLLONESHOT) === 0) return Number(fd);
    }
  }
  return undefined;
}
