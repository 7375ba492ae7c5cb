/** EpollSelector: the selectors layer over epoll(7) (CPython's `selectors.EpollSelector`). */
import { native, type NativeEpoll } from '../binding';
import { stateError } from '../errors';
import type { NativeStats } from '../stats';
import type { AsyncWaitDone, BackendName, SelectorEvent } from './base';
import { PollLikeSelector } from './poll-like';

/** Creates the native epoll instance an EpollSelector waits on. */
export type NativeEpollFactory = () => NativeEpoll;

const defaultFactory: NativeEpollFactory = () => {
  const Epoll = native.Epoll;
  if (Epoll === undefined) throw stateError('ERR_NOT_SUPPORTED', `epoll is not available on ${process.platform}`);
  return new Epoll(-1, true);
};

/** Waits in a row that saw stale records before the registrations move to a new epoll set. */
const STALE_WAITS_BEFORE_REBUILD = 2;

function bindPollInto(epoll: NativeEpoll): (out: Int32Array, timeoutMs: number) => number {
  return epoll.boundPollInto?.(3) ?? ((out, ms) => epoll.pollInto(out, ms, 3));
}

/**
 * A selector over epoll(7): the cost of a wait grows with the ready fds, not the registered ones.
 * Each registration carries a generation tag in the kernel, so readiness of a file that was
 * closed and whose fd number was registered again never reaches the newer key.
 *
 * Portability: Linux only (elsewhere the constructor throws ERR_NOT_SUPPORTED). Regular files
 * cannot be registered (EPERM). A closed fd leaves the epoll set by itself, unless its file
 * lives on through another fd (dup, fork): then the selector moves its registrations to a new
 * epoll instance after two waits that saw only that orphan's stale events, so `fileno()` may
 * change.
 * @typeParam T The type of the data attached to each key.
 */
export class EpollSelector<T = unknown> extends PollLikeSelector<T> {
  /** The epoll bit that stands for EVENT_READ (PollLikeSelector's setup). @internal */
  static readonly READ_FLAG: number = native.constants.EPOLLIN ?? 0x001;
  /** The epoll bit that stands for EVENT_WRITE (PollLikeSelector's setup). @internal */
  static readonly WRITE_FLAG: number = native.constants.EPOLLOUT ?? 0x004;
  /** Int32s per ready record: (fd, events, tag). @internal */
  static readonly STRIDE = 3 as const;

  /** Which kernel mechanism this selector uses: 'epoll'. */
  readonly backend: BackendName = 'epoll';
  readonly #factory: NativeEpollFactory;
  #epoll: NativeEpoll;
  /** The hot wait, bound once per epoll instance: see NativeEpoll.boundPollInto. */
  #pollInto: (out: Int32Array, timeoutMs: number) => number;
  /** Consecutive waits that returned stale records; see _staleRecords. */
  #staleWaits = 0;

  /**
   * @param factory Creates the native epoll instance (tests pass a fake).
   * @throws Error ERR_NOT_SUPPORTED where there is no epoll; an errno error (EMFILE) from epoll_create1.
   */
  constructor(factory: NativeEpollFactory = defaultFactory) {
    super();
    this.#factory = factory;
    this.#epoll = factory();
    this.#pollInto = bindPollInto(this.#epoll);
  }

  /** @returns The epoll fd, or -1 after `close()`. */
  override fileno(): number {
    return this.closed ? -1 : this.#epoll.fileno();
  }

  protected override _nativeRegister(fd: number, flags: number, tag: number): void {
    this.#epoll.register(fd, flags, tag);
  }

  protected override _nativeModify(fd: number, flags: number, tag: number): void {
    this.#epoll.modify(fd, flags, tag);
  }

  protected override _nativeUnregister(fd: number): void {
    this.#epoll.unregister(fd);
  }

  protected override _nativeWait(out: Int32Array, timeoutMs: number): number {
    if (this.#staleWaits >= STALE_WAITS_BEFORE_REBUILD) this.#rebuild();
    return this.#pollInto(out, timeoutMs);
  }

  // epoll keys a registration on (file, fd) and drops it only when the file's last fd closes. A
  // registered fd that was closed while its file lives on elsewhere (dup, fork) stays in the set
  // and, if ready, is reported on every wait: its records are stale and dropped, but a wait that
  // only ever sees them would spin until its timeout. Two such waits in a row move every current
  // registration to a new epoll instance, which leaves the orphan behind.
  protected override _staleRecords(count: number): void {
    this.#staleWaits = count > 0 ? this.#staleWaits + 1 : 0;
  }

  #rebuild(): void {
    this.#staleWaits = 0;
    const fresh = this.#factory();
    try {
      this._registerAllWith((fd, flags, tag) => fresh.register(fd, flags, tag));
    } catch {
      // A registration the new set refuses (the fd was closed since): keep the old set.
      fresh.close();
      return;
    }
    const old = this.#epoll;
    this.#epoll = fresh;
    this.#pollInto = bindPollInto(fresh);
    old.close();
  }

  // Node's loop watches the epoll fd itself: no thread, and the records (tags included) are
  // written straight into the buffer when it turns readable, with no second syscall.
  protected override _waitAsync(timeoutMs: number, ready: Array<SelectorEvent<T>>, done: AsyncWaitDone): void {
    if (this.#staleWaits >= STALE_WAITS_BEFORE_REBUILD) this.#rebuild();
    const out = this._out;
    this.#epoll.waitIntoAsync(out, timeoutMs, 3, (err, n = 0) => {
      if (err !== null) return done(err, false);
      this._collect(out, n, ready);
      done(null, n === 0);
    });
  }

  protected override _cancelWait(): boolean {
    return this.#epoll.cancelWait();
  }

  protected override _statsSources(): NativeStats[] {
    return [this.#epoll];
  }

  protected override _close(): void {
    this.#epoll.close();
  }
}
