/** The command line of `iomux bench`: its options, defaults and checks, and usage text (parsed by lib/cli-args.ts). */
import { type CommandOutput, parseCommand, type ParsedCommand, usageError } from '../lib/cli-args';
import type { Api } from './backends';
import type { PeerFamily } from './peers/run';

/** The scenarios by name, in the order they run; echo runs only when asked for. */
export const SCENARIO_NAMES = ['idle-scaling', 'activity-sweep', 'register-churn', 'echo'] as const;
const DEFAULT_SCENARIOS = ['idle-scaling', 'activity-sweep', 'register-churn'];
const APIS: readonly Api[] = ['raw', 'pollInto', 'selectors'];
const PEERS: readonly PeerFamily[] = ['c', 'c-mt', 'cpython', 'napi'];
/** Default sizes past 10,000, each run where RLIMIT_NOFILE allows it. */
const BIG_SIZES = [50_000, 100_000, 250_000, 1_000_000];

/** The command line, parsed. */
export interface BenchOptions {
  /** N values of idle scaling ('max' resolved to a number). */
  sizes: number[];
  /** K values of the activity sweep. */
  active: number[];
  /** Sockets of the activity sweep. */
  sweepN: number;
  /** Sizes at which registration churn is measured (those of `sizes` that are listed). */
  churnSizes: number[];
  backends: string[] | null;
  apis: Api[];
  peers: PeerFamily[];
  scenarios: string[];
  timeMs: number;
  rounds: number;
  /** Target length of one timed batch (k calls between two clock reads), ms. */
  batchMs: number;
  quick: boolean;
  /** Client ends one holder process may keep (null: as many as its RLIMIT_NOFILE allows). */
  holderFds: number | null;
  /** Connections per loopback source address (null: the ephemeral port range, less a margin). */
  portsPerAddress: number | null;
  /** Echo scenario: connections C, active connections A, message size S, time per cell. */
  echoConns: number[];
  echoActive: number[];
  echoSize: number;
  echoTimeMs: number;
  json?: string;
  csv?: string;
  svg?: string;
  /** Re-render a saved --json run instead of measuring. */
  from?: string;
}

export const USAGE = `usage: iomux bench [options]
  --sizes LIST         idle sockets N (default 10,100,1000,10000, then 50000,100000,250000,1000000
                       where RLIMIT_NOFILE allows, and max = the most RLIMIT_NOFILE allows)
  --active LIST        ready sockets K of the activity sweep (default 1,10,100,500,1000 of N=1000)
  --backends LIST      select,poll,epoll,kqueue,io_uring (default: all present here)
  --api LIST           raw,pollInto,selectors (default: all)
  --peers LIST         c,c-mt,cpython,napi or none (default: all found; c-mt is the C floor with one
                       extra idle thread, as Node has; napi the thinnest plain-C Node-API calls)
  --no-peers           the same as --peers none
  --scenarios LIST     idle-scaling,activity-sweep,register-churn,echo (default: all but echo;
                       register-churn includes register-batch: 64 pairs per call)
  --scenario NAME      the same as --scenarios (e.g. --scenario echo)
  --time MS            measuring time per cell over all rounds (default 150)
  --rounds R           rounds in rotating order (default 15)
  --batch-ms MS        target length of one timed batch of calls (default 1)
  --holder-fds N       client ends per holder process (default: its RLIMIT_NOFILE less 100)
  --ports-per-address N  connections per loopback source address 127.0.0.x (default: the
                       ephemeral port range less 1000)
  --echo-conns LIST    echo: connections C (default 1,100,1000,10000, those that fit)
  --echo-active LIST   echo: active connections A (default 1,100)
  --echo-size S        echo: message bytes (default 64)
  --echo-time MS       echo: measuring time per cell (default 1000)
  --quick              small sizes and times, for CI (judges no speed)
  --json FILE          one record per cell
  --csv FILE           the same records as CSV
  --svg FILE           log-log plot of ns/call against N (needs the packages vega and vega-lite)
  --from FILE          measure nothing: print the report (and --csv/--svg) of a saved --json run
  -h, --help           this text
  -v, --version        the iomux version`;

function list(value: string, what: string): string[] {
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new Error(`${what}: empty list`);
  return items;
}

function numbers(value: string, what: string, max: number): number[] {
  return list(value, what).map((s) => {
    const n = s === 'max' ? max : Number(s);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${what}: ${s} is not a positive integer or "max"`);
    return n;
  });
}

function oneOf<T extends string>(values: string[], allowed: readonly T[], what: string): T[] {
  for (const v of values) if (!allowed.includes(v as T)) throw new Error(`${what}: unknown value ${v} (${allowed.join(', ')})`);
  return values as T[];
}

const SPEC = {
  sizes: { type: 'string' },
  active: { type: 'string' },
  backends: { type: 'string' },
  api: { type: 'string' },
  peers: { type: 'string' },
  'no-peers': { type: 'boolean' },
  scenarios: { type: 'string' },
  scenario: { type: 'string' },
  time: { type: 'string' },
  rounds: { type: 'string' },
  'batch-ms': { type: 'string' },
  'holder-fds': { type: 'string' },
  'ports-per-address': { type: 'string' },
  'echo-conns': { type: 'string' },
  'echo-active': { type: 'string' },
  'echo-size': { type: 'string' },
  'echo-time': { type: 'string' },
  quick: { type: 'boolean' },
  json: { type: 'string' },
  csv: { type: 'string' },
  svg: { type: 'string' },
  from: { type: 'string' },
} as const;

const COMMAND = { name: 'iomux bench', usage: USAGE, options: SPEC };

/** The default N values: 10 .. 10,000, then the big ones that fit, then max. */
export function defaultSizes(maxN: number): number[] {
  return [10, 100, 1000, 10_000, ...BIG_SIZES, maxN].filter((n) => n <= maxN);
}

/**
 * Parses the command line (lib/cli-args.ts: `--help`, `--version`, unknown options), then checks
 * and completes the values.
 * @param argv arguments after `bench`.
 * @param maxN what `max` means (the largest N RLIMIT_NOFILE allows).
 * @param out where `--help`, `--version` and the one line of a refused command line go.
 * @returns the options; or the exit code when the command line was handled here: 0 after
 *   `--help` or `--version`, 2 after an unknown option or a bad value (one line written).
 */
export function parseOptions(argv: readonly string[], maxN: number, out?: CommandOutput): BenchOptions | number {
  const parsed = parseCommand(COMMAND, argv, out);
  if (typeof parsed === 'number') return parsed;
  try {
    return checkOptions(parsed.values, maxN);
  } catch (err) {
    return usageError(COMMAND, err, out);
  }
}

/** The values with the defaults filled in; throws an Error with one line on a bad value. */
function checkOptions(values: ParsedCommand<typeof SPEC>['values'], maxN: number): BenchOptions {
  const quick = values.quick ?? false;
  const o: BenchOptions = {
    sizes: quick ? [10, 100] : defaultSizes(maxN),
    active: quick ? [1, 10] : [1, 10, 100, 500, 1000],
    sweepN: quick ? 100 : 1000,
    churnSizes: quick ? [10] : [10, 1000, maxN],
    backends: null,
    apis: [...APIS],
    peers: [...PEERS],
    scenarios: [...DEFAULT_SCENARIOS],
    timeMs: quick ? 20 : 150,
    rounds: quick ? 1 : 15,
    batchMs: 1,
    quick,
    holderFds: null,
    portsPerAddress: null,
    echoConns: quick ? [1, 100] : [1, 100, 1000, 10_000],
    echoActive: quick ? [1] : [1, 100],
    echoSize: 64,
    echoTimeMs: quick ? 200 : 1000,
  };
  const int = (v: string, flag: string) => numbers(v, flag, maxN)[0];
  if (values.sizes !== undefined) o.sizes = numbers(values.sizes, '--sizes', maxN);
  if (values.active !== undefined) {
    o.active = numbers(values.active, '--active', maxN);
    o.sweepN = Math.max(o.sweepN, ...o.active);
  }
  if (values.backends !== undefined) o.backends = list(values.backends, '--backends');
  if (values.api !== undefined) o.apis = oneOf(list(values.api, '--api'), APIS, '--api');
  if (values.peers !== undefined) o.peers = values.peers === 'none' ? [] : oneOf(list(values.peers, '--peers'), PEERS, '--peers');
  if (values['no-peers']) o.peers = [];
  const scenarios = [values.scenarios, values.scenario].filter((s): s is string => s !== undefined);
  if (scenarios.length) o.scenarios = oneOf(scenarios.flatMap((s) => list(s, '--scenarios')), SCENARIO_NAMES, '--scenarios');
  if (values.time !== undefined) o.timeMs = int(values.time, '--time');
  if (values.rounds !== undefined) o.rounds = int(values.rounds, '--rounds');
  if (values['batch-ms'] !== undefined) {
    o.batchMs = Number(values['batch-ms']);
    if (!(o.batchMs > 0 && o.batchMs <= 1000)) throw new Error(`--batch-ms: ${values['batch-ms']} is not a number of ms in (0, 1000]`);
  }
  if (values['holder-fds'] !== undefined) o.holderFds = int(values['holder-fds'], '--holder-fds');
  if (values['ports-per-address'] !== undefined) o.portsPerAddress = int(values['ports-per-address'], '--ports-per-address');
  if (values['echo-conns'] !== undefined) o.echoConns = numbers(values['echo-conns'], '--echo-conns', maxN);
  if (values['echo-active'] !== undefined) o.echoActive = numbers(values['echo-active'], '--echo-active', maxN);
  if (values['echo-size'] !== undefined) o.echoSize = int(values['echo-size'], '--echo-size');
  if (values['echo-time'] !== undefined) o.echoTimeMs = int(values['echo-time'], '--echo-time');
  o.json = values.json;
  o.csv = values.csv;
  o.svg = values.svg;
  o.from = values.from;
  o.sizes = [...new Set(o.sizes)].sort((a, b) => a - b);
  o.active = [...new Set(o.active)].sort((a, b) => a - b);
  o.churnSizes = o.churnSizes.filter((n) => o.sizes.includes(n));
  if (o.churnSizes.length === 0) o.churnSizes = [o.sizes[0]];
  return o;
}
