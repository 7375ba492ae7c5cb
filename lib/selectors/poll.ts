/** PollSelector: the selectors layer over poll(2) (CPython's `selectors.PollSelector`). */
import { native, type NativePoll } from '../binding';
import type { BackendName } from './base';
import { PollLikeSelector } from './poll-like';

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
  static readonly READ_FLAG: number = native.constants.POLLIN;
  static readonly WRITE_FLAG: number = native.constants.POLLOUT;
  static readonly STRIDE = 2 as const;

  /** Which kernel mechanism this selector uses: 'poll'. */
  readonly backend: BackendName = 'poll';
  readonly #poll: NativePoll;

  /** @param factory Creates the native poll set (tests pass a fake). */
  constructor(factory: NativePollFactory = defaultFactory) {
    super();
    this.#poll = factory();
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
}
