/** examples/echo-server.ts: clients get their bytes back, big writes included; EOF drops a client. */
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExample, waitForLine } from './run';

let server: ChildProcess;
let port = 0;

beforeAll(async () => {
  server = startExample('echo-server', ['0']);
  const m = await waitForLine(server, /listening on 127\.0\.0\.1:(\d+)/);
  port = Number(m[1]);
});

afterAll(() => {
  server.kill();
});

/** Sends data and resolves with what came back once as many bytes have arrived. */
function echo(data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    const sock = net.connect(port, '127.0.0.1', () => sock.write(data));
    sock.on('data', (d) => {
      chunks.push(d);
      n += d.length;
      if (n >= data.length) {
        sock.end();
        resolve(Buffer.concat(chunks));
      }
    });
    sock.on('error', reject);
  });
}

describe('echo-server example', () => {
  it('echoes to several clients at once', async () => {
    const messages = Array.from({ length: 20 }, (_, i) => Buffer.from(`message ${i} `.repeat(i + 1)));
    const replies = await Promise.all(messages.map(echo));
    replies.forEach((reply, i) => expect(reply.equals(messages[i])).toBe(true));
  });

  it('echoes 4 MiB intact (writes wait for EVENT_WRITE when the socket is full)', async () => {
    const big = Buffer.alloc(4 << 20);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
    const reply = await echo(big);
    expect(reply.length).toBe(big.length);
    expect(reply.equals(big)).toBe(true);
  });

  it('keeps serving after clients disconnect', async () => {
    await new Promise<void>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.destroy());
      s.on('close', () => resolve());
    });
    expect((await echo(Buffer.from('still here'))).toString()).toBe('still here');
    expect(server.exitCode).toBeNull();
  });
});
