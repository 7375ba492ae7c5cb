/**
 * SpareFd (issue 12, item 7): at EMFILE, accept() leaves the connection queued and the listener
 * readable, so a select loop spins. spare.accept() accepts and closes the waiting connections
 * instead: the client reads EOF, the loop waits, and it serves again once fds are free.
 * The server runs in a child process whose fds are used up; this process is the client.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitForLine } from './examples/run';

const root = path.join(__dirname, '..');
// The server listens on an address of its own: on Linux all of 127/8 is loopback, so a connect
// from a test running beside this one (to a port it just closed) cannot land here and be counted.
const HOST = process.platform === 'linux' ? `127.${1 + Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 256)}.${1 + Math.floor(Math.random() * 250)}` : '127.0.0.1';
const lib = (name: string): string => JSON.stringify(path.join(root, 'lib', name));

const SERVER = `
  const fs = require('node:fs');
  const { close, setNofileLimit, write } = require(${lib('fd')});
  const { listen, localAddress, SpareFd } = require(${lib('socket')});
  const { DefaultSelector } = require(${lib('selectors/default')});
  const server = listen({ host: process.env.HOST, port: 0 });
  const spare = new SpareFd();
  const sel = new DefaultSelector();
  sel.register(server, 1);
  // Use up every fd: the soft limit a few above the highest fd, the gaps below and those few
  // filled, so that closing the filler frees several fds however few gaps this process has.
  const dir = fs.existsSync('/proc/self/fd') ? '/proc/self/fd' : '/dev/fd';
  setNofileLimit(Math.max(...fs.readdirSync(dir).map(Number)) + 8);
  const filler = [];
  for (;;) {
    try { filler.push(fs.openSync('/dev/null', 'r')); } catch (e) { if (e.code !== 'EMFILE') throw e; break; }
  }
  console.log('port ' + localAddress(server).port);
  let turns = 0, nulls = 0;
  while (spare.dropped < 3) {
    if (sel.select(10_000).length === 0) throw new Error('no connection came');
    turns++;
    if (spare.accept(server) === null) nulls++;
  }
  console.log(JSON.stringify({ turns, nulls, dropped: spare.dropped, held: spare.held }));
  for (const fd of filler) close(fd);
  if (sel.select(10_000).length === 0) throw new Error('no fourth connection');
  const conn = spare.accept(server);
  write(conn.fd, Buffer.from('served'));
  close(conn.fd);
  // Without the spare, EMFILE comes back as accept() gives it.
  spare.close();
  spare.close();
  setNofileLimit(0);
  console.log('closed ' + spare.held);
  if (sel.select(10_000).length === 0) throw new Error('no fifth connection');
  try { spare.accept(server); console.log('accepted?'); } catch (e) { console.log('after close: ' + e.code + ' ' + e.syscall); }
`;

/** Connects and collects what the server sends until it closes; how it closed too. */
function client(port: number): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const sock = net.connect(port, HOST);
    const timer = setTimeout(() => {
      sock.destroy();
      resolve('hung');
    }, 10_000);
    sock.on('data', (d) => (got += d.toString()));
    sock.on('end', () => {
      clearTimeout(timer);
      sock.end();
      resolve(`${got}EOF`);
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(`${got}${err.code ?? 'error'}`);
    });
  });
}

describe('SpareFd', () => {
  it('at EMFILE drops waiting connections without spinning, then serves again; closed, it lets EMFILE through', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', SERVER], {
      cwd: root,
      env: { ...process.env, HOST },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      const port = Number((await waitForLine(child, /port (\d+)/))[1]);
      const report = waitForLine(child, /(\{.*\})/);
      const dropped = await Promise.all([client(port), client(port), client(port)]);
      for (const how of dropped) expect(['EOF', 'ECONNRESET']).toContain(how);
      const stats = JSON.parse((await report)[1]) as { turns: number; nulls: number; dropped: number; held: boolean };
      // One wait per batch of dropped connections (1 to 3 batches), never a spin.
      expect(stats.dropped).toBe(3);
      expect(stats.turns).toBeLessThanOrEqual(3);
      expect(stats.nulls).toBe(stats.turns);
      expect(stats.held).toBe(true);
      const closed = waitForLine(child, /closed (\w+)/);
      closed.catch(() => undefined); // awaited below; a child that died is reported by the next line
      const served = await client(port);
      if (served !== 'servedEOF') await new Promise((resolve) => setTimeout(resolve, 500)); // let its stderr arrive
      expect(served, `server stdout: ${stdout}\nserver stderr: ${stderr}`).toBe('servedEOF');
      expect((await closed)[1]).toBe('false');
      const after = waitForLine(child, /after close: (.*)/);
      void client(port);
      expect((await after)[1]).toMatch(/^EMFILE accept4?$/);
    } finally {
      child.kill('SIGKILL');
    }
    expect(stderr).toBe('');
  }, 60_000);
});
