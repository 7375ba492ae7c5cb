/**
 * The one command-line parser of iomux's programs (`iomux`, `iomux probe`, `iomux bench`, the
 * async bench): node:util parseArgs in strict mode, plus what every command shares: `--help`,
 * `--version`, and one short line for a flag it does not know.
 */
/// <reference types="node" preserve="true" />
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** The options of one command, in node:util parseArgs's shape. */
export type CommandOptions = NonNullable<ParseArgsConfig['options']>;

/** What a command declares: its name in messages, its help text and its options. */
export interface CommandSpec<O extends CommandOptions> {
  /** As the user types it, for messages: `'iomux probe'`. */
  name: string;
  /** The text `--help` prints (a trailing newline is added when missing). */
  usage: string;
  /** The command's own options; `help` (`-h`) and `version` are added. */
  options: O;
  /** Whether arguments that are not options are allowed (default false: they are refused). */
  allowPositionals?: boolean;
}

const COMMON = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

type Parsed<O extends CommandOptions> = ReturnType<
  typeof parseArgs<{ options: O & typeof COMMON; allowPositionals: true; strict: true }>
>;

/** A parsed command line: the option values and the positionals. */
export interface ParsedCommand<O extends CommandOptions> {
  values: Parsed<O>['values'];
  positionals: string[];
}

/** Where the program's text goes; tests pass their own. */
export interface CommandOutput {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processOutput: CommandOutput = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** The version in iomux's package.json (found from this file, in lib/ as in dist/lib/). */
export function packageVersion(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'iomux' && typeof pkg.version === 'string') return pkg.version;
    }
    if (path.dirname(dir) === dir) throw new Error('iomux: package.json not found above ' + __dirname);
  }
}

/** parseArgs's own messages run to several sentences; the user gets the first, as one line. */
function oneLine(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const option = /'([^']+)'/.exec(message);
    return `unknown option ${option ? option[1] : message}`;
  }
  return message.split(/\.\s/)[0].replace(/\.$/, '');
}

/**
 * Parses argv for one command.
 * @param spec The command: name, usage text, options.
 * @param argv The arguments after the command's name.
 * @param out Where `--help`, `--version` and errors are written (process.stdout/stderr by default).
 * @returns The values and positionals; or, when the command line was handled here, the exit
 *   code to return: 0 after `--help` or `--version`, 2 after an unknown option, a missing
 *   value or an unexpected argument (one line on stderr naming it and `--help`).
 */
export function parseCommand<O extends CommandOptions>(
  spec: CommandSpec<O>,
  argv: readonly string[],
  out: CommandOutput = processOutput,
): ParsedCommand<O> | number {
  let parsed: ParsedCommand<O>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...spec.options, ...COMMON },
      allowPositionals: true,
      strict: true,
    }) as ParsedCommand<O>;
  } catch (err) {
    out.stderr(`${spec.name}: ${oneLine(err)} (see ${spec.name} --help)\n`);
    return 2;
  }
  const common = parsed.values as { help?: boolean; version?: boolean };
  if (common.help === true) {
    out.stdout(spec.usage.endsWith('\n') ? spec.usage : `${spec.usage}\n`);
    return 0;
  }
  if (common.version === true) {
    out.stdout(`${packageVersion()}\n`);
    return 0;
  }
  if (spec.allowPositionals !== true && parsed.positionals.length > 0) {
    out.stderr(`${spec.name}: unexpected argument ${parsed.positionals[0]} (see ${spec.name} --help)\n`);
    return 2;
  }
  return parsed;
}
