/**
 * What kqueue cannot watch reliably, by platform, and the errors that say so (KqueueSelector).
 * macOS refuses terminals and misses events on named FIFOs; libkqueue (epoll underneath) and
 * the BSDs watch both.
 */
import fs from 'node:fs';
import { isatty } from 'node:tty';
import { isErrno, stateError } from '../errors';

/**
 * Why kqueue cannot be trusted with fd on this platform, or undefined. Only macOS has such
 * files: a named FIFO gets no readiness past its first 8 KiB, nor its EOF (python/cpython#95600,
 * golang/go#24164). pipe(2) pipes are FIFOs too but have their own reliable filter; they fstat
 * with st_dev 0, a named FIFO with its file system's device.
 */
export function unreliableFile(fd: number, platform: NodeJS.Platform): string | undefined {
  if (platform !== 'darwin') return undefined;
  let stat: fs.Stats;
  try {
    stat = fs.fstatSync(fd);
  } catch {
    return undefined; // Not an open fd: kevent() gives the errno (EBADF) itself.
  }
  return stat.isFIFO() && stat.dev !== 0 ? 'a named FIFO, whose readiness kqueue on macOS misses' : undefined;
}

/** The identity of the file an fd names ("dev:ino"), or undefined when the fd is not open. */
export function fileId(fd: number): string | undefined {
  try {
    const st = fs.fstatSync(fd);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/**
 * The ERR_NOT_SUPPORTED error for a file kqueue cannot watch, pointing at the selectors that can.
 * @param fd - the fd refused.
 * @param why - what the file is and why kqueue fails on it.
 * @param cause - the kernel's error, when there was one.
 * @returns the error to throw.
 */
export function refusal(fd: number, why: string, cause?: unknown): Error {
  const err = stateError('ERR_NOT_SUPPORTED', `fd ${fd} is ${why}; watch it with PollSelector or SelectSelector`);
  if (cause !== undefined) Object.defineProperty(err, 'cause', { value: cause, configurable: true, writable: true });
  return err;
}

/**
 * Turns macOS's EINVAL for a terminal into an error that says what to do; other errors pass.
 * @param fd - the fd whose registration failed.
 * @param err - what kevent() threw.
 * @param platform - whose rules apply.
 * @returns the error to throw.
 */
export function explainFailure(fd: number, err: unknown, platform: NodeJS.Platform): unknown {
  if (platform === 'darwin' && isErrno(err, 'EINVAL') && isatty(fd)) {
    return refusal(fd, 'a terminal, which kqueue on macOS refuses (EINVAL, tokio-rs/mio#1377)', err);
  }
  return err;
}
