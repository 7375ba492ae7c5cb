// Issue 12, item 1: more than 500 Epoll objects with async waits on one shared pipe used to make
// libuv abort() (its deferred epoll_ctl ADD of the 501st epoll fd failed with EINVAL: the
// kernel's limit on wakeup paths through nested epolls). Every wait must settle, in one loop
// turn or one per turn, and the process must stay alive with its fds back to baseline.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { native } from '../../lib/binding';

const root = path.resolve(__dirname, '../..');
const fixture = path.join(__dirname, 'fixtures', 'nested-epoll-limit.ts');

function run(kind: string, start: string, n: number): { settled: number; fdsLeft: number; threads: number } {
  const child = spawnSync(process.execPath, ['--import', 'tsx', fixture, kind, start, String(n)], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect({ status: child.status, signal: child.signal, stderr: child.stderr.slice(-2000) }).toEqual({
    status: 0,
    signal: null,
    stderr: '',
  });
  return JSON.parse(child.stdout.trim());
}

describe.skipIf(!native.has.epoll)('2,000 async waits on epolls sharing one pipe (nested epoll limit)', () => {
  for (const kind of ['poll', 'selector']) {
    for (const start of ['turn', 'each']) {
      it(`${kind === 'poll' ? 'Epoll#pollAsync' : 'EpollSelector#selectAsync'}, ${start === 'turn' ? 'all in one loop turn' : 'one per turn'}`, () => {
        const out = run(kind, start, 2000);
        expect(out.settled).toBe(2000);
        expect(out.fdsLeft).toBeLessThanOrEqual(0);
        expect(out.threads).toBeLessThan(40);
      }, 120_000);
    }
  }
});
