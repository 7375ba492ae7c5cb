/**
 * What PollSelector and EpollSelector share (CPython's `_PollLikeSelector`): a kernel object
 * with `{ register, modify, unregister, pollInto }` (native Poll or Epoll) kept as a field, the
 * translation of EVENT_READ/EVENT_WRITE into its flags, and one reused Int32Array of records.
 * A subclass gives its kernel factory and flags, and adds what only it has.
 */
import { seam } from './seams';
import { BaseSelector } from './base';
import { collectRecords, toKernelFlags } from './flags';
import { FdTable } from './fd-table';
import { moveRegistrations, nextTag, reserveRecords } from './registrations';
import type { PollKernel, SelectorEvent, SelectorKey } from './types';

/** How a PollLikeSelector subclass is set up (CPython's `_selector_cls`, `_EVENT_READ`, ...). */
export interface PollLikeSpec<K extends PollKernel> {
  /** Makes the kernel object (a test seam can replace it). */
  readonly kernel: () => K;
  /** The kernel's flag for "readable" (POLLIN, EPOLLIN). */
  readonly readFlag: number;
  /** The kernel's flag for "writable" (POLLOUT, EPOLLOUT). */
  readonly writeFlag: number;
  /** Whether the kernel hands back a tag per registration (records of 3 int32s, not 2). */
  readonly tagged: boolean;
}

/** Smallest record capacity of the output buffer: even an empty selector passes maxevents >= 1. */
const MIN_RECORDS = 8;
/** Waits in a row that saw stale records before the registrations move to a new kernel object. */
const STALE_WAITS_BEFORE_REBUILD = 2;

type Wait = (timeoutMs: number) => number;

/**
 * The shared half of the poll(2) and epoll(7) selectors.
 * @typeParam T The type of the data attached to each key.
 * @typeParam K The kernel object.
 */
export abstract class PollLikeSelector<T = unknown, K extends PollKernel = PollKernel> extends BaseSelector<T> {
  /** The kernel object; replaced only by `_rebuildIfDue()`. */
  protected _kernel: K;
  /** Makes a kernel object like the first (for `_rebuildIfDue()`). */
  protected readonly _makeKernel: () => K;
  readonly #readFlag: number;
  readonly #writeFlag: number;
  readonly #stride: 2 | 3;
  /** fd -> tag of its current registration, when the kernel keeps tags. */
  readonly #tags: FdTable<number> | undefined;
  #lastTag = 0;
  #out: Int32Array;
  /** The kernel's pollInto into #out, bound once per kernel object and buffer where it offers that (epoll). */
  #wait: Wait;
  /** Consecutive waits that returned stale records; see _rebuildIfDue. */
  #staleWaits = 0;
  /** Set by a subclass whose kernel object should be replaced by a larger one before the next wait. */
  protected _outgrown = false;

  constructor(spec: PollLikeSpec<K>) {
    super();
    this._makeKernel = seam('kernel', spec.kernel) as () => K;
    this.#readFlag = spec.readFlag;
    this.#writeFlag = spec.writeFlag;
    this.#stride = spec.tagged ? 3 : 2;
    this.#tags = spec.tagged ? new FdTable<number>() : undefined;
    this.#out = new Int32Array(MIN_RECORDS * this.#stride);
    this._kernel = this._makeKernel();
    this.#wait = this.#bind(this._kernel);
  }

  protected override _add(key: SelectorKey<T>): void {
    const tag = this.#tags === undefined ? 0 : (this.#lastTag = nextTag(this.#lastTag));
    this._kernel.register(key.fd, this.#flags(key.events), tag);
    this.#tags?.set(key.fd, tag);
    const out = reserveRecords(this.#out, this._keys.size, this.#stride);
    if (out !== this.#out) {
      this.#out = out;
      this.#wait = this.#bind(this._kernel);
    }
  }

  protected override _remove(key: SelectorKey<T>): void {
    // Forget the tag first: whatever the kernel says, records for this registration are stale now.
    this.#tags?.delete(key.fd);
    this._kernel.unregister(key.fd);
  }

  protected override _modify(old: SelectorKey<T>, key: SelectorKey<T>): void {
    this._kernel.modify(key.fd, this.#flags(key.events), this.#tags?.get(old.fd) ?? 0);
  }

  protected override _poll(timeoutMs: number, ready: Array<SelectorEvent<T>>): number {
    if (this.#staleWaits >= STALE_WAITS_BEFORE_REBUILD || this._outgrown) this._rebuildIfDue();
    const n = this.#wait(timeoutMs);
    this._collect(this.#out, n, ready);
    return n;
  }

  /** The output buffer for one wait (replaced, never reused, when it has to grow). */
  protected get _out(): Int32Array {
    return this.#out;
  }

  /** Turns n kernel records of out into entries for the current registrations, pushed onto ready. */
  protected _collect(out: Int32Array, n: number, ready: Array<SelectorEvent<T>>): void {
    const stale = collectRecords(out, n, this.#stride, this._keys, this.#tags, this.#readFlag, this.#writeFlag, ready);
    this.#staleWaits = stale > 0 ? this.#staleWaits + 1 : 0;
  }

  /**
   * epoll keys a registration on (file, fd) and drops it only when the file's last fd closes. A
   * registered fd that was closed while its file lives on elsewhere (dup, fork) stays in the set
   * and, if ready, is reported on every wait: its records are stale and dropped, but a wait that
   * only ever sees them would spin until its timeout. After two such waits in a row, every
   * current registration (with its tag) moves to a new kernel object, which leaves the orphan
   * behind, and the old one is closed. A registration the new object refuses (its fd was closed
   * since) is left behind. The same move gives a subclass that set `_outgrown` a kernel object
   * made anew by its factory (io_uring: a larger ring). Called before each wait.
   */
  protected _rebuildIfDue(): void {
    if (this.#staleWaits < STALE_WAITS_BEFORE_REBUILD && !this._outgrown) return;
    this.#staleWaits = 0;
    this._outgrown = false;
    const fresh = moveRegistrations(this._makeKernel, this.getMap().values(), (kernel, key: SelectorKey<T>) =>
      kernel.register(key.fd, this.#flags(key.events), this.#tags?.get(key.fd) ?? 0),
    );
    const old = this._kernel;
    this._kernel = fresh;
    this.#wait = this.#bind(fresh);
    old.close?.();
  }

  #flags(events: number): number {
    return toKernelFlags(events, this.#readFlag, this.#writeFlag);
  }

  #bind(kernel: K): Wait {
    const stride = this.#stride;
    const out = this.#out;
    return kernel.boundPollInto?.(stride, out) ?? ((ms) => kernel.pollInto(out, ms, stride));
  }
}
