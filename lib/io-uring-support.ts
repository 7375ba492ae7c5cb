/**
 * Whether io_uring works in this process, and if not, why: it is compiled into every Linux
 * build, but kernels may lack it (before 5.1: ENOSYS), forbid it (`kernel.io_uring_disabled`
 * 1 or 2: EPERM) or sit behind a seccomp filter that refuses io_uring_setup (Docker's default
 * profile: EPERM; others: ENOSYS).
 */
import fs from 'node:fs';
import { native, type NativeIoUringConstructor } from './binding';
import { isErrno, stateError } from './errors';

/** What `capabilities().ioUring` reports. */
export interface IoUringSupport {
  /** True when io_uring_setup works here. */
  available: boolean;
  /** Why it does not ('not built for <platform>', 'io_uring_setup: EPERM ...'), or null. */
  reason: string | null;
  /** The errno code io_uring_setup failed with (ENOSYS, EPERM), or null. */
  code: string | null;
  /**
   * `/proc/sys/kernel/io_uring_disabled` (Linux 6.6+): 0 allowed, 1 only for members of
   * `kernel.io_uring_group`, 2 disabled; null where the file does not exist.
   */
  disabledSysctl: number | null;
}

/** Errors of io_uring_setup that mean "not here" rather than "short of a resource". */
const REFUSALS: ReadonlySet<string> = new Set(['ENOSYS', 'EPERM', 'EACCES', 'EINVAL']);

function readDisabledSysctl(): number | null {
  try {
    const value = Number.parseInt(fs.readFileSync('/proc/sys/kernel/io_uring_disabled', 'utf8'), 10);
    return Number.isNaN(value) ? null : value;
  } catch {
    return null;
  }
}

function explain(code: string, sysctl: number | null): string {
  if (code === 'ENOSYS') return 'io_uring_setup: ENOSYS (no io_uring in this kernel, or a seccomp filter refuses it)';
  if (sysctl === 2) return `io_uring_setup: ${code} (kernel.io_uring_disabled = 2)`;
  if (sysctl === 1) return `io_uring_setup: ${code} (kernel.io_uring_disabled = 1: only kernel.io_uring_group may use it)`;
  return `io_uring_setup: ${code} (a seccomp filter, e.g. Docker's default profile, refuses it)`;
}

/**
 * Probes io_uring (one io_uring_setup of a 1-entry ring, closed at once).
 * @returns Whether it works and, if not, why.
 * @throws ErrnoError EMFILE, ENFILE, ENOMEM: the probe could not tell for want of a resource.
 */
export function ioUringSupport(): IoUringSupport {
  const disabledSysctl = process.platform === 'linux' ? readDisabledSysctl() : null;
  if (native.IoUring === undefined || native.ioUringProbe === undefined) {
    return { available: false, reason: `not built for ${process.platform}`, code: null, disabledSysctl };
  }
  const err = native.ioUringProbe();
  if (err === null) return { available: true, reason: null, code: null, disabledSysctl };
  if (!isErrno(err) || !REFUSALS.has(err.code)) throw err;
  return { available: false, reason: explain(err.code, disabledSysctl), code: err.code, disabledSysctl };
}

/**
 * Makes a native IoUring, turning a refusal of the kernel (ENOSYS, EPERM) into ERR_NOT_SUPPORTED.
 * @returns The native object.
 * @throws Error ERR_NOT_SUPPORTED (its `cause` the errno error) where io_uring cannot be used;
 *   ErrnoError EMFILE, ENFILE, ENOMEM from io_uring_setup.
 */
export function createNativeIoUring(entries: number, level: boolean): InstanceType<NativeIoUringConstructor> {
  const Native = native.IoUring;
  if (Native === undefined) {
    throw stateError('ERR_NOT_SUPPORTED', `io_uring is not available on ${process.platform}`);
  }
  try {
    return new Native(entries, level);
  } catch (err) {
    if (!isErrno(err) || !REFUSALS.has(err.code) || err.code === 'EINVAL') throw err;
    const e = stateError('ERR_NOT_SUPPORTED', `io_uring is not available here: ${explain(err.code, readDisabledSysctl())}`);
    (e as Error & { cause?: unknown }).cause = err;
    throw e;
  }
}
