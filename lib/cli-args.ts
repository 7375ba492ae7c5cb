/**
 * The one command-line parser of iomux's programs (`iomux`, `iomux probe`, `iomux bench`, the
 * async bench): node:util parseArgs in strict mode, plus what every command shares: `-h, --help`,
 * `-v, --version`, and one short line, exit code 2, for a flag it does not know or a bad value.
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
  /** What errors tell the user to run for help (default `<name> --help`). */
  helpCommand?: string;
}

const COMMON = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
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

/** A reader that has gone (`npm run bench:async -- --help | head -1`) is no error of ours. */
function ignoreEpipe(err: NodeJS.ErrnoException): void {
  if (err.code !== 'EPIPE') throw err;
}

function write(stream: NodeJS.WriteStream, text: string): void {
  if (!stream.listeners('error').includes(ignoreEpipe)) stream.on('error', ignoreEpipe);
  stream.write(text);
}

const processOutput: CommandOutput = {
  stdout: (text) => write(process.stdout, text),
  stderr: (text) => write(process.stderr, text),
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

/** parseArgs's own messages run to several sentences; the user gets one short line. */
function oneLine(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  // The option as parseArgs quotes it: '--size', '-s, --size <value>'; the long name is the last flag.
  const quoted = /'([^']+)'/.exec(message)?.[1];
  const flag = quoted?.match(/-{1,2}[^\s,<]+/g)?.pop() ?? quoted;
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${flag ?? message}`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag !== undefined) {
    if (message.includes('does not take an argument')) return `${flag} takes no value`;
    if (message.includes('argument missing')) return `${flag} needs a value`;
    if (message.includes('ambiguous')) return `${flag} needs a value (one that starts with - is written --option=-value)`;
  }
  return message.split(/\.\s/)[0].replace(/\.$/, '');
}

/**
 * Writes the one line of a refused command line and gives its exit code; for the checks a
 * command makes on its values after parsing (`--sizes: 0 is not a positive integer`).
 * @param spec The command, for its name and where help is.
 * @param problem What is wrong: an Error's message or a string.
 * @param out Where the line goes (process.stderr by default).
 * @returns 2, the exit code of a usage error.
 */
export function usageError(
  spec: Pick<CommandSpec<CommandOptions>, 'name' | 'helpCommand'>,
  problem: unknown,
  out: CommandOutput = processOutput,
): number {
  const text = problem instanceof Error ? problem.message : String(problem);
  out.stderr(`${spec.name}: ${text} (see ${spec.helpCommand ?? `${spec.name} --help`})\n`);
  return 2;
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
    return usageError(spec, oneLine(err), out);
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
    return usageError(spec, `unexpected argument ${parsed.positionals[0]}`, out);
  }
  return parsed;
}

/**
 * Runs a program's main on the process's arguments (for `if (require.main === module)`): the
 * exit code it returns becomes the process's; an exception is printed, stack and all, and exits 1
 * at once (a benchmark may leave child processes that would keep the process alive).
 * @param name The program's name, to prefix the error.
 * @param main The program: the arguments after the script, to an exit code.
 */
export function runMain(name: string, main: (argv: string[]) => Promise<number> | number): void {
  Promise.resolve()
    .then(() => main(process.argv.slice(2)))
    .then(
      (code) => {
        process.exitCode = code;
      },
      (err: unknown) => {
        process.stderr.write(`${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        process.exit(1);
      },
    );
}
