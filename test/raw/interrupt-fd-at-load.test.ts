/**
 * The env's interrupt fd (issue 12, items 3-4) is taken when iomux loads, not at the first
 * blocking wait. It used to be made lazily: a server that had used up its fds waited without it,
 * and the first blocking wait after it freed one took that fd, so the connection it meant to
 * serve met EMFILE again (found by test/socket-spare.test.ts in a process with no stray fds).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..', '..');
const lib = (name: string): string => JSON.stringify(path.join(root, 'lib', name));

const CHILD = `
  const fs = require('node:fs');
  const { pipe, close } = require(${lib('fd')});
  const { select } = require(${lib('select')});
  const { Poll } = require(${lib('poll')});
  const { constants } = require(${lib('constants')});
  const dir = fs.existsSync('/proc/self/fd') ? '/proc/self/fd' : '/dev/fd';
  const open = () => fs.readdirSync(dir).length;
  const [r, w] = pipe();
  const poll = new Poll();
  poll.register(r, constants.POLLIN);
  const before = open();
  const ready = [select([r], [], [], 20)[0].length, poll.poll(20).length];
  const after = open();
  close(r);
  close(w);
  console.log(JSON.stringify({ before, after, ready }));
`;

describe('the interrupt fd', () => {
  it('is open once iomux is loaded: the first blocking waits open no fd', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', CHILD], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    expect(run.stderr).toBe('');
    const out = JSON.parse(run.stdout) as { before: number; after: number; ready: number[] };
    expect(out.ready).toEqual([0, 0]);
    expect(out.after).toBe(out.before);
  });
});
