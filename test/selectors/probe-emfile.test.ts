/**
 * A backend probe that meets EMFILE (issue 12, item 5) must not be kept as "this backend does
 * not exist": the error reaches the caller, and once fds are free the next call probes again.
 * Runs in a child process, whose probe cache starts empty and whose fds can be used up.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isBsdLike } from '../../lib/selectors/registry';

const root = path.join(__dirname, '..', '..');
const own = process.platform === 'linux' ? 'epoll' : isBsdLike(process.platform) ? 'kqueue' : undefined;

describe('backend probes under fd exhaustion', () => {
  if (own === undefined) {
    it(`has nothing to check on ${process.platform} (no epoll or kqueue to probe)`, () => {
      console.log(`probe-emfile: skipped, ${process.platform} has neither epoll nor kqueue`);
    });
    return;
  }

  it(`EMFILE during the first ${own} probe propagates and is not cached`, () => {
    const script = `
      const fdlib = require(${JSON.stringify(path.join(root, 'lib', 'fd'))});
      const def = require(${JSON.stringify(path.join(root, 'lib', 'selectors', 'default'))});
      const attempt = (fn) => { try { return fn(); } catch (e) { return 'throws ' + e.code + ' ' + (e.syscall ?? ''); } };
      // Use up every fd: lower the soft limit, then open /dev/null until EMFILE.
      const fs = require('node:fs');
      fdlib.setNofileLimit(256);
      const held = [];
      for (;;) {
        try { held.push(fs.openSync('/dev/null', 'r')); } catch (e) { if (e.code !== 'EMFILE') throw e; break; }
      }
      const starved = {
        defaultSelector: attempt(() => { const s = new def.DefaultSelector(); s.close(); return s.backend; }),
        createSelector: attempt(() => createAndClose(${JSON.stringify(own)})),
        canUse: attempt(() => def.canUse(${JSON.stringify(own)})),
      };
      for (const fd of held) fdlib.close(fd);
      function createAndClose(name) { const s = def.createSelector(name); s.close(); return s.backend; }
      const freed = {
        defaultSelector: attempt(() => { const s = new def.DefaultSelector(); s.close(); return s.backend; }),
        createSelector: attempt(() => createAndClose(${JSON.stringify(own)})),
        canUse: attempt(() => def.canUse(${JSON.stringify(own)})),
      };
      console.log(JSON.stringify({ starved, freed }));`;
    const res = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(res.stderr).toBe('');
    const syscall = own === 'epoll' ? 'epoll_create1' : 'kqueue';
    const shortage = `throws EMFILE ${syscall}`;
    expect(JSON.parse(res.stdout.trim().split('\n').pop() ?? '')).toEqual({
      starved: { defaultSelector: shortage, createSelector: shortage, canUse: shortage },
      freed: { defaultSelector: own, createSelector: own, canUse: true },
    });
  });
});
