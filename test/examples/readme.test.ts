/** The README's selectors echo server runs as written (through the built package, require('iomux')). */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { root, waitForLine } from './run';

function selectorsExample(): string {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('<!-- section: selectors -->'));
  const block = /```js\n([\s\S]*?)```/.exec(section);
  if (block === null) throw new Error('no js block in the selectors section');
  return block[1];
}

describe('README selectors example', () => {
  it('serves echo as written', async () => {
    // `node -e code echo.js 0` gives the script the argv of `node echo.js 0`.
    const child = spawn(process.execPath, ['-e', selectorsExample(), 'echo.js', '0'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
      // Killed by Node even if this test process dies first, so no server is left spinning.
      timeout: 60_000,
    });
    try {
      const port = Number((await waitForLine(child, /listening on 127\.0\.0\.1:(\d+) with \w+/))[1]);
      const reply = await new Promise<string>((resolve, reject) => {
        const sock = net.connect(port, '127.0.0.1', () => sock.write('ping'));
        sock.on('data', (d) => {
          sock.end();
          resolve(d.toString());
        });
        sock.on('error', reject);
      });
      expect(reply).toBe('ping');
    } finally {
      child.kill();
    }
  });
});
