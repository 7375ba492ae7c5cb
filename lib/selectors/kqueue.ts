/** KqueueSelector: the selectors layer over kqueue(2) (CPython's `selectors.KqueueSelector`). */
import { native, type NativeKqueue } from '../binding';
import { FdTable } from './fd-table';
import { EVENT_READ, EVENT_WRITE } from '../constants';
import { KEV_WORDS, packChange } from '../kevent';
import { nativeKqueue } from '../kqueue';
import type { NativeStats } from '../stats';
import { explainFailure, fileId, refusal, unreliableFile } from './kqueue-quirks';
import { BaseSelector } from './base';
import { moveRegistrations, nextTag, reserveRecords } from './registrations';
import { hasSeam, seam } from './seams';
import type { AsyncBackend, BackendName, SelectorEvent, SelectorKey } from './types';
/** Smallest capacity of the event buffer, in records. */
const MIN_RECORDS = 8;
const FILTER_READ = native.constants.KQ_FILTER_READ ?? -1;
const FILTER_WRITE = native.constants.KQ_FILTER_WRITE ?? -2;
const EV_ADD = native.constants.KQ_EV_ADD ?? 0x1;
const EV_DELETE = native.constants.KQ_EV_DELETE ?? 0x2;
/** libkqueue returns at most this many events per kevent() call (MAX_KEVENT in its private.h). */
const LIBKQUEUE_MAX_EVENTS = 512;

/** The number of kernel filters (kevents) a mask of EVENT_READ/EVENT_WRITE takes. */
function filterCount(events: number): number {
  return (events & EVENT_READ ? 1 : 0) + (events & EVENT_WRITE ? 1 : 0);
}

/**
 * A selector over kqueue(2). Read and write readiness are two kernel filters, so one fd may
 * take two events; `select()` merges them into one `[key, events]` entry and sizes its wait by
 * filters, not fds (CPython gh-110038). Each registration carries a generation tag in `udata`,
 * so readiness of a file that was closed and whose fd number was registered again never reaches
 * the newer key.
 *
 * Portability: macOS and the BSDs; on Linux only in builds linked against libkqueue (which
 * emulates kqueue over epoll, so there it is chosen by name only, never by DefaultSelector);
 * elsewhere the constructor throws ERR_NOT_SUPPORTED. On macOS, kqueue refuses terminals and
 * misses events on named FIFOs: registering one throws ERR_NOT_SUPPORTED saying so; use
 * PollSelector or SelectSelector for them. libkqueue watches both correctly (epoll underneath).
 * A closed fd leaves the kqueue by itself (unregister still works).
 * @typeParam T The type of the data attached to each key.
 */
export class KqueueSelector<T = unknown> extends BaseSelector<T> {
  /** Which kernel mechanism this selector uses: 'kqueue'. */
  readonly backend: BackendName = 'kqueue';
  readonly #factory = seam('kernel', () => new (nativeKqueue())()) as () => NativeKqueue;
  #kq = this.#factory();
  /** Whose quirks apply (a test seam can pretend to be macOS). */
  readonly #platform = seam('platform', process.platform);
  /** Whether the kqueue is libkqueue's emulation over epoll (not for a test's fake). */
  readonly #emulated = native.has.libkqueue && !hasSeam('kernel');
  /** fd -> generation tag of its current registration, sent as udata. */
  readonly #tags = new FdTable<number>();
  #lastTag = 0;
  /** Filters registered in the kernel: the most events one wait can return. */
  #filters = 0;
  readonly #changes = new Int32Array(2 * KEV_WORDS);
  #out: Int32Array = new Int32Array(MIN_RECORDS * KEV_WORDS);
  /** libkqueue only: fd -> "dev:ino" of the file registered under it (see #dropOrphan). */
  readonly #files = new FdTable<string>();
  /** fd -> index in the ready array, reused by every select() to merge read and write. */
  readonly #merged = new Map<number, number>();

  /**
   * Makes a selector with a new kqueue.
   * @throws Error ERR_NOT_SUPPORTED where this build has no kqueue; an errno error (EMFILE) from kqueue().
   */
  constructor() {
    super();
  }

  /** @returns The kqueue fd, or -1 after `close()`. */
  override fileno(): number {
    return this.closed ? -1 : this.#kq.fileno();
  }

  protected override _add(key: SelectorKey<T>): void {
    const why = unreliableFile(key.fd, this.#platform);
    if (why !== undefined) throw refusal(key.fd, why);
    const tag = (this.#lastTag = nextTag(this.#lastTag));
    const n = this.#packEvents(key.fd, key.events, EV_ADD, tag);
    try {
      this.#kq.control(this.#changes, n, null, 0, 0);
    } catch (err) {
      // kevent() stops at the first change that fails: the read filter may be in already.
      if (n > 1) this.#deleteEach(key.fd, EVENT_READ);
      throw explainFailure(key.fd, err, this.#platform);
    }
    this.#tags.set(key.fd, tag);
    this.#filters += n;
    this.#out = reserveRecords(this.#out, this.#filters, KEV_WORDS);
    if (this.#emulated) this.#files.set(key.fd, fileId(key.fd) ?? '');
  }

  protected override _remove(key: SelectorKey<T>): void {
    // Forget the tag first: whatever the kernel says, events of this registration are stale now.
    this.#tags.delete(key.fd);
    this.#filters -= filterCount(key.events);
    const n = this.#packEvents(key.fd, key.events, EV_DELETE, 0);
    try {
      this.#kq.control(this.#changes, n, null, 0, 0);
    } catch (err) {
      // A failed change ends the batch; make sure the write filter is gone too.
      if (n > 1) this.#deleteEach(key.fd, EVENT_WRITE);
      throw err;
    } finally {
      if (this.#emulated) this.#dropOrphan(key.fd);
    }
  }

  /** The fewest changes: delete the filters no longer wanted, add the new ones, same tag. */
  protected override _modify(old: SelectorKey<T>, key: SelectorKey<T>): void {
    const tag = this.#tags.get(old.fd) ?? 0;
    const dropped = old.events & ~key.events;
    const added = key.events & ~old.events;
    let n = 0;
    if (dropped & EVENT_READ) n = this.#pack(n, key.fd, FILTER_READ, EV_DELETE, 0);
    if (dropped & EVENT_WRITE) n = this.#pack(n, key.fd, FILTER_WRITE, EV_DELETE, 0);
    if (added & EVENT_READ) n = this.#pack(n, key.fd, FILTER_READ, EV_ADD, tag);
    if (added & EVENT_WRITE) n = this.#pack(n, key.fd, FILTER_WRITE, EV_ADD, tag);
    // On failure BaseSelector unregisters the file; count the old filters as still there, as
    // _remove(old) then subtracts them.
    this.#kq.control(this.#changes, n, null, 0, 0);
    this.#filters += filterCount(key.events) - filterCount(old.events);
    this.#out = reserveRecords(this.#out, this.#filters, KEV_WORDS);
  }

  protected override _poll(timeoutMs: number, ready: Array<SelectorEvent<T>>): number {
    const n = this.#drain(timeoutMs);
    this.#collect(this.#out, n, ready, true);
    return n;
  }

  /** One wait into the event buffer for up to every registered filter; returns the count. */
  #drain(timeoutMs: number): number {
    const out = this.#out;
    const max = Math.max(1, Math.min(this.#filters, out.length / KEV_WORDS));
    let n = this.#kq.control(null, 0, out, max, timeoutMs);
    // libkqueue caps one call at 512 events; epoll hands out the next ones on the next call.
    while (this.#emulated && n % LIBKQUEUE_MAX_EVENTS === 0 && n > 0 && n < max) {
      const more = this.#kq.control(null, 0, out.subarray(n * KEV_WORDS), max - n, 0);
      if (more === 0) break;
      n += more;
    }
    return n;
  }

  // Node's loop watches the kqueue fd itself (libkqueue: its internal epoll fd): no thread.
  protected override readonly _waits: AsyncBackend<T> = {
    waitAsync: (timeoutMs, ready, done) => {
      const out = this.#out;
      const max = Math.max(1, Math.min(this.#filters, out.length / KEV_WORDS));
      const kq = this.#kq;
      kq.waitAsync(out, max, timeoutMs, (err, n = 0) => {
        if (err !== null) {
          // libkqueue only: #rebuild() closed this kqueue under the wait; the selector waits on
          // with the time left on the new one.
          if (kq !== this.#kq && !this.closed) return done(null, false);
          return done(err, false);
        }
        this.#collect(out, n, ready, true);
        // Files registered during the wait may not have fit: the rest are still pending (level
        // triggered) and one more zero-timeout look merges them in.
        if (n === max && this.#filters > max && !this.closed) this.#collect(this.#out, this.#drain(0), ready, false);
        done(null, n === 0);
      });
    },
    cancelWait: () => this.#kq.cancelWait(),
  };

  protected override _statsSources(): NativeStats[] {
    return [this.#kq];
  }

  /**
   * Turns n event records of out into merged [key, events] entries of current registrations;
   * `fresh` starts a new merge, else entries already in ready are merged into.
   */
  #collect(out: Int32Array, n: number, ready: Array<SelectorEvent<T>>, fresh: boolean): void {
    const merged = this.#merged;
    if (fresh) merged.clear();
    for (let i = 0, at = 0; i < n; i++, at += KEV_WORDS) {
      const fd = out[at];
      const key = this._keys.get(fd);
      // An event of an older registration of this fd number (closed, reused, registered again)
      // must not reach the newer key: its udata is the older tag.
      if (key === undefined || this.#tags.get(fd) !== out[at + 8]) continue;
      const filter = out[at + 2];
      const events = (filter === FILTER_READ ? EVENT_READ : filter === FILTER_WRITE ? EVENT_WRITE : 0) & key.events;
      if (events === 0) continue;
      const slot = merged.get(fd);
      if (slot === undefined) {
        merged.set(fd, ready.length);
        ready.push([key, events]);
      } else {
        ready[slot][1] |= events;
      }
    }
  }

  protected override _close(): void {
    this.#tags.clear();
    this.#files.clear();
    this.#merged.clear();
    this.#filters = 0;
    this.#kq.close();
  }

  /**
   * libkqueue keeps its files in an epoll set, where a file outlives the fd number it was added
   * under: when that number was closed and given to another file while the old one lives on
   * (dup, fork), deleting by number cannot remove the old file, whose readiness then confuses
   * libkqueue (kevent() fails with EINVAL) or comes back under the number's next registration.
   * A kernel kqueue drops a file's filters when its fd is closed. Only a new set forgets it.
   */
  #dropOrphan(fd: number): void {
    const registered = this.#files.get(fd);
    this.#files.delete(fd);
    const now = fileId(fd);
    if (registered !== undefined && now !== undefined && now !== registered) this.#rebuild();
  }

  /** Moves every registration into a new kqueue and closes the old one (libkqueue only). */
  #rebuild(): void {
    const old = this.#kq;
    this.#filters = 0;
    this.#kq = moveRegistrations(this.#factory, this.getMap().values(), (fresh, key: SelectorKey<T>) => {
      const n = this.#packEvents(key.fd, key.events, EV_ADD, this.#tags.get(key.fd) ?? 0);
      // Counted whether or not the kernel takes them, as _remove() subtracts them all.
      this.#filters += n;
      fresh.control(this.#changes, n, null, 0, 0);
    });
    old.close();
  }

  /** Writes change record n into the changes buffer; returns n + 1. */
  #pack(n: number, fd: number, filter: number, flags: number, tag: number): number {
    packChange(this.#changes, n * KEV_WORDS, fd, filter, flags, tag);
    return n + 1;
  }

  /** Writes the changes of a mask of EVENT_READ/EVENT_WRITE with the same flags; returns how many. */
  #packEvents(fd: number, events: number, flags: number, tag: number): number {
    let n = 0;
    if (events & EVENT_READ) n = this.#pack(n, fd, FILTER_READ, flags, tag);
    if (events & EVENT_WRITE) n = this.#pack(n, fd, FILTER_WRITE, flags, tag);
    return n;
  }

  /** Deletes the filters of events one change at a time, ignoring what the kernel says. */
  #deleteEach(fd: number, events: number): void {
    for (const [bit, filter] of [[EVENT_READ, FILTER_READ], [EVENT_WRITE, FILTER_WRITE]]) {
      if (!(events & bit)) continue;
      try {
        this.#kq.control(this.#changes, this.#pack(0, fd, filter, EV_DELETE, 0), null, 0, 0);
      } catch {
        // Not there (ENOENT) or the fd is closed (EBADF): gone either way.
      }
    }
  }
}
