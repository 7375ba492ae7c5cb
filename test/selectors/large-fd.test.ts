/**
 * register() of a huge fd number (issue 12, item 2): the fd-indexed tables once grew one slot
 * per number up to the fd, so `register(2 ** 27)` ended the process in V8's "invalid size"
 * abort. Each case runs in a child process, so that a crash fails the test instead of the run.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { canUse } from '../../lib/selectors/default';

const root = path.join(__dirname, '..', '..');

const MODULES: Record<string, [file: string, cls: string, options: string]> = {
  select: ['select', 'SelectSelector', ''],
  'select (allowLargeFds)': ['select', 'SelectSelector', '{ allowLargeFds: true }'],
  poll: ['poll', 'PollSelector', ''],
  epoll: ['epoll', 'EpollSelector', ''],
  kqueue: ['kqueue', 'KqueueSelector', ''],
  io_uring: ['io-uring', 'IoUringSelector', ''],
};

/**
 * Runs a script in a child (through tsx) with `Sel` bound to the backend's class and `make()`
 * to a new selector; it prints one JSON line.
 */
function runChild(backend: string, body: string): { status: number | null; signal: string | null; out: unknown; stderr: string } {
  const [file, cls, options] = MODULES[backend];
  const script = `
    const { ${cls}: Sel } = require(${JSON.stringify(path.join(root, 'lib', 'selectors', file))});
    const fdlib = require(${JSON.stringify(path.join(root, 'lib', 'fd'))});
    const make = () => new Sel(${options});
    const attempt = (fn) => { try { return { ok: fn() }; } catch (e) { return { code: e.code, syscall: e.syscall }; } };
    ${body}`;
  const res = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  let out: unknown;
  try {
    out = JSON.parse(res.stdout.trim().split('\n').pop() ?? '');
  } catch {
    out = res.stdout;
  }
  return { status: res.status, signal: res.signal, out, stderr: res.stderr.slice(0, 500) };
}

const backends = ['select', 'select (allowLargeFds)', 'poll', 'epoll', 'kqueue', 'io_uring'].filter((b) => canUse(b.split(' ')[0]));

describe.each(backends)('%s selector: register() of a huge fd number', (backend) => {
  const refusal = backend === 'select' ? 'ERR_FD_SETSIZE' : 'EBADF';

  it(`fails at once with ${refusal}, keeps nothing, and the selector stays usable`, () => {
    const res = runChild(
      backend,
      `
      const sel = make();
      const out = [];
      for (const fd of [2 ** 27, 2 ** 31 - 1, 1e8]) {
        const t0 = performance.now();
        const r = attempt(() => sel.register(fd, 1));
        out.push({ fd, ...r, ms: performance.now() - t0, size: sel.getMap().size });
      }
      const [a, b] = fdlib.pipe({ nonblocking: true });
      fdlib.write(b, Buffer.from('x'));
      sel.register(a, 1, 'pipe');
      const ready = sel.select(0).map(([k]) => k.data);
      sel.close();
      console.log(JSON.stringify({ out, ready, rss: process.memoryUsage().rss }));`,
    );
    expect({ status: res.status, signal: res.signal, stderr: res.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
    const { out, ready, rss } = res.out as { out: Array<{ fd: number; code?: string; ms: number; size: number }>; ready: string[]; rss: number };
    for (const r of out) {
      expect(r.code, `fd ${r.fd}`).toBe(refusal);
      expect(r.size).toBe(0);
      // "At once": the old code took 2 s for 1e8. 250 ms leaves room for a loaded machine.
      expect(r.ms).toBeLessThan(250);
    }
    expect(ready).toEqual(['pipe']);
    expect(rss).toBeLessThan(512 * 2 ** 20);
  });

  // Plain select refuses every fd >= FD_SETSIZE (above): it has no sparse case.
  if (backend === 'select') return;
  it('an open fd past the fd limit is kept in a sparse table and works', () => {
    // The limit is lowered after an fd above it was made: the only way an open fd lies past it.
    const res = runChild(
      backend,
      `
      const [a, b] = fdlib.pipe({ nonblocking: true });
      const high = fdlib.dup2(a, 15000);
      fdlib.setNofileLimit(2000);
      const sel = make();
      sel.register(high, 1, 'high');
      sel.register(b, 2, 'low');
      fdlib.write(b, Buffer.from('x'));
      const ready = sel.select(0).map(([k, ev]) => [k.data, ev]).sort();
      const keys = [...sel.getMap().keys()];
      sel.unregister(high);
      const after = [...sel.getMap().keys()];
      sel.close();
      console.log(JSON.stringify({ ready, keys, after, high, b }));`,
    );
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: '' });
    const { ready, keys, after, high, b } = res.out as { ready: unknown; keys: number[]; after: number[]; high: number; b: number };
    expect(ready).toEqual([['high', 1], ['low', 2]]);
    expect(keys).toEqual([b, high]);
    expect(after).toEqual([b]);
  });
});
