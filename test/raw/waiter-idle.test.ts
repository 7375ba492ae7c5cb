// Issue 12, "Also": Poll/select selectors dropped without close() kept a waiter thread and an
// eventfd each until GC (10,000 in a loop peaked at 2,389 threads). The thread and its wake-up
// fd now live only while a wait is pending (or until the callback that settled it returns).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');

const fixture = path.join(__dirname, 'fixtures', 'dropped-selectors.ts');

describe('selectors dropped without close()', () => {
  it('10,000 Poll/Select selectors, one in ten after a selectAsync: no thread or fd kept', () => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', fixture], {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect({ status: child.status, stderr: child.stderr }).toEqual({ status: 0, stderr: '' });
    const out = JSON.parse(child.stdout);
    expect(out.ready).toBe(1000);
    expect(out.peakExtra).toBeLessThan(8);
    // Node itself opens or closes an fd or two meanwhile; 38 were left before the fix.
    expect(out.extraFds).toBeLessThanOrEqual(2);
  }, 120_000);
});
