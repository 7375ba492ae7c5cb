/**
 * examples/multicore-echo.ts, both modes with 2 workers: every byte comes back, and both
 * workers accepted connections (the kernel spread them), as their final reports say.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { constants } from '../../lib/constants';
import { startExample, waitForLine } from './run';

const CONNECTIONS = 64;
const ROUNDS = 20;
const SIZE = 8192;
/** Clients start this far apart, so connections arrive while the workers are busy echoing: a
 * worker busy outside epoll_wait is passed over by EPOLLEXCLUSIVE's wake-up. A burst arriving
 * at once may all wake the same idle worker, which then takes every connection. */
const STAGGER_MS = 5;

/** One client: ROUNDS messages of SIZE bytes, each sent when the last came back whole. */
function client(port: number, id: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let round = 0;
    let expected = Buffer.alloc(0);
    let got: Buffer[] = [];
    let have = 0;
    const send = (): void => {
      expected = Buffer.alloc(SIZE, (id * 31 + round) & 0xff);
      expected.writeUInt32BE(id, 0);
      got = [];
      have = 0;
      sock.write(expected);
    };
    sock.on('connect', send);
    sock.on('data', (d) => {
      got.push(d);
      have += d.length;
      if (have < SIZE) return;
      if (!Buffer.concat(got).equals(expected)) return reject(new Error(`client ${id}: round ${round} came back altered`));
      if (++round < ROUNDS) return send();
      sock.end();
      resolve(ROUNDS * SIZE);
    });
    sock.on('error', reject);
  });
}

const modes = ['reuseport', 'exclusive'] as const;
describe.each(modes)('multicore-echo --mode %s', (mode) => {
  const skip = process.platform !== 'linux' || (mode === 'exclusive' && constants.EPOLLEXCLUSIVE === undefined);
  if (skip) console.log(`skipping multicore-echo ${mode}: SO_REUSEPORT balancing and EPOLLEXCLUSIVE are Linux's`);
  it.skipIf(skip)('echoes every byte, and both workers took connections', async () => {
    const server = startExample('multicore-echo', ['--workers', '2', '--mode', mode]);
    let stdout = '';
    server.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
    try {
      const m = await waitForLine(server, /listening on 127\.0\.0\.1:(\d+) \(2 workers/);
      const port = Number(m[1]);
      const started = Array.from({ length: CONNECTIONS }, async (_, i) => {
        await new Promise((resolve) => setTimeout(resolve, i * STAGGER_MS));
        return client(port, i);
      });
      const sent = await Promise.all(started);
      server.kill('SIGTERM');
      expect(await exited).toBe(0);
      const reports = [...stdout.matchAll(/worker (\d): accepted (\d+) echoed (\d+)/g)].map((r) => ({
        accepted: Number(r[2]),
        echoed: Number(r[3]),
      }));
      expect(reports).toHaveLength(2);
      console.log(`${mode}: accepted ${reports.map((r) => r.accepted).join(' + ')}`);
      expect(reports[0].accepted + reports[1].accepted).toBe(CONNECTIONS);
      expect(reports[0].echoed + reports[1].echoed).toBe(sent.reduce((a, b) => a + b, 0));
      expect(reports[0].accepted).toBeGreaterThan(0);
      expect(reports[1].accepted).toBeGreaterThan(0);
    } finally {
      server.kill('SIGKILL');
    }
  }, 60_000);
});
