/** EpollSelector: the selectors layer over epoll(7) (CPython's `selectors.EpollSelector`). */
import { native, type NativeEpoll } from '../binding';
import { nativeEpollClass } from '../epoll';
import { LoopWatchedSelector } from './loop-watched';
import type { BackendName } from './types';

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
export class EpollSelector<T = unknown> extends LoopWatchedSelector<T, NativeEpoll> {
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
}
