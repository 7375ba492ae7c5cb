/**
 * Vectored I/O on raw file descriptors: readv(2) and writev(2), one syscall over many buffers
 * (a header and a body written without concatenating them, or a read scattered into slots).
 */
import { native } from './binding';
import { invalidArgType, outOfRange } from './errors';
import { constants } from './constants';
import { validateFd } from './validate';

/**
 * The most buffers one `readv()`/`writev()` takes: IOV_MAX of this OS (1024 on Linux and macOS).
 * More are refused rather than split over several syscalls, which would no longer be one atomic
 * write; pass `buffers.slice(0, IOV_MAX)` and carry on with the rest after it.
 */
export const IOV_MAX: number = constants.IOV_MAX ?? 1024;

function validateBuffers(value: unknown): Uint8Array[] {
  if (!Array.isArray(value)) throw invalidArgType('buffers', 'an instance of Array', value);
  if (value.length > IOV_MAX) throw outOfRange('buffers.length', `<= ${IOV_MAX} (IOV_MAX)`, value.length);
  for (let i = 0; i < value.length; i++) {
    if (!(value[i] instanceof Uint8Array)) {
      throw invalidArgType(`buffers[${i}]`, 'an instance of Buffer or Uint8Array', value[i]);
    }
  }
  return value as Uint8Array[];
}

/**
 * Reads into several buffers with one readv(2) (EINTR retried): the first is filled, then the
 * next, and so on.
 *
 * @param fd The descriptor.
 * @param buffers Up to IOV_MAX Buffers/Uint8Arrays (their whole length each; use subarray() for parts).
 * @returns The bytes read across all buffers, 0 at end of file, or null when a non-blocking fd
 *   has nothing (EAGAIN).
 * @throws TypeError ERR_INVALID_ARG_TYPE for a non-array or an element that is not a Uint8Array.
 * @throws RangeError ERR_OUT_OF_RANGE for more than IOV_MAX buffers, or a bad fd.
 * @throws Errno errors EBADF, ECONNRESET, EINVAL (total length over SSIZE_MAX) (readv).
 */
export function readv(fd: number, buffers: readonly Uint8Array[]): number | null {
  return native.readv(validateFd(fd), validateBuffers(buffers));
}

/**
 * Writes several buffers with one writev(2) (EINTR retried). The kernel may take fewer bytes
 * than given (a socket with little room): the caller resumes from the byte count returned. On
 * a socket, a peer that has gone gives EPIPE rather than a SIGPIPE.
 *
 * @param fd The descriptor.
 * @param buffers Up to IOV_MAX Buffers/Uint8Arrays, written in order.
 * @returns The bytes written (maybe fewer than the total), or null when a non-blocking fd is full (EAGAIN).
 * @throws TypeError ERR_INVALID_ARG_TYPE for a non-array or an element that is not a Uint8Array.
 * @throws RangeError ERR_OUT_OF_RANGE for more than IOV_MAX buffers, or a bad fd.
 * @throws Errno errors EBADF, EPIPE, ECONNRESET (writev).
 */
export function writev(fd: number, buffers: readonly Uint8Array[]): number | null {
  return native.writev(validateFd(fd), validateBuffers(buffers));
}
