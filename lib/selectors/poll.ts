/** PollSelector: the selectors layer over poll(2) (CPython's `selectors.PollSelector`). */
import { WAIT_POLL } from '../async/threaded-wait';
import { native, type NativePoll } from '../binding';
import type { NativeStats } from '../stats';
import type { AsyncWaitDone, BackendName, SelectorEvent } from './base';
import { PollLikeSelector } from './poll-like';
import { ThreadedWaits, type WaiterFactory } from './threaded';

/** Creates the native pollfd set a PollSelector waits on. */
export type NativePollFactory = () => NativePoll;

const defaultFactory: NativePollFactory = () => new native.Poll();

/**
 * A selector over poll(2): no fd limit, cost grows with the number of registered fds.
 *
 * Portability: everywhere (Linux, macOS, the BSDs). A registered fd that was closed is
 * reported ready (POLLNVAL) for whatever it was registered for; unregister before closing.
 * @typeParam T The type of the data attached to each key.
 */
export class PollSelector<T = unknown> extends PollLikeSelector<T> {
  /** The poll(2) bit that stands for EVENT_READ (PollLikeSelector's setup). @internal */
  static readonly READ_FLAG: number = native.constants.POLLIN;
  /** The poll(2) bit that stands for EVENT_WRITE (PollLikeSelector's setup). @internal */
  static readonly WRITE_FLAG: number = native.constants.POLLOUT;
  /** Int32s per ready record: (fd, revents). @internal */
  static readonly STRIDE = 2 as const;

  /** Which kernel mechanism this selector uses: 'poll'. */
  readonly backend: BackendName = 'poll';
  readonly #poll: NativePoll;
  readonly #threaded: ThreadedWaits<T>;

  /**
   * @param factory Creates the native poll set (tests pass a fake).
   * @param waiter Creates the thread waiter of selectAsync() (tests pass a fake).
   */
  constructor(factory: NativePollFactory = defaultFactory, waiter?: WaiterFactory) {
    super();
    this.#poll = factory();
    // The thread's records are poll(2) revents, which is what _collect() reads.
    this.#threaded = new ThreadedWaits<T>(
      WAIT_POLL,
      {
        keys: () => this.getMap().values(),
        size: () => this._size,
        large: () => false,
        generation: () => this._generation,
        collect: (records, n, ready) => this._collect(records, n, ready),
        pollNow: (ready) => this._poll(0, ready),
      },
      waiter,
    );
  }

  protected override _nativeRegister(fd: number, flags: number): void {
    this.#poll.register(fd, flags);
  }

  protected override _nativeModify(fd: number, flags: number): void {
    this.#poll.modify(fd, flags);
  }

  protected override _nativeUnregister(fd: number): void {
    this.#poll.unregister(fd);
  }

  protected override _nativeWait(out: Int32Array, timeoutMs: number): number {
    return this.#poll.pollInto(out, timeoutMs);
  }

  protected override _waitAsync(timeoutMs: number, ready: Array<SelectorEvent<T>>, done: AsyncWaitDone): void {
    this.#threaded.wait(timeoutMs, ready, done);
  }

  protected override _cancelWait(): boolean {
    return this.#threaded.cancel();
  }

  protected override _changedDuringWait(): void {
    this.#threaded.restart();
  }

  protected override _statsSources(): NativeStats[] {
    return [this.#poll, this.#threaded];
  }

  protected override _close(): void {
    this.#threaded.close();
  }
}
