/**
 * examples/echo-server.ts out of fds (issue 12, item 7): connections past the fd limit are
 * accepted and closed at once (the client reads EOF or a reset) instead of staying queued
 * while the accept loop spins, and the server serves again once fds are free.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { root, waitForLine } from './run';

let child: ChildProcess | undefined;
afterAll(() => child?.kill('SIGKILL'));

/**
 * The server in a child whose fd limit (soft and hard) leaves it 40 free fds: the limit sits
 * just above its highest fd, and the free numbers below that (inherited fds may leave gaps)
 * are filled with /dev/null but for 40.
 */
function startStarvedServer(): ChildProcess {
  const script = `
    const fs = require('node:fs');
    const { setNofileLimit } = require(${JSON.stringify(path.join(root, 'lib', 'fd'))});
    const dir = fs.existsSync('/proc/self/fd') ? '/proc/self/fd' : '/dev/fd';
    const top = Math.max(...fs.readdirSync(dir).map(Number));
    setNofileLimit(top + 1);
    const filler = [];
    for (;;) {
      try { filler.push(fs.openSync('/dev/null', 'r')); } catch (e) { if (e.code !== 'EMFILE') throw e; break; }
    }
    setNofileLimit(top + 41, top + 41);
    require(${JSON.stringify(path.join(root, 'examples', 'echo-server.ts'))});`;
  return spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
}

type Outcome = { kind: 'served'; sock: net.Socket } | { kind: 'dropped'; how: string } | { kind: 'hung' };

/** Connects, sends 'ping', and tells whether it came back, the server closed, or nothing happened. */
function tryClient(port: number, waitMs = 5000): Promise<Outcome> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write('ping'));
    let got = '';
    const timer = setTimeout(() => {
      sock.destroy();
      resolve({ kind: 'hung' });
    }, waitMs);
    const finish = (o: Outcome): void => {
      clearTimeout(timer);
      resolve(o);
    };
    sock.on('data', (d) => {
      got += d.toString();
      if (got === 'ping') finish({ kind: 'served', sock });
    });
    sock.on('end', () => finish({ kind: 'dropped', how: 'EOF' }));
    sock.on('error', (err: NodeJS.ErrnoException) => finish({ kind: 'dropped', how: err.code ?? 'error' }));
  });
}

/** The child's user + system CPU time in clock ticks (Linux /proc), or undefined elsewhere. */
function cpuTicks(pid: number): number | undefined {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

describe('echo-server example at the fd limit', () => {
  it('drops connections past the limit at once, does not spin, and recovers', async () => {
    child = startStarvedServer();
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const port = Number((await waitForLine(child, /listening on 127\.0\.0\.1:(\d+)/))[1]);

    const held: net.Socket[] = [];
    const dropped: string[] = [];
    for (let i = 0; i < 200 && dropped.length < 5; i++) {
      const o = await tryClient(port);
      if (o.kind === 'hung') throw new Error(`client ${i} hung: the connection stayed queued (stderr: ${stderr.slice(0, 300)})`);
      if (o.kind === 'served') held.push(o.sock);
      else dropped.push(o.how);
    }
    expect(held.length).toBeGreaterThan(0);
    expect(dropped).toHaveLength(5);

    // Idle at the limit: no busy loop (the old loop logged one "accept:" line per turn).
    const before = cpuTicks(child.pid as number);
    await new Promise((r) => setTimeout(r, 500));
    const after = cpuTicks(child.pid as number);
    if (before !== undefined && after !== undefined) expect(after - before).toBeLessThan(20); // < 0.2 s of CPU at 100 Hz
    const acceptLines = stderr.split('\n').filter((l) => l.startsWith('accept:'));
    // One line per batch of dropped connections (a slow server may take two clients in one).
    expect(acceptLines.length).toBeLessThanOrEqual(5);
    const closedCounts = acceptLines.map((l) => Number(/^accept: out of fds, closed (\d+) connection\(s\)$/.exec(l)?.[1]));
    expect(closedCounts.reduce((a, b) => a + b, 0), stderr).toBe(5);

    // Free the fds: the server reads EOF from each held client and closes it, then serves again.
    for (const s of held) s.destroy();
    let served = false;
    for (let i = 0; i < 50 && !served; i++) {
      const o = await tryClient(port);
      if (o.kind === 'served') {
        served = true;
        o.sock.destroy();
      } else await new Promise((r) => setTimeout(r, 100));
    }
    expect(served).toBe(true);
    expect(child.exitCode).toBeNull();
  }, 120_000);
});
