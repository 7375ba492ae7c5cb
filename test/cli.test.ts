/** The `iomux` command line: probe as a table and as JSON, --help, --version, unknown options and commands. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCommand, usageError } from '../lib/cli-args';
import { capabilities } from '../lib/selectors/default';
import { captureOutput } from './helpers/output';

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

describe('iomux bench', () => {
  it('--help, --version and an unknown option go through the shared parser', () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
    const help = iomux('bench', '--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: iomux bench \[options\]\n[^]*--sizes LIST/);
    const v = iomux('bench', '--version');
    expect([v.status, v.stdout, v.stderr]).toEqual([0, `${version}\n`, '']);
    const bad = iomux('bench', '--frob');
    expect([bad.status, bad.stdout, bad.stderr]).toEqual([2, '', 'iomux bench: unknown option --frob (see iomux bench --help)\n']);
  });

  it('an error while running exits 1 with its stack on stderr', () => {
    const run = iomux('bench', '--from', path.join(root, 'no-such-run.json'));
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^iomux: Error: ENOENT: no such file or directory, open '[^']*no-such-run\.json'\n\s+at /);
  });
});

describe('parseCommand (lib/cli-args.ts)', () => {
  const spec = {
    name: 'tool',
    usage: 'Usage: tool [--size N] [--quick]',
    options: { size: { type: 'string' }, quick: { type: 'boolean' } },
  } as const;

  function parse(argv: string[]) {
    const output = captureOutput();
    const result = parseCommand(spec, argv, output);
    return { result, out: output.out, err: output.err };
  }

  it('returns the values of known options', () => {
    const { result, err } = parse(['--size', '10', '--quick']);
    expect(err).toBe('');
    expect(result).toEqual({ values: { size: '10', quick: true }, positionals: [] });
  });

  it('names a missing value in one line', () => {
    const { result, err } = parse(['--size']);
    expect(result).toBe(2);
    expect(err).toBe('tool: --size needs a value (see tool --help)\n');
    const dashed = parse(['--size', '-3']);
    expect(dashed.result).toBe(2);
    expect(dashed.err).toMatch(/^tool: --size needs a value \([^\n]*--option=-value\) \(see tool --help\)\n$/);
  });

  it('refuses a value given to a boolean flag', () => {
    const { result, err } = parse(['--quick=yes']);
    expect(result).toBe(2);
    expect(err).toBe('tool: --quick takes no value (see tool --help)\n');
  });

  it('handles -h and -v itself: usage or version on stdout, exit code 0', () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
    expect(parse(['-h'])).toEqual({ result: 0, out: 'Usage: tool [--size N] [--quick]\n', err: '' });
    expect(parse(['-v'])).toEqual({ result: 0, out: `${version}\n`, err: '' });
  });

  it('usageError names the help command a spec gives', () => {
    const output = captureOutput();
    expect(usageError({ name: 'bench:async', helpCommand: 'npm run bench:async -- --help' }, new Error('--repeat takes a positive integer'), output)).toBe(2);
    expect(output.err).toBe('bench:async: --repeat takes a positive integer (see npm run bench:async -- --help)\n');
  });
});
