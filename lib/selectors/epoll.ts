/** EpollSelector: the selectors layer over epoll(7) (CPython's `selectors.EpollSelector`). */
import { native, type NativeEpoll } from '../binding';
import { nativeEpollClass } from '../epoll';
import type { NativeStats } from '../stats';
import { PollLikeSelector } from './poll-like';
import type { AsyncBackend, BackendName } from './types';

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
export class EpollSelector<T = unknown> extends PollLikeSelector<T, NativeEpoll> {
  /** Which kernel mechanism this selector uses: 'epoll'. */
  readonly backend: BackendName = 'epoll';
  /**
   * Makes a selector with a new epoll instance.
   * @throws Error ERR_NOT_SUPPORTED where there is no epoll; an errno error (EMFILE) from epoll_create1.
   */
  constructor() {
    super({
      kernel: () => new (nativeEpollClass())(-1, true),
      readFlag: native.constants.EPOLLIN ?? 0x001,
      writeFlag: native.constants.EPOLLOUT ?? 0x004,
      tagged: true,
    });
  }

  /** @returns The epoll fd, or -1 after `close()`. */
  override fileno(): number {
    return this.closed ? -1 : this._kernel.fileno();
  }

  // Node's loop watches the epoll fd itself: no thread, and the records (tags included) are
  // written straight into the buffer when it turns readable, with no second syscall.
  protected override readonly _waits: AsyncBackend<T> = {
    waitAsync: (timeoutMs, ready, done) => {
      this._rebuildIfDue();
      const out = this._out;
      this._kernel.waitIntoAsync(out, timeoutMs, 3, (err, n = 0) => {
        if (err !== null) return done(err, false);
        this._collect(out, n, ready);
        done(null, n === 0);
      });
    },
    cancelWait: () => this._kernel.cancelWait(),
  };

  protected override _statsSources(): NativeStats[] {
    return [this._kernel];
  }

  protected override _close(): void {
    this._kernel.close();
  }
}
