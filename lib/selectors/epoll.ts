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

/**
 * A selector over epoll(7): the cost of a wait grows with the ready fds, not the registered ones.
 * Each registration carries a generation tag in the kernel, so readiness of a file that was
 * closed and whose fd number was registered again never reaches the newer key.
 *
 * Portability: Linux only (elsewhere the constructor throws ERR_NOT_SUPPORTED). Regular files
 * cannot be registered (EPERM). A closed fd leaves the epoll set by itself.
 * @typeParam T The type of the data attached to each key.
 */
export class EpollSelector<T = unknown> extends PollLikeSelector<T> {
  static readonly READ_FLAG: number = native.constants.EPOLLIN ?? 0x001;
  static readonly WRITE_FLAG: number = native.constants.EPOLLOUT ?? 0x004;
  static readonly STRIDE = 3 as const;

  /** Which kernel mechanism this selector uses: 'epoll'. */
  readonly backend: BackendName = 'epoll';
  readonly #epoll: NativeEpoll;
  /** The hot wait, bound once: see NativeEpoll.boundPollInto. */
  readonly #pollInto: (out: Int32Array, timeoutMs: number) => number;

  /**
   * @param factory Creates the native epoll instance (tests pass a fake).
   * @throws Error ERR_NOT_SUPPORTED where there is no epoll; an errno error (EMFILE) from epoll_create1.
   */
  constructor(factory: NativeEpollFactory = defaultFactory) {
    super();
    const epoll = factory();
    this.#epoll = epoll;
    this.#pollInto = epoll.boundPollInto?.(3) ?? ((out, ms) => epoll.pollInto(out, ms, 3));
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
    return this.#pollInto(out, timeoutMs);
  }

  // Node's loop watches the epoll fd itself: no thread, and the records (tags included) are
  // written straight into the buffer when it turns readable, with no second syscall.
  protected override _waitAsync(timeoutMs: number, ready: Array<SelectorEvent<T>>, done: AsyncWaitDone): void {
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
