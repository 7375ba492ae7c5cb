// Issue 12, items 3 and 4: what ends a blocking synchronous wait besides its fds and timeout.
//  3. worker.terminate() settles within 100 ms, and process.exit() in the main thread exits,
//     while a worker is blocked in any sync wait without a timeout (it used to hang forever).
//  4. A signal that JS listens for (process.on('SIGINT')) ends a sync wait with EINTR
//     (err.signal 'SIGINT') so that the handler runs; signals nobody listens for (SIGCHLD,
//     handled by libuv alone) keep PEP 475: no early return (it used to never return at all).
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KINDS } from './fixtures/blocking-wait';
import { native } from '../../lib/binding';
import { canUse } from '../../lib/selectors/default';

const root = path.resolve(__dirname, '../..');
const fixtures = path.join(__dirname, 'fixtures');
const ioUring = canUse('io_uring');
if (!ioUring) console.log('sync-interrupt: io_uring kinds skipped (io_uring is not available here)');
const kinds = KINDS.filter((k) => (native.has.epoll || !k.startsWith('Epoll')) && (ioUring || !k.startsWith('IoUring')));

function runTs(script: string, args: string[], timeout: number): ReturnType<typeof spawnSync> {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(fixtures, script), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout,
  });
}

describe('a worker blocked in a sync wait without a timeout', () => {
  it.each(kinds)('%s: worker.terminate() settles within 100 ms', (kind) => {
    const child = runTs('blocked-worker.ts', [kind, 'terminate'], 20_000);
    expect({ status: child.status, signal: child.signal, stderr: child.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
    const { terminateMs } = JSON.parse(String(child.stdout));
    expect(terminateMs).toBeLessThan(100);
  });

  it.each(kinds)('%s: process.exit() in the main thread exits', (kind) => {
    const child = runTs('blocked-worker.ts', [kind, 'exit'], 20_000);
    expect({ status: child.status, signal: child.signal, stderr: child.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
  });
});

/** Runs signal-wait.ts in listen mode, sends SIGINT once it is blocked, returns its events. */
async function interrupted(kind: string): Promise<Array<Record<string, unknown>>> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(fixtures, 'signal-wait.ts'), kind, 'listen'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 15_000,
  });
  const events: Array<Record<string, unknown>> = [];
  let buf = '';
  let sentAt = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const ev = JSON.parse(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      events.push(ev);
      if (ev.ready) {
        // Give it time to get into the syscall, then signal it.
        setTimeout(() => {
          sentAt = performance.now();
          child.kill('SIGINT');
        }, 200);
      } else {
        ev.sinceSignalMs = performance.now() - sentAt;
      }
    }
  });
  await new Promise((resolve) => child.on('exit', resolve));
  return events;
}

describe('signals during a sync wait', () => {
  it.each(kinds)('%s: a SIGINT listener ends the wait with EINTR and its handler runs promptly', async (kind) => {
    const events = await interrupted(kind);
    expect(events[0]).toEqual({ ready: true });
    expect(events[1]).toMatchObject({ code: 'EINTR', errno: -4, signal: 'SIGINT' });
    expect(events[1].threw).toBeTypeOf('number');
    expect(events[2]).toMatchObject({ again: 'EINTR' });
    expect(events[3]).toHaveProperty('handler');
    expect(events[3].sinceSignalMs as number).toBeLessThan(1000);
  }, 20_000);

  it.each(kinds)('%s: signals nobody listens for (SIGCHLD storms) neither end nor shorten the wait', (kind) => {
    const child = runTs('signal-wait.ts', [kind, 'unlistened'], 20_000);
    expect({ status: child.status, stderr: child.stderr }).toEqual({ status: 0, stderr: '' });
    const out = JSON.parse(String(child.stdout));
    expect(out.threw).toBeUndefined();
    expect(out.returned).toBeGreaterThanOrEqual(590);
  });
});
