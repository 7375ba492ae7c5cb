/** Selector bookkeeping against fake native objects: no kernel is involved. */
import { describe, expect, it } from 'vitest';
import { constants, EVENT_READ, EVENT_WRITE, FD_SETSIZE } from '../../lib/constants';
import type { BaseSelector } from '../../lib/selectors/base';
import { EpollSelector } from '../../lib/selectors/epoll';
import { PollSelector } from '../../lib/selectors/poll';
import { SelectSelector } from '../../lib/selectors/select';
import { withSeams } from '../../lib/selectors/seams';
import { FakeEpoll, FakePoll, FakeSelect } from './fake-native';

const RW = EVENT_READ | EVENT_WRITE;
const EPOLLIN = constants.EPOLLIN ?? 0x001;
const EPOLLOUT = constants.EPOLLOUT ?? 0x004;

function epoll(): { sel: EpollSelector<string>; fake: FakeEpoll } {
  const fake = new FakeEpoll();
  return { sel: withSeams({ kernel: () => fake }, () => new EpollSelector<string>()), fake };
}

function poll(): { sel: PollSelector<string>; fake: FakePoll } {
  const fake = new FakePoll();
  return { sel: withSeams({ kernel: () => fake }, () => new PollSelector<string>()), fake };
}

function selectSel(options?: { allowLargeFds?: boolean }): { sel: SelectSelector<string>; fake: FakeSelect } {
  const fake = new FakeSelect();
  return { sel: withSeams({ select: fake.select }, () => new SelectSelector<string>(options)), fake };
}

const makers: Array<[string, () => BaseSelector<string>]> = [
  ['epoll', () => epoll().sel],
  ['poll', () => poll().sel],
  ['select', () => selectSel().sel],
];

describe.each(makers)('bookkeeping shared by every backend (%s, fake native)', (_name, make) => {
  it('register returns a frozen key and getKey/getMap find it', () => {
    const sel = make();
    const file = { fileno: () => 7 };
    const key = sel.register(file, EVENT_READ, 'a');
    expect(key).toEqual({ fileobj: file, fd: 7, events: EVENT_READ, data: 'a' });
    expect(Object.isFrozen(key)).toBe(true);
    expect(sel.getKey(file)).toBe(key);
    expect(sel.getKey(7)).toBe(key);
    const map = sel.getMap();
    expect(map.size).toBe(1);
    expect(map.get(7)).toBe(key);
    expect([...map.keys()]).toEqual([7]);
    expect('set' in map || 'delete' in map || 'clear' in map).toBe(false);
    sel.register(8, EVENT_WRITE);
    expect(map.size).toBe(2); // a live view
  });

  it('refuses a second registration of one fd, also through another object', () => {
    const sel = make();
    sel.register({ fd: 5 }, EVENT_READ);
    expect(() => sel.register(5, EVENT_WRITE)).toThrow(expect.objectContaining({ code: 'ERR_ALREADY_REGISTERED' }));
    expect(() => sel.register({ fileno: () => 5 }, EVENT_READ)).toThrow(/fd 5 is already registered/);
    expect(sel.getMap().size).toBe(1);
  });

  it('checks events and file-likes', () => {
    const sel = make();
    for (const bad of [0, 4, -1, 1.5, RW | 8, NaN]) {
      expect(() => sel.register(3, bad)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }));
    }
    expect(() => sel.register(3, '1' as unknown as number)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => sel.register(-1, EVENT_READ)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => sel.register('3' as unknown as number, EVENT_READ)).toThrow(TypeError);
    expect(() => sel.register({ fileno: () => 'x' } as unknown as number, EVENT_READ)).toThrow(TypeError);
    expect(() => sel.register({ fileno: () => -1 }, EVENT_READ)).toThrow(RangeError);
    expect(sel.getMap().size).toBe(0);
    sel.register(3, EVENT_READ);
    expect(() => sel.modify(3, 0)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(sel.getKey(3).events).toBe(EVENT_READ);
  });

  it('unknown files give ERR_NOT_REGISTERED', () => {
    const sel = make();
    for (const call of [() => sel.unregister(9), () => sel.modify(9, EVENT_READ), () => sel.getKey(9)]) {
      expect(call).toThrow(expect.objectContaining({ code: 'ERR_NOT_REGISTERED', message: 'fd 9 is not registered' }));
    }
  });

  it('finds a closed file by identity even when fileno() now fails', () => {
    const sel = make();
    let fd = 11;
    const sock = { fileno: () => fd };
    const key = sel.register(sock, EVENT_READ);
    fd = -1; // as a closed Python socket answers
    expect(sel.getKey(sock)).toBe(key);
    expect(sel.unregister(sock)).toBe(key);
    expect(sel.getMap().size).toBe(0);
  });

  it('finds by identity first: an old object whose fd number now names another object', () => {
    const sel = make();
    const state = { fd: 12 };
    const a = { fileno: () => state.fd };
    sel.register(a, EVENT_READ, 'a');
    state.fd = 13; // the object now reports another number: identity still wins
    expect(sel.unregister(a).data).toBe('a');
  });

  it('modify keeps the fileobj, replaces events and data, and keys stay frozen', () => {
    const sel = make();
    const file = { fd: 4 };
    const k1 = sel.register(file, EVENT_READ, 'x');
    const k2 = sel.modify(4, EVENT_WRITE, 'y');
    expect(k2).toEqual({ fileobj: file, fd: 4, events: EVENT_WRITE, data: 'y' });
    expect(k1.events).toBe(EVENT_READ);
    expect(sel.getKey(file)).toBe(k2);
    expect(sel.modify(file, EVENT_WRITE, 'y')).toBe(k2); // nothing changed: same key
    expect(sel.modify(file, EVENT_WRITE).data).toBeUndefined(); // as CPython: data=None
  });

  it('close is idempotent and everything after it is ERR_CLOSED', () => {
    const sel = make();
    sel.register(3, EVENT_READ);
    const map = sel.getMap();
    sel.close();
    sel.close();
    expect(map.size).toBe(0);
    expect(sel.getMap().size).toBe(0);
    expect(sel.fileno()).toBe(-1);
    expect(sel.closed).toBe(true);
    const calls = [
      () => sel.register(4, EVENT_READ),
      () => sel.unregister(3),
      () => sel.modify(3, EVENT_WRITE),
      () => sel.getKey(3),
      () => sel.select(0),
    ];
    for (const call of calls) expect(call).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
  });

  it('Symbol.dispose closes', () => {
    const sel = make();
    {
      using s = sel;
      s.register(3, EVENT_READ);
    }
    expect(sel.closed).toBe(true);
  });

  it('checks the timeout: TypeError for a non-number, RangeError for NaN and > 2^31-1', () => {
    const sel = make();
    expect(() => sel.select('1' as unknown as number)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => sel.select(NaN)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => sel.select(2 ** 31)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });
});

describe('EpollSelector bookkeeping (fake native)', () => {
  it('a failed register leaves no key and nothing in the kernel', () => {
    const { sel, fake } = epoll();
    fake.failNext.set('register', 'EPERM');
    expect(() => sel.register(5, EVENT_READ)).toThrow(expect.objectContaining({ code: 'EPERM', syscall: 'epoll_ctl' }));
    expect(sel.getMap().size).toBe(0);
    expect(fake.table.size).toBe(0);
    expect(sel.register(5, EVENT_READ).fd).toBe(5); // and it can be registered again
  });

  it('a failed modify drops the key and the kernel registration (bpo-30014)', () => {
    const { sel, fake } = epoll();
    sel.register(5, EVENT_READ);
    fake.failNext.set('modify', 'ENOMEM');
    expect(() => sel.modify(5, EVENT_WRITE)).toThrow(expect.objectContaining({ code: 'ENOMEM' }));
    expect(sel.getMap().size).toBe(0);
    expect(fake.table.size).toBe(0);
    expect(() => sel.getKey(5)).toThrow(expect.objectContaining({ code: 'ERR_NOT_REGISTERED' }));
  });

  it('a modify of data alone makes no native call', () => {
    const { sel, fake } = epoll();
    sel.register(5, EVENT_READ, 'a');
    const before = fake.count();
    expect(sel.modify(5, EVENT_READ, 'b').data).toBe('b');
    expect(fake.count()).toBe(before);
    sel.modify(5, RW, 'b');
    expect(fake.count('modify')).toBe(1);
    expect(fake.table.get(5)?.events).toBe(EPOLLIN | EPOLLOUT);
  });

  it('unregister ignores EBADF and ENOENT (the fd was closed) but not other errors', () => {
    const { sel, fake } = epoll();
    sel.register(5, EVENT_READ, 'five');
    sel.register(6, EVENT_READ);
    sel.register(7, EVENT_READ);
    fake.failNext.set('unregister', 'EBADF');
    expect(sel.unregister(5).data).toBe('five');
    fake.failNext.set('unregister', 'ENOENT');
    expect(sel.unregister(6).fd).toBe(6);
    fake.failNext.set('unregister', 'EINVAL');
    expect(() => sel.unregister(7)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    expect(sel.getMap().size).toBe(0);
  });

  it('tags each registration and drops records of an older one', () => {
    const { sel, fake } = epoll();
    sel.register(5, EVENT_READ, 'old');
    const oldTag = fake.table.get(5)?.tag as number;
    sel.unregister(5);
    sel.register(5, EVENT_READ, 'new');
    const newTag = fake.table.get(5)?.tag as number;
    expect(newTag).not.toBe(oldTag);
    fake.waits.push([[5, EPOLLIN, oldTag]], [[5, EPOLLIN, newTag]]);
    const ready = sel.select(1000);
    expect(ready.map(([k, ev]) => [k.data, ev])).toEqual([['new', EVENT_READ]]);
    expect(fake.count('pollInto')).toBe(2);
  });

  it('dropped stale records do not shorten the wait: it goes on with the time left', () => {
    const { sel, fake } = epoll();
    sel.register(5, EVENT_READ);
    fake.waits.push([[5, EPOLLIN, 999]], [[99, EPOLLIN, 1]]);
    expect(sel.select(500)).toEqual([]);
    const waits = fake.calls.filter((c) => c.op === 'pollInto').map((c) => c.timeoutMs as number);
    expect(waits.length).toBe(3);
    expect(waits[0]).toBe(500);
    expect(waits[1]).toBeGreaterThan(0);
    expect(waits[1]).toBeLessThanOrEqual(500);
    // With timeout 0 a stale record ends the call at once.
    fake.waits.push([[5, EPOLLIN, 999]]);
    expect(sel.select(0)).toEqual([]);
    expect(fake.calls.at(-1)?.timeoutMs).toBe(0);
  });

  it('maps the timeout table onto the native convention', () => {
    const { sel, fake } = epoll();
    sel.select(0);
    sel.select(-5);
    sel.select(0.3);
    sel.select(undefined); // the fake returns at once: nothing queued means a timeout
    sel.select(null);
    expect(fake.calls.map((c) => c.timeoutMs)).toEqual([0, 0, 0.3, -1, -1]);
  });

  it('translates kernel flags like CPython, masked by the key events', () => {
    const { sel, fake } = epoll();
    sel.register(5, EVENT_READ, 'r');
    sel.register(6, RW, 'rw');
    sel.register(7, EVENT_WRITE, 'w');
    const tag = (fd: number) => fake.table.get(fd)?.tag as number;
    const { EPOLLHUP, EPOLLERR } = constants;
    fake.waits.push([
      [5, EPOLLHUP, tag(5)],
      [6, EPOLLIN | EPOLLOUT, tag(6)],
      [7, EPOLLERR, tag(7)],
      [42, EPOLLIN, 1],
    ]);
    const ready = sel.select(0).map(([k, ev]) => [k.data, ev]);
    expect(ready).toEqual([
      ['r', EVENT_READ],
      ['rw', RW],
      ['w', EVENT_WRITE],
    ]);
  });

  it('reuses one output buffer and grows it to hold every registration', () => {
    const { sel, fake } = epoll();
    sel.select(0);
    sel.select(0);
    const [a, b] = fake.calls.filter((c) => c.op === 'pollInto').map((c) => c.out as Int32Array);
    expect(a).toBe(b);
    expect(a.length % 3).toBe(0);
    for (let fd = 100; fd < 200; fd++) sel.register(fd, EVENT_READ);
    sel.select(0);
    const c = fake.calls.at(-1)?.out as Int32Array;
    expect(c.length).toBeGreaterThanOrEqual(300);
  });

  it('close releases the native object once; fileno() comes from it', () => {
    const { sel, fake } = epoll();
    expect(sel.fileno()).toBe(1000);
    sel.close();
    sel.close();
    expect(fake.count('close')).toBe(1);
    expect(sel.fileno()).toBe(-1);
  });
});

describe('PollSelector bookkeeping (fake native)', () => {
  it('registers POLLIN/POLLOUT and reports POLLNVAL to the key it belongs to', () => {
    const { sel, fake } = poll();
    sel.register(3, RW, 'x');
    expect(fake.table.get(3)).toBe(constants.POLLIN | constants.POLLOUT);
    fake.waits.push([[3, constants.POLLNVAL]]);
    expect(sel.select(0).map(([k, ev]) => [k.data, ev])).toEqual([['x', RW]]);
  });

  it('a failed modify leaves neither key nor pollfd', () => {
    const { sel, fake } = poll();
    sel.register(3, EVENT_READ);
    fake.failNext.set('modify', 'ENOMEM');
    expect(() => sel.modify(3, EVENT_WRITE)).toThrow(expect.objectContaining({ code: 'ENOMEM' }));
    expect(fake.table.size).toBe(0);
    expect(sel.getMap().size).toBe(0);
  });

  it('drops records for fds it does not hold and waits on with the time left', () => {
    const { sel, fake } = poll();
    sel.register(3, EVENT_READ);
    fake.waits.push([[4, constants.POLLIN]]);
    expect(sel.select(200)).toEqual([]);
    expect(fake.count('pollInto')).toBe(2);
  });
});

describe('SelectSelector bookkeeping (fake native)', () => {
  it('keeps its fd arrays in sync with registrations', () => {
    const { sel, fake } = selectSel();
    sel.register(3, EVENT_READ);
    sel.register(4, RW);
    sel.register(5, EVENT_WRITE);
    sel.select(0);
    expect(fake.seen[0]).toMatchObject({ fds: [3, 4, 4, 5], nr: 2, nw: 2, nx: 0, large: false });
    sel.unregister(3);
    sel.modify(5, EVENT_READ);
    sel.select(0);
    expect(fake.seen[1]).toMatchObject({ nr: 2, nw: 1 });
    expect(fake.seen[1].fds.slice(0, 2).sort()).toEqual([4, 5]);
    expect(fake.seen[1].fds[2]).toBe(4);
    expect(fake.seen[1].buffer).toBe(fake.seen[0].buffer); // one buffer, reused
  });

  it('merges read and write readiness of one fd into one entry', () => {
    const { sel, fake } = selectSel();
    sel.register(3, RW, 'both');
    sel.register(4, RW, 'write only');
    fake.ready.push({ read: [3], write: [3, 4] });
    const ready = sel.select(0).map(([k, ev]) => [k.data, ev]);
    expect(ready).toEqual([
      ['both', RW],
      ['write only', EVENT_WRITE],
    ]);
  });

  it('refuses fds >= FD_SETSIZE unless allowLargeFds, leaving nothing behind', () => {
    const { sel } = selectSel();
    expect(() => sel.register(FD_SETSIZE, EVENT_READ)).toThrow(
      expect.objectContaining({ name: 'RangeError', code: 'ERR_FD_SETSIZE' }),
    );
    expect(sel.getMap().size).toBe(0);
    sel.register(FD_SETSIZE - 1, EVENT_READ);
    const large = selectSel({ allowLargeFds: true });
    large.sel.register(FD_SETSIZE + 10, EVENT_READ);
    large.sel.select(0);
    expect(large.fake.seen[0]).toMatchObject({ fds: [FD_SETSIZE + 10], large: true });
    large.sel.unregister(FD_SETSIZE + 10);
    large.sel.register(3, EVENT_READ);
    large.sel.select(0);
    expect(large.fake.seen[1].large).toBe(false);
  });

  it('grows its buffer past its first capacity', () => {
    const { sel, fake } = selectSel();
    for (let fd = 10; fd < 110; fd++) sel.register(fd, RW);
    fake.ready.push({ read: [10, 109], write: [50] });
    const ready = sel.select(0).map(([k, ev]) => [k.fd, ev]);
    expect(ready).toEqual([
      [10, EVENT_READ],
      [109, EVENT_READ],
      [50, EVENT_WRITE],
    ]);
    expect(fake.seen[0].nr).toBe(100);
    expect(fake.seen[0].nw).toBe(100);
  });
});
