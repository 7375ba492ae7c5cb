/** PollSelector: the selectors layer over poll(2) (CPython's `selectors.PollSelector`). */
import { native, type NativePoll } from '../binding';
import type { NativeStats } from '../stats';
import { PollLikeSelector } from './poll-like';
import { ThreadedWaits, WAIT_POLL } from './threaded';
import type { BackendName } from './types';

const { POLLIN, POLLOUT } = native.constants;

/**
 * A selector over poll(2): no fd limit, cost grows with the number of registered fds.
 *
 * Portability: everywhere (Linux, macOS, the BSDs). A registered fd that was closed is
 * reported ready (POLLNVAL) for whatever it was registered for; unregister before closing.
 * @typeParam T The type of the data attached to each key.
 */
export class PollSelector<T = unknown> extends PollLikeSelector<T, NativePoll> {
  /** Which kernel mechanism this selector uses: 'poll'. */
  readonly backend: BackendName = 'poll';
  // The thread's records are poll(2) revents, which is what _collect() reads.
  protected override readonly _waits = new ThreadedWaits<T>(WAIT_POLL, {
    keys: () => this.getMap().values(),
    size: () => this._keys.size,
    large: () => false,
    generation: () => this._generation,
    collect: (records, n, ready) => this._collect(records, n, ready),
    pollNow: (ready) => this._poll(0, ready),
  });

  /** Makes a selector with an empty pollfd set. */
  constructor() {
    super({ kernel: () => new native.Poll(), readFlag: POLLIN, writeFlag: POLLOUT, tagged: false });
  }

  protected override _statsSources(): NativeStats[] {
    return [this._kernel, this._waits];
  }

  protected override _close(): void {
    this._waits.close();
  }
}
