/** DefaultSelector, canUse, defaultBackend, createSelector and capabilities. */
import { afterEach, describe, expect, it } from 'vitest';
import { FD_SETSIZE } from '../../lib/constants';
import { getNofileLimit } from '../../lib/fd';
import { BaseSelector } from '../../lib/selectors/base';
import {
  availableBackends,
  canUse,
  capabilities,
  createSelector,
  defaultBackend,
  DefaultSelector,
} from '../../lib/selectors/default';
import { EpollSelector } from '../../lib/selectors/epoll';
import { PollSelector } from '../../lib/selectors/poll';
import { SelectSelector } from '../../lib/selectors/select';
import { selectorConformance } from './conformance';

const saved = process.env.IOMUX_BACKEND;
afterEach(() => {
  if (saved === undefined) delete process.env.IOMUX_BACKEND;
  else process.env.IOMUX_BACKEND = saved;
});

describe('DefaultSelector', () => {
  selectorConformance(() => new DefaultSelector());
});

describe('choosing a backend', () => {
  it('canUse knows the platform', () => {
    expect(canUse('select')).toBe(true);
    expect(canUse('poll')).toBe(true);
    expect(canUse('epoll')).toBe(process.platform === 'linux');
    expect(canUse('nope')).toBe(false);
    expect(availableBackends()).toEqual(expect.arrayContaining(['poll', 'select']));
  });

  it.runIf(process.platform === 'linux')('prefers epoll > poll > select on Linux', () => {
    delete process.env.IOMUX_BACKEND;
    expect(availableBackends().slice(0, 3)).toEqual(['epoll', 'poll', 'select']);
    expect(defaultBackend()).toBe('epoll');
    const sel = new DefaultSelector();
    expect(sel).toBeInstanceOf(EpollSelector);
    expect(sel.backend).toBe('epoll');
    sel.close();
  });

  it('IOMUX_BACKEND overrides the choice', () => {
    process.env.IOMUX_BACKEND = 'poll';
    expect(defaultBackend()).toBe('poll');
    const sel = new DefaultSelector();
    expect(sel).toBeInstanceOf(PollSelector);
    sel.close();
    process.env.IOMUX_BACKEND = 'select';
    expect(capabilities().default).toBe('select');
  });

  it('{ backend } overrides IOMUX_BACKEND', () => {
    process.env.IOMUX_BACKEND = 'poll';
    const sel = new DefaultSelector({ backend: 'select' });
    expect(sel).toBeInstanceOf(SelectSelector);
    expect(sel).toBeInstanceOf(DefaultSelector);
    expect(sel).toBeInstanceOf(BaseSelector);
    sel.close();
  });

  it('an unknown or unavailable backend is ERR_INVALID_ARG_VALUE listing those available', () => {
    const listed = new RegExp(availableBackends().join(', '));
    process.env.IOMUX_BACKEND = 'bogus';
    expect(() => defaultBackend()).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => new DefaultSelector()).toThrow(listed);
    expect(capabilities().default).toBeNull();
    delete process.env.IOMUX_BACKEND;
    // A backend this build lacks (kqueue on Linux unless built against libkqueue, epoll elsewhere).
    const missing = (['epoll', 'kqueue'] as const).find((name) => !canUse(name));
    if (missing !== undefined) {
      expect(() => new DefaultSelector({ backend: missing })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    }
    expect(() => createSelector(42 as unknown as 'poll')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => new DefaultSelector('poll' as unknown as object)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
  });

  it('createSelector makes the named backend or the default', () => {
    delete process.env.IOMUX_BACKEND;
    for (const name of availableBackends()) {
      const sel = createSelector(name);
      expect(sel.backend).toBe(name);
      sel.close();
    }
    const sel = createSelector();
    expect(sel.backend).toBe(defaultBackend());
    sel.close();
  });

  it('capabilities() describes this machine', () => {
    delete process.env.IOMUX_BACKEND;
    const caps = capabilities();
    expect(caps).toMatchObject({
      platform: process.platform,
      backends: availableBackends(),
      default: defaultBackend(),
      fdSetSize: FD_SETSIZE,
      nofile: getNofileLimit(),
    });
    expect(typeof caps.epollPwait2).toBe('boolean');
    expect(JSON.parse(JSON.stringify(caps))).toMatchObject({ platform: process.platform, fdSetSize: FD_SETSIZE });
  });
});
