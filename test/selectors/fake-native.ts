/**
 * Fake native objects for bookkeeping tests: no kernel. They record every call, can be told to
 * fail the next call with an errno, and return records queued by the test.
 */
import type { NativeEpoll, NativePoll } from '../../lib/binding';
import type { WaitStats } from '../../lib/stats';

const ERRNO: Record<string, number> = { EBADF: -9, ENOENT: -2, EPERM: -1, EEXIST: -17, EINVAL: -22, ENOMEM: -12 };

/** An Error shaped like the native layer's syscall errors. */
export function errnoError(code: string, syscall: string): Error {
  return Object.assign(new Error(`${code}: fake, ${syscall}`), { code, errno: ERRNO[code] ?? -1, syscall });
}

/** One call made to a fake, for assertions. */
export interface Call {
  op: string;
  fd?: number;
  events?: number;
  tag?: number;
  timeoutMs?: number;
  out?: Int32Array;
}

/** What fakes share: the call log, queued failures, queued wait results. */
class FakeBase {
  readonly calls: Call[] = [];
  /** op -> errno code thrown by the next call of that op. */
  readonly failNext = new Map<string, string>();
  /** Results for the next waits: each an array of records (fd, events[, tag]). */
  readonly waits: number[][][] = [];

  protected enter(call: Call, syscall: string): void {
    this.calls.push(call);
    const code = this.failNext.get(call.op);
    if (code !== undefined) {
      this.failNext.delete(call.op);
      throw errnoError(code, syscall);
    }
  }

  /** The number of calls of an op (all ops when omitted). */
  count(op?: string): number {
    return op === undefined ? this.calls.length : this.calls.filter((c) => c.op === op).length;
  }

  /** The stats interface of the native objects: waits counted, nothing timed. */
  stats(): WaitStats {
    const calls = this.count('pollInto');
    return { calls, syscalls: calls, fds: 0, events: 0, bytesIn: 0, syscallNs: 0, callNs: 0, timing: false };
  }

  resetStats(): void {}

  setStatsTiming(): void {}

  protected fill(out: Int32Array, stride: number): number {
    const records = this.waits.shift() ?? [];
    const n = Math.min(records.length, Math.floor(out.length / stride));
    for (let i = 0; i < n; i++) for (let j = 0; j < stride; j++) out[i * stride + j] = records[i][j] ?? 0;
    return n;
  }
}

/** A fake NativeEpoll: an fd -> (events, tag) table. */
export class FakeEpoll extends FakeBase implements NativeEpoll {
  readonly table = new Map<number, { events: number; tag: number }>();
  closed = false;

  fileno(): number {
    return this.closed ? -1 : 1000;
  }

  close(): void {
    this.calls.push({ op: 'close' });
    this.closed = true;
  }

  register(fd: number, events: number, tag: number): void {
    this.enter({ op: 'register', fd, events, tag }, 'epoll_ctl');
    if (this.table.has(fd)) throw errnoError('EEXIST', 'epoll_ctl');
    this.table.set(fd, { events, tag });
  }

  modify(fd: number, events: number, tag: number): void {
    this.enter({ op: 'modify', fd, events, tag }, 'epoll_ctl');
    if (!this.table.has(fd)) throw errnoError('ENOENT', 'epoll_ctl');
    this.table.set(fd, { events, tag });
  }

  unregister(fd: number): void {
    this.enter({ op: 'unregister', fd }, 'epoll_ctl');
    if (!this.table.delete(fd)) throw errnoError('ENOENT', 'epoll_ctl');
  }

  poll(): Array<[number, number]> {
    throw new Error('the selectors must use pollInto');
  }

  waitAsync(): void {
    throw new Error('the synchronous selectors never wait asynchronously');
  }

  waitIntoAsync(): void {
    throw new Error('no kernel here: async waits are tested against the real one');
  }

  cancelWait(): boolean {
    return false;
  }

  pollInto(out: Int32Array, timeoutMs: number, stride: number): number {
    this.enter({ op: 'pollInto', timeoutMs, out }, 'epoll_wait');
    if (stride !== 3) throw new Error('EpollSelector must ask for tags (stride 3)');
    return this.fill(out, stride);
  }
}

/** A fake NativePoll: an fd -> events table. */
export class FakePoll extends FakeBase implements NativePoll {
  readonly table = new Map<number, number>();

  get size(): number {
    return this.table.size;
  }

  register(fd: number, events: number): void {
    this.enter({ op: 'register', fd, events }, 'poll');
    this.table.set(fd, events);
  }

  modify(fd: number, events: number): boolean {
    this.enter({ op: 'modify', fd, events }, 'poll');
    if (!this.table.has(fd)) return false;
    this.table.set(fd, events);
    return true;
  }

  unregister(fd: number): boolean {
    this.enter({ op: 'unregister', fd }, 'poll');
    return this.table.delete(fd);
  }

  pollInto(out: Int32Array, timeoutMs: number): number {
    this.enter({ op: 'pollInto', timeoutMs, out }, 'poll');
    return this.fill(out, 2);
  }
}

/** A fake native select(): marks as ready the fds the test lists, -1 elsewhere. */
export class FakeSelect extends FakeBase {
  /** Arguments of each call, with a copy of the fds as passed in. */
  readonly seen: Array<{ fds: number[]; nr: number; nw: number; nx: number; large: boolean; buffer: Int32Array }> = [];
  /** Per wait: which fds are readable and writable. */
  readonly ready: Array<{ read?: number[]; write?: number[] }> = [];

  readonly select = (fds: Int32Array, nr: number, nw: number, nx: number, timeoutMs: number, large: boolean): number => {
    this.enter({ op: 'select', timeoutMs }, 'select');
    this.seen.push({ fds: Array.from(fds.subarray(0, nr + nw + nx)), nr, nw, nx, large, buffer: fds });
    const want = this.ready.shift() ?? {};
    let n = 0;
    for (let i = 0; i < nr + nw + nx; i++) {
      const list = i < nr ? want.read : i < nr + nw ? want.write : undefined;
      if (list?.includes(fds[i])) n++;
      else fds[i] = -1;
    }
    return n;
  };
}
