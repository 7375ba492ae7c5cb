/**
 * The benchmark's workload must be what the report says it is: N loopback sockets held here at
 * one fd each in one block, their client ends in a child process, only the K highest readable,
 * and nothing left behind (no child, no fd) after close().
 */
import { readFileSync, readlinkSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createFixture, maxSockets, openFds, raiseNofile } from '../../bench/fixtures';

/** The remote (client-end) IPv4 addresses of this process's TCP sockets on the given fds. */
function peerAddresses(fds: readonly number[]): string[] {
  const byInode = new Map<string, string>();
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 10) continue;
    const hex = cols[2].split(':')[0];
    const ip = [3, 2, 1, 0].map((i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16)).join('.');
    byInode.set(cols[9], ip);
  }
  return fds.map((fd) => byInode.get(readlinkSync(`/proc/self/fd/${fd}`).slice(8, -1)) ?? '?');
}

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

/** Socket fds open in another process. */
function socketsOf(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).filter((f) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${f}`).startsWith('socket:');
    } catch {
      return false;
    }
  }).length;
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
        expect(fx.holderPids).toHaveLength(1);
        expect(socketsOf(fx.holderPids[0])).toBeGreaterThanOrEqual(60);
      }
      await fx.activate(5);
      expect(fx.activeCount).toBe(5);
      expect(fx.readyNow()).toEqual(fx.fds.slice(55));
      await expect(fx.activate(2)).rejects.toThrow(RangeError);
    } finally {
      await fx.close();
    }
    expect(await waitGone(fx.holderPids[0])).toBe(true);
    expect(new Set(openFds())).toEqual(before);
    await fx.close(); // idempotent
  });

  // The spread that lets N go past one holder's fd limit and one address's ephemeral ports,
  // forced small: 19,000 sockets need 5 holders of 4000 and 7 source addresses of 3000.
  it.runIf(linux && maxSockets().max >= 19_000)(
    'spreads N=19,000 over 5 holders and 7 source addresses: every socket idle, one fd each, holders gone after',
    async () => {
      const before = new Set(openFds());
      const fx = await createFixture(19_000, 0, { holderFds: 4000, portsPerAddress: 3000 });
      let pids: readonly number[] = [];
      try {
        pids = fx.holderPids;
        expect(pids).toHaveLength(5);
        expect(fx.groups).toBe(7);
        expect(fx.fds).toHaveLength(19_000);
        expect(fx.readyNow()).toEqual([]); // every socket idle
        const inodes = fx.fds.map((fd) => readlinkSync(`/proc/self/fd/${fd}`));
        expect(new Set(inodes).size).toBe(19_000); // one fd per socket, no duplicates
        const tcp = tcpInodes();
        expect(inodes.every((l) => tcp.has(l.slice(8, -1)))).toBe(true);
        const held = pids.map(socketsOf);
        expect(held.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(19_000);
        for (const n of held) expect(n).toBeLessThanOrEqual(4000 + 10);
        // The peers' source addresses: 127.0.0.1 .. 127.0.0.7.
        const sources = new Set(peerAddresses(fx.fds.slice(0, 19_000)));
        expect([...sources].sort()).toEqual(['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7']);
        await fx.activate(3);
        expect(fx.readyNow()).toEqual(fx.fds.slice(-3));
      } finally {
        await fx.close();
      }
      for (const pid of pids) expect(await waitGone(pid)).toBe(true);
      // No socket or pipe of the fixture is left (the test runner may open files of its own meanwhile).
      const left = openFds()
        .filter((fd) => !before.has(fd))
        .map((fd) => `${fd} ${readlinkSync(`/proc/self/fd/${fd}`)}`)
        .filter((l) => /socket:|pipe:/.test(l));
      expect(left).toEqual([]);
    },
    240_000,
  );

  it.runIf(linux && maxSockets().max >= 19_000)(
    'runs the bench at N=19,000 with the spread forced (--holder-fds 4000 --ports-per-address 3000)',
    async () => {
      const { mkdtempSync, rmSync } = await import('node:fs');
      const { tmpdir } = await import('node:os');
      const path = await import('node:path');
      const { runBench } = await import('../../bench/index');
      const dir = mkdtempSync(path.join(tmpdir(), 'iomux-spread-'));
      try {
        const file = path.join(dir, 'r.json');
        const argv = ['--sizes', '19000', '--scenarios', 'idle-scaling', '--backends', 'epoll', '--api', 'pollInto', '--no-peers',
          '--time', '20', '--rounds', '1', '--holder-fds', '4000', '--ports-per-address', '3000', '--json', file];
        expect(await runBench(argv)).toBe(0);
        const doc = JSON.parse(readFileSync(file, 'utf8'));
        expect(doc.info.spreads['19001']).toMatchObject({ holders: 5, addresses: 7 });
        expect(doc.cells.filter((c: { n: number }) => c.n === 19000).length).toBeGreaterThan(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    240_000,
  );

  it('refuses more sockets than RLIMIT_NOFILE allows, leaving nothing behind', async () => {
    const before = openFds();
    const { max } = maxSockets();
    await expect(createFixture(max + 2, 1)).rejects.toThrow(/do not fit/);
    expect(openFds()).toEqual(before);
  });
});
