/** Pipes and socketpairs for tests, closed after each test; fd counting for leak checks. */
import fs from 'node:fs';
import { afterEach } from 'vitest';
import { close, pipe, socketpair } from '../../lib/fd';

const open = new Set<number>();

afterEach(() => {
  for (const fd of open) {
    try {
      close(fd);
    } catch {
      // The test closed it itself; nothing to release.
    }
  }
  open.clear();
});

/** A pipe whose ends are closed after the current test. */
export function testPipe(nonblocking = true): [number, number] {
  const fds = pipe({ nonblocking });
  fds.forEach((fd) => open.add(fd));
  return fds;
}

/** A socketpair whose ends are closed after the current test. */
export function testSocketPair(nonblocking = true): [number, number] {
  const fds = socketpair({ nonblocking });
  fds.forEach((fd) => open.add(fd));
  return fds;
}

/** Registers an fd made elsewhere (accept, listen, connect) to be closed after the test. */
export function track(fd: number): number {
  open.add(fd);
  return fd;
}

/** Closes an fd now and stops tracking it (for tests that close mid-way). */
export function closeNow(fd: number): void {
  open.delete(fd);
  close(fd);
}

/** The number of fds this process has open (Linux /proc, macOS /dev/fd). */
export function openFdCount(): number {
  const dir = fs.existsSync('/proc/self/fd') ? '/proc/self/fd' : '/dev/fd';
  return fs.readdirSync(dir).length;
}

/** The fd's open-file flags from /proc/self/fdinfo (Linux only), or undefined elsewhere. */
export function fdFlags(fd: number): number | undefined {
  try {
    const info = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    const m = /^flags:\s+([0-7]+)$/m.exec(info);
    return m ? parseInt(m[1], 8) : undefined;
  } catch {
    return undefined;
  }
}

export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;
