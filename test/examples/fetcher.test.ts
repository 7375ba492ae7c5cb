/** examples/fetcher.ts: 50 concurrent GETs against a node:http server running in a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExample, waitForLine } from './run';

// The server answers /N with N bytes; it runs in its own process so that the fetcher's
// synchronous loop is the only thing in its own.
const SERVER = `
const http = require('node:http');
const server = http.createServer((req, res) => res.end('y'.repeat(Number(req.url.slice(1)) || 0)));
server.listen(0, '127.0.0.1', () => console.log('port ' + server.address().port));
`;

let server: ChildProcess;
let port = 0;

beforeAll(async () => {
  server = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'], timeout: 120_000 });
  port = Number((await waitForLine(server, /port (\d+)/))[1]);
});

afterAll(() => {
  server.kill();
});

describe('fetcher example', () => {
  it('fetches 50 URLs concurrently, each with its own body', async () => {
    const urls = Array.from({ length: 50 }, (_, i) => `http://${i % 2 ? 'localhost' : '127.0.0.1'}:${port}/${i * 100}`);
    const run = await runExample('fetcher', urls);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines.at(-1)).toMatch(/^fetched 50\/50 in [\d.]+ ms/);
    for (let i = 0; i < 50; i++) expect(lines).toContain(`200 ${i * 100} bytes ${urls[i]}`);
  });

  it('reports a refused connection and exits 1', async () => {
    // Port 1 on loopback: nothing listens there without root.
    const run = await runExample('fetcher', [`http://127.0.0.1:${port}/3`, 'http://127.0.0.1:1/']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^ERR ECONNREFUSED http:\/\/127\.0\.0\.1:1\/$/m);
    expect(run.stdout).toMatch(/fetched 1\/2/);
  });
});
