/**
 * A blocking wait watches the env's interrupt fd too (issue 12, items 3-4). With RLIMIT_NOFILE
 * lowered below the number of fds that adds (a soft limit of 1), ppoll(2) refuses the extra
 * pollfd with EINVAL: the wait must still work, on the caller's fds alone.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..', '..');
const lib = (name: string): string => JSON.stringify(path.join(root, 'lib', name));

const CHILD = `
  const { pipe, write, setNofileLimit } = require(${lib('fd')});
  const { Poll } = require(${lib('poll')});
  const { Epoll } = require(${lib('epoll')});
  const { constants } = require(${lib('constants')});
  const [r, w] = pipe();
  write(w, Buffer.from('x'));
  const poll = new Poll();
  poll.register(r, constants.POLLIN);
  const epoll = constants.EPOLLIN === undefined ? null : new Epoll();
  if (epoll) epoll.register(r, constants.EPOLLIN);
  const [r2] = pipe();
  const idle = new Poll();
  idle.register(r2, constants.POLLIN);
  setNofileLimit(1);
  const out = { poll: poll.poll(5000).length, idle: idle.poll(50).length };
  if (epoll) out.epoll = epoll.poll(5000).length;
  console.log(JSON.stringify(out));
`;

describe('blocking waits under a soft RLIMIT_NOFILE of 1', () => {
  it('Poll#poll and Epoll#poll report the ready fd (and time out when none is) instead of EINVAL', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', CHILD], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    expect(run.stderr).toBe('');
    const out = JSON.parse(run.stdout) as Record<string, number>;
    expect(out.poll).toBe(1);
    expect(out.idle).toBe(0);
    if (process.platform === 'linux') expect(out.epoll).toBe(1);
  });
});
