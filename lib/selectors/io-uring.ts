/** IoUringSelector: the selectors layer over io_uring(7) poll requests. */
import { native, type NativeIoUring } from '../binding';
import { createNativeIoUring } from '../io-uring-support';
import { LoopWatchedSelector } from './loop-watched';
import type { BackendName, SelectorKey } from './types';

/** Submission queue entries of a selector's first ring: changes beyond this between two waits cost one extra io_uring_enter each ring-full. */
const SELECTOR_RING_ENTRIES = 256;
/**
 * The ring grows (x4, up to this) once registrations pass 4 per entry. POLL_REMOVE finds its
 * request in a kernel hash of (completion entries / 32) buckets, at most 256: with 19,000 polls
 * on a 256-entry ring (16 buckets) a register+unregister pair cost 10.9x epoll's, against about
 * 4x with 4096 entries (docs/benchmark.md). A 4096-entry ring takes about 400 KiB.
 */
const SELECTOR_RING_MAX_ENTRIES = 4096;

/**
 * A selector over io_uring: each registration is a poll request in flight, and register,
 * modify and unregister are queued in the submission ring and submitted together by the next
 * `select()` in its one io_uring_enter (or at once during a `selectAsync()`). The requests are
 * one-shot and armed again after each completion, so readiness is level-triggered as with the
 * other selectors (io_uring's multishot poll is edge-like: see docs/io_uring.md). Completions
 * of an older registration of a reused fd number are dropped natively (a generation in each
 * request's user_data).
 *
 * Portability: Linux with io_uring allowed; chosen only by name (`{ backend: 'io_uring' }`,
 * `IOMUX_BACKEND=io_uring`), never by DefaultSelector. Elsewhere, or where the kernel refuses
 * io_uring, the constructor throws ERR_NOT_SUPPORTED. Regular files can be registered (always
 * ready). A registered fd that is closed keeps its file open in the ring until it is
 * unregistered and the next wait (or selectAsync) submits the removal.
 * @typeParam T The type of the data attached to each key.
 */
export class IoUringSelector<T = unknown> extends LoopWatchedSelector<T, NativeIoUring> {
  /** Which kernel mechanism this selector uses: 'io_uring'. */
  readonly backend: BackendName = 'io_uring';
  /** The entries of the ring the factory makes next (shared with it: it runs inside super()). */
  readonly #ring: { entries: number };
  /**
   * Makes a selector with a new io_uring instance (level mode).
   * @throws Error ERR_NOT_SUPPORTED where io_uring is missing or refused; an errno error
   *   (EMFILE, ENOMEM) from io_uring_setup.
   */
  constructor() {
    const ring = { entries: SELECTOR_RING_ENTRIES };
    super({
      kernel: () => createNativeIoUring(ring.entries, true),
      readFlag: native.constants.POLLIN,
      writeFlag: native.constants.POLLOUT,
      tagged: true,
    });
    this.#ring = ring;
  }

  // Past 4 registrations per entry the next wait moves every registration to a ring 4 times
  // larger (_rebuildIfDue): a level-mode poll on a ready fd completes at once in the new ring,
  // so nothing queued or posted in the old one is lost.
  protected override _add(key: SelectorKey<T>): void {
    super._add(key);
    const ring = this.#ring;
    if (this._keys.size > 4 * ring.entries && ring.entries < SELECTOR_RING_MAX_ENTRIES) {
      ring.entries = Math.min(SELECTOR_RING_MAX_ENTRIES, ring.entries * 4);
      this._outgrown = true;
    }
  }
}
