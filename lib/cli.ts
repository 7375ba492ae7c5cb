#!/usr/bin/env node
/**
 * The `iomux` command: `iomux probe [--json]` prints capabilities(); `iomux bench ...` runs the
 * benchmark in bench/ (its own options). This file only dispatches; lib/cli-args.ts parses.
 */
import path from 'node:path';
import { parseCommand, runMain } from './cli-args';
import { capabilities, type Capabilities } from './selectors/default';

const USAGE = `Usage: iomux <command> [options]

Commands:
  probe [--json]   what this machine offers: backends, the default, FD_SETSIZE, RLIMIT_NOFILE, ...
  bench [options]  the scaling benchmark (iomux bench --help)

Options:
  -h, --help       this text (iomux <command> --help for a command's own)
  -v, --version    the version of iomux
`;

const PROBE_USAGE = `Usage: iomux probe [--json]

What this machine offers: backends, the default one, FD_SETSIZE, RLIMIT_NOFILE, epoll_pwait2, ...

Options:
  --json           print JSON.stringify(capabilities()) instead of a table
  -h, --help       this text
  -v, --version    the version of iomux
`;

function show(value: unknown): string {
  if (Array.isArray(value)) return value.join(', ');
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number' && !Number.isFinite(value)) return 'unlimited';
  if (value !== null && typeof value === 'object') {
    return Object.entries(value)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => `${k} ${show(v)}`)
      .join(', ');
  }
  return String(value);
}

/** The capabilities as an aligned two-column table. */
export function probeTable(caps: Capabilities): string {
  const rows = Object.entries(caps);
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, value]) => `${name.padEnd(width)}  ${show(value)}`).join('\n');
}

function probe(args: string[]): number {
  const parsed = parseCommand({ name: 'iomux probe', usage: PROBE_USAGE, options: { json: { type: 'boolean' } } }, args);
  if (typeof parsed === 'number') return parsed;
  const caps = capabilities();
  process.stdout.write(`${parsed.values.json === true ? JSON.stringify(caps) : probeTable(caps)}\n`);
  return 0;
}

async function bench(args: string[]): Promise<number> {
  // Resolved at run time: bench/ sits next to lib/ both in the sources (tsx) and in dist/.
  const modulePath = path.join(__dirname, '..', 'bench', 'index');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod: unknown = require(modulePath);
  const main = (mod as { main?: unknown }).main;
  if (typeof main !== 'function') throw new Error(`iomux bench: ${modulePath} does not export main(argv)`);
  const code: unknown = await (main as (argv: string[]) => unknown)(args);
  return typeof code === 'number' ? code : 0;
}

/**
 * Runs the command line.
 * @param argv The arguments after the program name.
 * @returns The exit code.
 */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    process.stderr.write(USAGE);
    return 2;
  }
  if (command.startsWith('-')) {
    // Options before any command: --help, --version, or one line naming what is not known.
    const parsed = parseCommand({ name: 'iomux', usage: USAGE, options: {} }, argv);
    return typeof parsed === 'number' ? parsed : 0;
  }
  switch (command) {
    case 'probe':
      return probe(rest);
    case 'bench':
      return bench(rest);
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`iomux: unknown command ${command} (see iomux --help)\n`);
      return 2;
  }
}

if (require.main === module) runMain('iomux', main);
