/** The `iomux` command line: probe as a table and as JSON, usage and unknown commands. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { capabilities } from '../lib/selectors/default';

const root = path.join(__dirname, '..');

function iomux(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'lib', 'cli.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('iomux probe', () => {
  it('--json prints exactly JSON.stringify(capabilities())', () => {
    const run = iomux('probe', '--json');
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(`${JSON.stringify(capabilities())}\n`);
  });

  it('prints a table with one row per capability', () => {
    const run = iomux('probe');
    expect(run.status).toBe(0);
    const caps = capabilities();
    const rows = run.stdout.trim().split('\n');
    expect(rows.map((r) => r.split(/\s+/)[0])).toEqual(Object.keys(caps));
    expect(run.stdout).toMatch(new RegExp(`^backends\\s+${caps.backends.join(', ')}$`, 'm'));
    expect(run.stdout).toMatch(new RegExp(`^fdSetSize\\s+${caps.fdSetSize}$`, 'm'));
  });

  it('refuses unknown options and commands with exit code 2 and the usage', () => {
    const bad = iomux('probe', '--yaml');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown option --yaml/);
    const unknown = iomux('frobnicate');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/Usage: iomux/);
    expect(iomux('--help').status).toBe(0);
  });
});
