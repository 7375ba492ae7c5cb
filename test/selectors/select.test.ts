/** SelectSelector against the kernel: the shared suite, then select(2)'s own cases. */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EVENT_READ, FD_SETSIZE } from '../../lib/constants';
import { dup2, write } from '../../lib/fd';
import { canUse } from '../../lib/selectors/default';
import { SelectSelector } from '../../lib/selectors/select';
import { closeNow, testSocketPair, track } from '../helpers/fds';
import { selectorConformance } from './conformance';

/** The first fd number >= from that this process does not have open. */
function freeFdAtOrAbove(from: number): number {
  let fd = from;
  while (fs.existsSync(`/proc/self/fd/${fd}`) || fs.existsSync(`/dev/fd/${fd}`)) fd++;
  return fd;
}

describe.skipIf(!canUse('select'))('SelectSelector', () => {
  selectorConformance(() => new SelectSelector(), { scalable: () => new SelectSelector({ allowLargeFds: true }) });

  it('is the select backend with no fd of its own', () => {
    const sel = new SelectSelector();
    expect(sel.backend).toBe('select');
    expect(sel.fileno()).toBe(-1);
    sel.close();
  });

  it('refuses an fd >= FD_SETSIZE at register unless allowLargeFds', () => {
    const [a] = testSocketPair();
    const big = track(dup2(a, freeFdAtOrAbove(FD_SETSIZE)));
    const sel = new SelectSelector();
    expect(() => sel.register(big, EVENT_READ)).toThrow(expect.objectContaining({ code: 'ERR_FD_SETSIZE', name: 'RangeError' }));
    expect(sel.getMap().size).toBe(0);
    sel.close();
    const large = new SelectSelector({ allowLargeFds: true });
    large.register(big, EVENT_READ);
    expect(large.select(0)).toEqual([]);
    large.close();
  });

  it('a registered fd that was closed makes select() throw EBADF, as CPython', () => {
    const sel = new SelectSelector();
    const [a] = testSocketPair();
    sel.register(a, EVENT_READ);
    closeNow(a);
    expect(() => sel.select(0)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    sel.unregister(a);
    expect(sel.select(0)).toEqual([]);
    sel.close();
  });

  it('selectAsync with allowLargeFds: an fd above FD_SETSIZE is waited on by the thread', async () => {
    const [a, peer] = testSocketPair();
    const big = track(dup2(a, freeFdAtOrAbove(FD_SETSIZE + 100)));
    const sel = new SelectSelector({ allowLargeFds: true });
    sel.register(big, EVENT_READ, 'big');
    setTimeout(() => write(peer, new Uint8Array([1])), 20);
    expect((await sel.selectAsync(5000)).map(([k, ev]) => [k.data, ev])).toEqual([['big', EVENT_READ]]);
    sel.close();
  });

  it('checks its options', () => {
    expect(() => new SelectSelector(5 as unknown as object)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });
});
