/** examples/http-and-raw.ts: HTTP and raw echo served at once by one process, on every backend. */
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { availableBackends } from '../../lib/selectors/default';
import { startExample, waitForLine } from './run';

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** Opens a raw client that sends `data` once connected and collects what comes back. */
function rawClient(port: number): { sock: net.Socket; echoed: (n: number) => Promise<string> } {
  const sock = net.connect(port, '127.0.0.1');
  let got = '';
  sock.on('data', (d: Buffer) => (got += d.toString()));
  const echoed = (n: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (got.length >= n) resolve(got);
        else setTimeout(check, 5);
      };
      sock.once('error', reject);
      check();
    });
  return { sock, echoed };
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)));
}

describe('http-and-raw example', () => {
  for (const backend of availableBackends()) {
    it(`serves HTTP while a raw client waits, then both, on ${backend}`, async () => {
      const child = startExample('http-and-raw', ['0', '0'], { ...process.env, IOMUX_BACKEND: backend });
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      try {
        const m = await waitForLine(child, new RegExp(`http on 127\\.0\\.0\\.1:(\\d+)\nraw on 127\\.0\\.0\\.1:(\\d+) with ${backend}`));
        const [web, raw] = [Number(m[1]), Number(m[2])];
        // A raw client is connected and idle: the selector waits, and HTTP is served meanwhile.
        const idle = rawClient(raw);
        await new Promise((resolve) => idle.sock.once('connect', resolve));
        expect((await get(web, '/nothing')).status).toBe(404);
        const client = rawClient(raw);
        client.sock.write('hello raw');
        expect(await client.echoed(9)).toBe('hello raw');
        const big = 'x'.repeat(300_000);
        idle.sock.write(big);
        expect((await idle.echoed(big.length)).length).toBe(big.length);
        const stats = JSON.parse((await get(web, '/stats')).body) as Record<string, unknown>;
        expect(stats).toMatchObject({ backend, accepted: 2, open: 2, echoedBytes: 9 + big.length });
        expect((stats.waits as { calls: number }).calls).toBeGreaterThan(0);
        client.sock.destroy();
        idle.sock.destroy();
      } finally {
        child.kill('SIGTERM');
      }
      expect(await exited(child)).toBe(0);
      expect(stderr).toBe('');
    }, 20_000);
  }
});
