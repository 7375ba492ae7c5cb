/**
 * selectAsync() bookkeeping against a fake thread waiter (no kernel, no thread): when the
 * thread's records are trusted, the abort that races with a result, the thread's errors
 * re-checked on the JS thread, the time-left loop, close while a cancel is in flight.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { NativeWaiter } from '../../lib/binding';
import { constants, EVENT_READ, EVENT_WRITE } from '../../lib/constants';
import { PollSelector } from '../../lib/selectors/poll';
import { withSeams } from '../../lib/selectors/seams';
import { errnoError, FakePoll } from './fake-native';

const { POLLIN, POLLOUT } = constants;

type WaitCallback = (err: Error | null, records: number) => void;

/** A NativeWaiter whose waits end when the test says so. */
class FakeWaiter implements NativeWaiter {
  closed = false;
  pending = false;
  readonly waits: Array<{ pairs: number[]; timeoutMs: number; out: Int32Array; cb: WaitCallback }> = [];
  cancels = 0;

  wait(_kind: number, fds: Int32Array, count: number, timeoutMs: number, _large: boolean, out: Int32Array, cb: WaitCallback): void {
    if (this.pending) throw Object.assign(new Error('busy'), { code: 'ERR_BUSY' });
    this.pending = true;
    this.waits.push({ pairs: Array.from(fds.subarray(0, 2 * count)), timeoutMs, out, cb });
  }

  /** Ends the last wait with these (fd, revents) records, or with err. */
  finish(records: Array<[number, number]>, err: Error | null = null): void {
    const w = this.waits[this.waits.length - 1];
    records.forEach(([fd, rev], i) => {
      w.out[2 * i] = fd;
      w.out[2 * i + 1] = rev;
    });
    this.pending = false;
    w.cb(err, err ? -2 : records.length);
  }

  /** Ends the last wait as cancelled, as the thread does once the wake-up fd fires. */
  stopped(): void {
    this.pending = false;
    this.waits[this.waits.length - 1].cb(null, -1);
  }

  cancel(): boolean {
    this.cancels++;
    return this.pending;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pending) {
      this.pending = false;
      this.waits[this.waits.length - 1].cb(null, -1);
    }
  }

  stats(): never {
    throw new Error('not used');
  }

  resetStats(): void {}

  setStatsTiming(): void {}
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

let sel: PollSelector<string>;
let poll: FakePoll;
let waiter: FakeWaiter;

function make(): void {
  waiter = new FakeWaiter();
  sel = withSeams({ kernel: () => (poll = new FakePoll()), waiter: () => waiter }, () => new PollSelector<string>());
}

afterEach(() => sel.close());

describe('selectAsync over a thread waiter (fake)', () => {
  it('trusts the thread records when nothing changed; re-polls when something did', async () => {
    make();
    sel.register(5, EVENT_READ, 'five');
    sel.register(6, EVENT_READ | EVENT_WRITE, 'six');
    const p = sel.selectAsync();
    expect(waiter.waits[0].pairs).toEqual([5, POLLIN, 6, POLLIN | POLLOUT]);
    waiter.finish([[6, POLLOUT]]);
    expect((await p).map(([k, ev]) => [k.data, ev])).toEqual([['six', EVENT_WRITE]]);
    expect(poll.count('pollInto')).toBe(0);

    const q = sel.selectAsync();
    sel.modify(6, EVENT_READ, 'six');
    poll.waits.push([[5, POLLIN]]);
    waiter.finish([[6, POLLOUT]]); // stale: 6 no longer waits for writing
    expect((await q).map(([k, ev]) => [k.data, ev])).toEqual([['five', EVENT_READ]]);
    expect(poll.calls.filter((c) => c.op === 'pollInto').map((c) => c.timeoutMs)).toEqual([0]);
  });

  it('register(), unregister() or an events modify() during the wait restart it on the new set', async () => {
    make();
    sel.register(5, EVENT_READ, 'five');
    const p = sel.selectAsync(1000);
    sel.modify(5, EVENT_READ, 'data only');
    expect(waiter.cancels).toBe(0);
    sel.unregister(5);
    sel.register(7, EVENT_WRITE, 'seven');
    expect(waiter.cancels).toBe(2);
    waiter.stopped();
    await tick();
    expect(waiter.waits.map((w) => w.pairs)).toEqual([[5, POLLIN], [7, POLLOUT]]);
    expect(waiter.waits[1].timeoutMs).toBeLessThanOrEqual(1000);
    sel.modify(7, EVENT_READ | EVENT_WRITE, 'seven');
    expect(waiter.cancels).toBe(3);
    waiter.stopped();
    await tick();
    expect(waiter.waits[2].pairs).toEqual([7, POLLIN | POLLOUT]);
    waiter.finish([[7, POLLIN]]);
    expect((await p).map(([k, ev]) => [k.data, ev])).toEqual([['seven', EVENT_READ]]);
  });

  it('all stale: waits again with the time that is left', async () => {
    make();
    sel.register(5, EVENT_READ, 'five');
    const p = sel.selectAsync(1000);
    sel.unregister(5);
    sel.register(5, EVENT_READ, 'again');
    poll.waits.push([]); // the re-check finds nothing ready
    await new Promise((resolve) => setTimeout(resolve, 30));
    waiter.finish([[5, POLLIN]]);
    await tick();
    expect(waiter.waits.length).toBe(2);
    expect(waiter.waits[1].timeoutMs).toBeLessThan(980);
    expect(waiter.waits[1].timeoutMs).toBeGreaterThan(500);
    waiter.finish([]);
    expect(await p).toEqual([]);
  });

  it('an abort waits for the thread to stop, so the next wait is not ERR_BUSY; it wins over a result', async () => {
    make();
    sel.register(5, EVENT_READ, 'five');
    const ac = new AbortController();
    let settled = false;
    const p = sel.selectAsync(null, { signal: ac.signal }).finally(() => (settled = true));
    ac.abort('stop');
    expect(waiter.cancels).toBe(1);
    await tick();
    expect(settled).toBe(false); // the thread has not answered yet
    waiter.finish([[5, POLLIN]]); // readiness raced with the abort
    await expect(p).rejects.toMatchObject({ name: 'AbortError', cause: 'stop' });
    const q = sel.selectAsync(); // the waiter is free again
    waiter.finish([[5, POLLIN]]);
    expect((await q).length).toBe(1);
  });

  it("the thread's error is checked again on the JS thread: gone if the fd was unregistered", async () => {
    make();
    sel.register(5, EVENT_READ, 'five');
    sel.register(6, EVENT_READ, 'six');
    const p = sel.selectAsync(1000);
    sel.unregister(5);
    poll.waits.push([[6, POLLIN]]);
    waiter.finish([], errnoError('EBADF', 'select'));
    expect((await p).map(([k]) => k.data)).toEqual(['six']);

    const q = sel.selectAsync(1000);
    poll.failNext.set('pollInto', 'EINVAL');
    waiter.finish([], errnoError('EINVAL', 'poll'));
    await expect(q).rejects.toMatchObject({ code: 'EINVAL', syscall: 'poll' });
  });

  it('close() while an aborted wait is still stopping: the AbortError at once, the waiter closed', async () => {
    make();
    sel.register(5, EVENT_READ, 'five');
    const ac = new AbortController();
    const p = sel.selectAsync(null, { signal: ac.signal });
    ac.abort();
    sel.close();
    await expect(p).rejects.toMatchObject({ code: 'ABORT_ERR' });
    expect(waiter.closed).toBe(true);
  });

  it('a waiter that cannot start rejects the wait and leaves the selector idle', async () => {
    make();
    sel.register(5, EVENT_READ, 'five');
    waiter.pending = true; // as if someone else used it
    await expect(sel.selectAsync()).rejects.toMatchObject({ code: 'ERR_BUSY' });
    waiter.pending = false;
    const p = sel.selectAsync();
    waiter.finish([[5, POLLIN]]);
    expect((await p).length).toBe(1);
  });
});
