/** IoUringSelector against the kernel: the shared suite, then io_uring's own cases. */
import { describe, expect, it } from 'vitest';
import { EVENT_READ, EVENT_WRITE } from '../../lib/constants';
import { write } from '../../lib/fd';
import { ioUringSupport } from '../../lib/io-uring-support';
import { canUse, DefaultSelector } from '../../lib/selectors/default';
import { IoUringSelector } from '../../lib/selectors/io-uring';
import { closeNow, openFdCount, testSocketPair } from '../helpers/fds';
import { selectorConformance } from './conformance';

const usable = canUse('io_uring');
if (!usable) console.log(`IoUringSelector tests skipped: ${ioUringSupport().reason ?? 'unknown reason'}`);

describe.skipIf(!usable)('IoUringSelector', () => {
  selectorConformance(() => new IoUringSelector());

  it('is the io_uring backend, chosen by name only, and owns an fd', () => {
    const before = openFdCount();
    const sel = new DefaultSelector({ backend: 'io_uring' });
    expect(sel).toBeInstanceOf(IoUringSelector);
    expect(sel.backend).toBe('io_uring');
    expect(sel.fileno()).toBeGreaterThanOrEqual(0);
    expect(openFdCount()).toBe(before + 1);
    sel.close();
    expect(sel.fileno()).toBe(-1);
    expect(openFdCount()).toBe(before);
    const dflt = new DefaultSelector();
    expect(dflt.backend).not.toBe('io_uring');
    dflt.close();
  });

  it('batches the changes of many registrations into the wait: one io_uring_enter', () => {
    const sel = new IoUringSelector();
    const pairs = Array.from({ length: 50 }, () => testSocketPair());
    for (const [a] of pairs) sel.register(a, EVENT_READ);
    sel.resetStats();
    write(pairs[7][1], Buffer.from('x'));
    expect(sel.select(1000).map(([key, ev]) => [key.fd, ev])).toEqual([[pairs[7][0], EVENT_READ]]);
    expect(sel.stats().syscalls).toBe(1);
    sel.close();
  });

  it('readiness is level-triggered: unread data is reported by every select', () => {
    const sel = new IoUringSelector();
    const [a, b] = testSocketPair();
    sel.register(a, EVENT_READ);
    write(b, Buffer.from('x'));
    for (let i = 0; i < 3; i++) expect(sel.select(1000).length).toBe(1);
    sel.close();
  });

  it('a closed, unregistered fd and its reuse: no stale readiness for the new key', () => {
    const sel = new IoUringSelector();
    const [a, b] = testSocketPair();
    sel.register(a, EVENT_READ | EVENT_WRITE, 'old');
    closeNow(a);
    sel.unregister(a);
    const [c] = testSocketPair();
    // The kernel usually hands out the lowest free number: often a again.
    sel.register(c, EVENT_READ, 'new');
    expect(sel.select(0)).toEqual([]);
    closeNow(b);
    sel.close();
  });

  it('moves to a larger ring as registrations grow, losing no readiness and no registration', async () => {
    // 256 entries at first, 1024 past 1024 registrations: the ring (and its fd) is replaced at
    // the next wait, with every registration and its data.
    const sel = new IoUringSelector<number>();
    const pairs: Array<[number, number]> = [];
    for (let i = 0; i < 1100; i++) pairs.push(testSocketPair());
    for (let i = 0; i < 1000; i++) sel.register(pairs[i][0], EVENT_READ, i);
    const first = sel.fileno();
    write(pairs[3][1], Buffer.from('x')); // ready before the growth, unreported so far
    expect(sel.select(0).map(([key]) => key.data)).toEqual([3]);
    for (let i = 1000; i < 1100; i++) sel.register(pairs[i][0], EVENT_READ, i);
    expect(sel.fileno()).toBe(first); // not before the next wait
    write(pairs[1099][1], Buffer.from('y'));
    const ready = sel.select(1000).map(([key, ev]) => [key.data, ev]);
    expect(ready.sort((x, y) => (x[0] as number) - (y[0] as number))).toEqual([[3, EVENT_READ], [1099, EVENT_READ]]);
    const second = sel.fileno();
    expect(second).not.toBe(first);
    expect(sel.getMap().size).toBe(1100);
    // Still level-triggered, and selectAsync and unregister work on the new ring.
    expect((await sel.selectAsync(1000)).map(([key]) => key.data).sort((x, y) => x - y)).toEqual([3, 1099]);
    sel.unregister(pairs[3][0]);
    sel.unregister(pairs[1099][0]);
    expect(sel.select(0)).toEqual([]);
    sel.close();
    for (const [a, b] of pairs) {
      closeNow(a);
      closeNow(b);
    }
  });
});
