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
});
