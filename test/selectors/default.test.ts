/** DefaultSelector, canUse, defaultBackend, createSelector and capabilities. */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { native } from '../../lib/binding';
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

  it('capabilities() describes this machine, checked against sources of its own', () => {
    delete process.env.IOMUX_BACKEND;
    const caps = capabilities();
    // What each platform offers, and in which order DefaultSelector prefers it.
    const own = process.platform === 'linux' ? ['epoll'] : process.platform === 'darwin' || process.platform.endsWith('bsd') ? ['kqueue'] : [];
    const byName = [
      ...(process.platform === 'linux' && native.has.libkqueue ? ['kqueue'] : []),
      ...(canUse('io_uring') ? ['io_uring'] : []),
    ];
    expect(caps.backends).toEqual([...own, 'poll', 'select', ...byName]);
    expect(caps.default).toBe(own[0] ?? 'poll');
    expect(caps.fdSetSize).toBe(1024);
    // The limits as a shell run by this process sees them.
    const shell = spawnSync('sh', ['-c', 'ulimit -Sn; ulimit -Hn'], { encoding: 'utf8', timeout: 10_000 });
    const [soft, hard] = shell.stdout.trim().split('\n').map((v) => (v === 'unlimited' ? Infinity : Number(v)));
    expect(caps.nofile).toEqual({ soft, hard });
    expect(caps.napi).toBe(Number(process.versions.napi));
    expect(caps.node).toBe(process.versions.node);
    expect(caps.libkqueue).toBe(native.has.libkqueue);
    if (process.platform !== 'linux') expect(caps.epollPwait2).toBe(false);
    expect(JSON.parse(JSON.stringify(caps))).toMatchObject({ platform: process.platform, fdSetSize: 1024 });
  });

  it.runIf(process.platform === 'linux')('capabilities().epollPwait2 follows the kernel, and IOMUX_EPOLL_PWAIT2=0 turns it off', () => {
    const script = `console.log(JSON.stringify(require(${JSON.stringify(path.resolve(__dirname, '../../lib/selectors/default.ts'))}).capabilities().epollPwait2))`;
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
    const off = run({ IOMUX_EPOLL_PWAIT2: '0' });
    expect(off.stdout.trim()).toBe('false');
    const [major, minor] = os.release().split('.').map(Number);
    // Before 5.11 the kernel has no epoll_pwait2; after it only a sandbox could hide it.
    if (major < 5 || (major === 5 && minor < 11)) expect(capabilities().epollPwait2).toBe(false);
  });
});
