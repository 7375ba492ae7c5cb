/** The `iomux` command line: probe as a table and as JSON, --help, --version, unknown options and commands. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCommand } from '../lib/cli-args';
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

  it('refuses unknown options and commands with exit code 2 and one line naming them', () => {
    const bad = iomux('probe', '--yaml');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe('iomux probe: unknown option --yaml (see iomux probe --help)\n');
    const stray = iomux('probe', 'extra');
    expect(stray.status).toBe(2);
    expect(stray.stderr).toBe('iomux probe: unexpected argument extra (see iomux probe --help)\n');
    const unknown = iomux('frobnicate');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toBe('iomux: unknown command frobnicate (see iomux --help)\n');
    const flag = iomux('--frob');
    expect(flag.status).toBe(2);
    expect(flag.stderr).toBe('iomux: unknown option --frob (see iomux --help)\n');
  });

  it('--help prints the usage, for iomux and for each command', () => {
    const top = iomux('--help');
    expect(top.status).toBe(0);
    expect(top.stdout).toMatch(/^Usage: iomux <command>/);
    const probe = iomux('probe', '-h');
    expect(probe.status).toBe(0);
    expect(probe.stdout).toMatch(/^Usage: iomux probe \[--json\]/);
    expect(iomux().status).toBe(2);
  });

  it('--version prints the package version, before or after a command', () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
    for (const args of [['--version'], ['probe', '--version']]) {
      const run = iomux(...args);
      expect(run.status, args.join(' ')).toBe(0);
      expect(run.stdout).toBe(`${version}\n`);
      expect(run.stderr).toBe('');
    }
  });
});

describe('parseCommand (lib/cli-args.ts)', () => {
  const spec = {
    name: 'tool',
    usage: 'Usage: tool [--size N] [--quick]',
    options: { size: { type: 'string' }, quick: { type: 'boolean' } },
  } as const;

  function parse(argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const result = parseCommand(spec, argv, { stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
    return { result, out: out.join(''), err: err.join('') };
  }

  it('returns the values of known options', () => {
    const { result, err } = parse(['--size', '10', '--quick']);
    expect(err).toBe('');
    expect(result).toEqual({ values: { size: '10', quick: true }, positionals: [] });
  });

  it('names a missing value in one line', () => {
    const { result, err } = parse(['--size']);
    expect(result).toBe(2);
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err).toMatch(/^tool: .*--size.* \(see tool --help\)\n$/);
  });

  it('refuses a value given to a boolean flag', () => {
    const { result, err } = parse(['--quick=yes']);
    expect(result).toBe(2);
    expect(err).toMatch(/^tool: .*--quick.*\n$/);
  });
});
