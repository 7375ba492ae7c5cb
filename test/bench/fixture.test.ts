/**
 * The benchmark's workload must be what the report says it is: N loopback sockets held here at
 * one fd each in one block, their client ends in a child process, only the K highest readable,
 * and nothing left behind (no child, no fd) after close().
 */
import { readFileSync, readlinkSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createFixture, maxSockets, openFds, raiseNofile } from '../../bench/fixtures';

const linux = process.platform === 'linux';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Inodes of this network namespace's TCP sockets (IPv4 and IPv6). */
function tcpInodes(): Set<string> {
  const out = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 9) out.add(cols[9]);
    }
  }
  return out;
}

async function waitGone(pid: number): Promise<boolean> {
  for (let i = 0; i < 200 && alive(pid); i++) await new Promise((r) => setTimeout(r, 10));
  return !alive(pid);
}

describe('bench fixture', () => {
  it('raises the soft RLIMIT_NOFILE to the hard limit and derives max N from it', () => {
    const nofile = raiseNofile();
    expect(nofile.soft).toBe(nofile.hard);
    const { max, cappedBy } = maxSockets(nofile);
    expect(max).toBeGreaterThan(0);
    expect(max).toBeLessThan(nofile.soft);
    expect(cappedBy).toMatch(/RLIMIT_NOFILE|port range/);
  });

  it('holds N sockets at one fd each in one block, with only the highest one readable', async () => {
    const before = new Set(openFds());
    const fx = await createFixture(60, 1);
    try {
      expect(fx.fds).toHaveLength(60);
      for (let i = 1; i < fx.fds.length; i++) expect(fx.fds[i]).toBe(fx.fds[i - 1] + 1);
      expect(fx.block).toBe(`${fx.fds[0]}-${fx.fds[59]}`);
      // Placement never took over an fd that was open before (stray inherited fds stay put).
      for (const fd of fx.fds) expect(before.has(fd)).toBe(false);
      expect(fx.readyNow()).toEqual([fx.fds[59]]);
      if (linux) {
        // One fd per socket: 60 distinct socket inodes, none of them dup'ed to another fd.
        const inodes = fx.fds.map((fd) => readlinkSync(`/proc/self/fd/${fd}`));
        for (const link of inodes) expect(link).toMatch(/^socket:\[\d+\]$/);
        expect(new Set(inodes).size).toBe(60);
        // They are TCP sockets, and no other TCP socket was added here (the child's stdio
        // socketpairs are AF_UNIX).
        const tcp = tcpInodes();
        for (const link of inodes) expect(tcp.has(link.slice(8, -1))).toBe(true);
        const added = openFds().filter((fd) => !before.has(fd) && !fx.fds.includes(fd));
        for (const fd of added) {
          const link = readlinkSync(`/proc/self/fd/${fd}`);
          expect(link.startsWith('socket:') && tcp.has(link.slice(8, -1))).toBe(false);
        }
        // The client ends live in the child.
        const childSockets = readdirSync(`/proc/${fx.childPid}/fd`).filter((f) => {
          try {
            return readlinkSync(`/proc/${fx.childPid}/fd/${f}`).startsWith('socket:');
          } catch {
            return false;
          }
        });
        expect(childSockets.length).toBeGreaterThanOrEqual(60);
      }
      await fx.activate(5);
      expect(fx.activeCount).toBe(5);
      expect(fx.readyNow()).toEqual(fx.fds.slice(55));
      await expect(fx.activate(2)).rejects.toThrow(RangeError);
    } finally {
      await fx.close();
    }
    expect(await waitGone(fx.childPid)).toBe(true);
    expect(new Set(openFds())).toEqual(before);
    await fx.close(); // idempotent
  });

  it('refuses more sockets than RLIMIT_NOFILE allows, leaving nothing behind', async () => {
    const before = openFds();
    const { max } = maxSockets();
    await expect(createFixture(max + 2, 1)).rejects.toThrow(/do not fit/);
    expect(openFds()).toEqual(before);
  });
});
