/**
 * Choosing a selector at run time: canUse(), defaultBackend(), createSelector(), DefaultSelector
 * and capabilities(). The choice is the platform's own mechanism (epoll on Linux, kqueue on
 * macOS/BSD), then poll, then select, each checked by creating it; IOMUX_BACKEND overrides.
 */
import { native } from '../binding';
import { FD_SETSIZE } from '../constants';
import { invalidArgType, invalidArgValue } from '../errors';
import { validateOptions } from '../validate';
import { ioUringSupport, type IoUringSupport } from '../io-uring-support';
import { BaseSelector, type BackendName } from './base';
import { BACKENDS, type BackendEntry } from './registry';

/**
 * Definitive probe results, kept for the process: what the kernel offers does not change while
 * it runs. A probe that met a shortage (EMFILE, ...) or another refusal is not kept.
 */
const probed = new Map<string, boolean>();

function entryFor(name: string): BackendEntry | undefined {
  return BACKENDS.find((entry) => entry.name === name);
}

/**
 * Whether a backend works in this process (checked by creating its kernel object; a definitive
 * answer is kept for the life of the process).
 * @param name 'select', 'poll', 'epoll' or 'kqueue'.
 * @returns false for a backend this platform or build lacks, or an unknown name.
 * @throws ErrnoError EMFILE, ENFILE, ENOMEM (ENOBUFS, EAGAIN): the probe could not tell, for
 *   want of an fd or memory; nothing is kept, so a later call probes again.
 */
export function canUse(name: string): boolean {
  const entry = entryFor(name);
  if (entry === undefined) return false;
  const known = probed.get(name);
  if (known !== undefined) return known;
  const verdict = entry.probe();
  if (verdict !== 'failed') probed.set(name, verdict === 'works');
  return verdict === 'works';
}

/**
 * The backends that work here, the preferred first (the DefaultSelector order, then those that
 * are only chosen by name).
 * @returns Backend names.
 */
export function availableBackends(): BackendName[] {
  const platform = process.platform;
  const rankOf = (entry: BackendEntry): number => entry.rank(platform) ?? Number.MAX_SAFE_INTEGER;
  return BACKENDS.filter((entry) => canUse(entry.name))
    .sort((a, b) => rankOf(a) - rankOf(b))
    .map((entry) => entry.name);
}

function checkedName(name: unknown, argName: string): BackendName {
  if (typeof name !== 'string') throw invalidArgType(argName, 'of type string', name);
  if (!canUse(name)) {
    const list = availableBackends().join(', ');
    throw invalidArgValue(argName, name, `is not an available backend (available here: ${list})`);
  }
  return name as BackendName;
}

/**
 * The backend DefaultSelector uses: IOMUX_BACKEND when it is set (and not empty), else the
 * first that works of the platform's own mechanism, poll and select.
 * @returns The backend name.
 * @throws Error ERR_INVALID_ARG_VALUE: IOMUX_BACKEND names an unknown or unavailable backend;
 *   the message lists the available ones.
 * @throws ErrnoError EMFILE, ENFILE, ENOMEM: a backend could not be probed for want of an fd
 *   or memory (see canUse); a later call probes again.
 */
export function defaultBackend(): BackendName {
  const forced = process.env.IOMUX_BACKEND;
  if (forced !== undefined && forced !== '') return checkedName(forced, 'IOMUX_BACKEND');
  const platform = process.platform;
  const first = availableBackends().find((name) => entryFor(name)?.rank(platform) !== undefined);
  if (first === undefined) throw invalidArgValue('IOMUX_BACKEND', forced, 'cannot be chosen: no backend works here');
  return first;
}

/**
 * Makes a selector of the named backend, or of the default one.
 * @param name A backend name; undefined means `defaultBackend()`.
 * @returns A new selector.
 * @throws Error ERR_INVALID_ARG_VALUE: an unknown or unavailable name (the message lists the
 *   available backends); TypeError ERR_INVALID_ARG_TYPE: name is not a string.
 * @throws ErrnoError EMFILE, ENFILE, ENOMEM: from the probe (see canUse) or from creating the
 *   kernel object.
 */
export function createSelector<T = unknown>(name?: BackendName): BaseSelector<T> {
  const chosen = name === undefined ? defaultBackend() : checkedName(name, 'backend');
  const entry = entryFor(chosen) as BackendEntry;
  return entry.create<T>();
}

/** Options of `new DefaultSelector()`. */
export interface DefaultSelectorOptions {
  /** Use this backend instead of the default (IOMUX_BACKEND is then ignored). */
  backend?: BackendName;
}

/**
 * The best selector that works here, chosen at run time: the platform's own mechanism (epoll
 * on Linux, kqueue on macOS/BSD), then poll, then select. `IOMUX_BACKEND=name` or
 * `{ backend: name }` overrides the choice. The object made is an instance of the chosen class
 * (EpollSelector, ...); `x instanceof DefaultSelector` holds for every selector.
 *
 * Portability: see the chosen class.
 * @typeParam T The type of the data attached to each key.
 */
export interface DefaultSelector<T = unknown> extends BaseSelector<T> {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class DefaultSelector<T = unknown> {
  /**
   * @param options `{ backend }` to choose the backend by name.
   * @throws Error ERR_INVALID_ARG_VALUE: an unknown or unavailable backend (options or IOMUX_BACKEND).
   * @throws ErrnoError EMFILE, ENFILE, ENOMEM: no fd or memory to probe or create the backend;
   *   the choice is not kept, so a later DefaultSelector picks the same backend as ever.
   */
  constructor(options?: DefaultSelectorOptions) {
    const opts = validateOptions<DefaultSelectorOptions>(options);
    return createSelector<T>(opts.backend);
  }

  /** Every selector counts as a DefaultSelector. */
  static [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof BaseSelector;
  }
}

/** What `capabilities()` reports. */
export interface Capabilities {
  /** process.platform. */
  platform: NodeJS.Platform;
  /** process.arch. */
  arch: string;
  /** The backends that work here, the preferred first. */
  backends: BackendName[];
  /** What DefaultSelector uses (IOMUX_BACKEND included), or null when IOMUX_BACKEND is invalid. */
  default: BackendName | null;
  /** select(2)'s fd limit. */
  fdSetSize: number;
  /** RLIMIT_NOFILE. */
  nofile: {
    /** The limit in force (Infinity when unlimited). */
    soft: number;
    /** The ceiling for the soft limit (Infinity when unlimited). */
    hard: number;
  };
  /** Whether epoll waits use epoll_pwait2 (sub-millisecond timeouts). */
  epollPwait2: boolean;
  /** Whether kqueue comes from libkqueue (an emulation) rather than the kernel. */
  libkqueue: boolean;
  /** Whether io_uring works here and, if not, why (ENOSYS, EPERM, `kernel.io_uring_disabled`). */
  ioUring: IoUringSupport;
  /** process.versions.node. */
  node: string;
  /** The Node-API version the addon runs on. */
  napi: number;
}

/**
 * Describes what this machine and build offer, as `npx iomux probe` prints it.
 * @returns A plain JSON-safe object (nofile limits of Infinity become the string "unlimited"
 *   only in the table; JSON.stringify gives null for them).
 * @throws ErrnoError EMFILE, ENFILE, ENOMEM: a backend could not be probed (see canUse).
 */
export function capabilities(): Capabilities {
  let chosen: BackendName | null;
  try {
    chosen = defaultBackend();
  } catch {
    chosen = null;
  }
  return {
    platform: process.platform,
    arch: process.arch,
    backends: availableBackends(),
    default: chosen,
    fdSetSize: FD_SETSIZE,
    nofile: native.getNofileLimit(),
    epollPwait2: native.epollPwait2Supported?.() ?? false,
    libkqueue: native.has.libkqueue,
    ioUring: ioUringSupport(),
    node: process.versions.node,
    napi: Number(process.versions.napi),
  };
}
