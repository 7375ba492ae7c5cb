/** PollSelector against the kernel: the shared suite, then poll(2)'s own cases. */
import { describe, expect, it } from 'vitest';
import { EVENT_READ, EVENT_WRITE } from '../../lib/constants';
import { canUse } from '../../lib/selectors/default';
import { PollSelector } from '../../lib/selectors/poll';
import { closeNow, testSocketPair } from '../helpers/fds';
import { selectorConformance } from './conformance';

describe.skipIf(!canUse('poll'))('PollSelector', () => {
  selectorConformance(() => new PollSelector());

  it('is the poll backend with no fd of its own', () => {
    const sel = new PollSelector();
    expect(sel.backend).toBe('poll');
    expect(sel.fileno()).toBe(-1);
    sel.close();
  });

  it('a registered fd that was closed is reported ready (POLLNVAL) to its own key', () => {
    const sel = new PollSelector();
    const [a] = testSocketPair();
    sel.register(a, EVENT_READ, 'closed');
    closeNow(a);
    expect(sel.select(0).map(([k, ev]) => [k.data, ev])).toEqual([['closed', EVENT_READ]]);
    sel.unregister(a);
    expect(sel.select(0)).toEqual([]);
    sel.close();
  });

  it('a hang-up wakes both readers and writers', () => {
    const sel = new PollSelector();
    const [a, b] = testSocketPair();
    sel.register(a, EVENT_READ | EVENT_WRITE);
    closeNow(b);
    expect(sel.select(0).map(([k, ev]) => [k.fd, ev])).toEqual([[a, EVENT_READ | EVENT_WRITE]]);
    sel.close();
  });
});
