/** Random native calls with bad arguments must never crash the process (a security bug). */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..');
const script = path.join(__dirname, 'fuzz', 'native-fuzz.cjs');

describe('native fuzz', () => {
  it.each([1, 2, 3, 4])('seed %i: 4000 random calls, no crash', (seed) => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'iomux-fuzz-'));
    try {
      const res = spawnSync(process.execPath, [script, root, String(seed), '4000'], {
        cwd,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(res.signal, res.stderr).toBeNull();
      expect(res.status, res.stderr).toBe(0);
      expect(res.stdout).toMatch(/^fuzz ok: seed \d+, \d+ calls returned, \d+ threw/);
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });
});
