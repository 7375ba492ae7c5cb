/**
 * bench/series-child.ts: each backend's iomux series runs in a process of its own, on the
 * fixture's fds inherited at the same numbers, and answers like the C and CPython peers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { close, pipe, write } from '../../lib/fd';
import { PeerServer, seriesChild } from '../../bench/peers/run';

const open: number[] = [];
const servers: PeerServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const fd of open.splice(0)) close(fd);
});

/** count pipes; the read ends (ascending) and the write end of the last one. */
function pipes(count: number): { fds: number[]; lastWriter: number } {
  const fds: number[] = [];
  let lastWriter = -1;
  for (let i = 0; i < count; i++) {
    const [r, w] = pipe();
    open.push(r, w);
    fds.push(r);
    lastWriter = w;
  }
  return { fds: fds.sort((a, b) => a - b), lastWriter };
}

function server(fds: number[]): PeerServer {
  const s = new PeerServer(seriesChild(), fds);
  servers.push(s);
  return s;
}

describe('bench series child', () => {
  it('times the series asked for on the inherited fds: calibrates k when asked, keeps the k it is given', async () => {
    const { fds } = pipes(8);
    // The highest fd is the one the series expects readable.
    const readable = fds[fds.length - 1];
    const writer = open[open.indexOf(readable) + 1];
    write(writer, Buffer.from('x'));
    const s = server(fds);
    for (const api of ['raw', 'pollInto', 'selectors']) {
      const [first] = await s.request(`idle-scaling:epoll:${api}`, 1, [0], 5, [0], 0.2);
      expect(first.timeoutMs).toBe(0);
      expect(first.calls).toBeGreaterThan(0);
      expect(first.samples.length).toBeGreaterThanOrEqual(3);
      expect([...first.samples].sort((a, b) => a - b)).toEqual(first.samples);
      for (const ns of first.samples) expect(ns).toBeGreaterThan(0);
      const [again] = await s.request(`idle-scaling:epoll:${api}`, 1, [0], 2, [7], 0.2);
      expect(again.calls).toBe(7);
    }
  }, 60_000);

  it('ends with exit code 2 and the reason when a call reports the wrong fds; the next request starts it again', async () => {
    const { fds } = pipes(4);
    const s = server(fds);
    // Nothing is readable, but the request says one fd is.
    await expect(s.request('idle-scaling:poll:raw', 1, [0], 2, [0], 0.2)).rejects.toThrow(/iomux peer exited with 2: 0 fds reported ready, expected 1/);
    await expect(s.request('idle-scaling:nope:raw', 1, [0], 2, [0], 0.2)).rejects.toThrow(/unknown series idle-scaling:nope:raw/);
    const [ok] = await s.request('idle-scaling:poll:raw', 0, [0], 2, [0], 0.2);
    expect(ok.samples.length).toBeGreaterThanOrEqual(3);
  }, 60_000);
});
