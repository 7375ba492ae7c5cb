/** The shared half of the selectors whose kernel object is an fd Node's loop can watch. */
import type { NativeStats } from '../stats';
import { PollLikeSelector } from './poll-like';
import type { AsyncBackend, PollKernel } from './types';

/** A kernel object that owns a pollable fd and waits on Node's loop itself (epoll, io_uring). */
export interface LoopWatchedKernel extends PollKernel {
  fileno(): number;
  waitIntoAsync(out: Int32Array, timeoutMs: number, stride: number, callback: (err: Error | null, count?: number) => void): void;
  cancelWait(): boolean;
  close(): void;
}

/**
 * A PollLikeSelector over an epoll fd or an io_uring ring: `fileno()` is that fd, and
 * `selectAsync()` has Node's loop watch it, with no thread; the records (tags included) are
 * written straight into the buffer when it turns readable.
 * @typeParam T The type of the data attached to each key.
 * @typeParam K The kernel object.
 */
export abstract class LoopWatchedSelector<T, K extends LoopWatchedKernel> extends PollLikeSelector<T, K> {
  /** @returns The kernel object's fd, or -1 after `close()`. */
  override fileno(): number {
    return this.closed ? -1 : this._kernel.fileno();
  }

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
