/** The command line of `iomux bench`: defaults, parsing, usage text. */
import type { Api } from './backends';
import type { PeerFamily } from './peers/run';

/** The scenarios by name, in the order they run. */
export const SCENARIO_NAMES = ['idle-scaling', 'activity-sweep', 'register-churn'] as const;
const APIS: readonly Api[] = ['raw', 'pollInto', 'selectors'];

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
  quick: boolean;
  json?: string;
  csv?: string;
  svg?: string;
  /** Re-render a saved --json run instead of measuring. */
  from?: string;
  help: boolean;
}

export const USAGE = `usage: iomux bench [options]
  --sizes LIST      idle sockets N (default 10,100,1000,5000,10000,max; max = what RLIMIT_NOFILE allows)
  --active LIST     ready sockets K of the activity sweep (default 1,10,100,500,1000 of N=1000)
  --backends LIST   select,poll,epoll,kqueue (default: all present here)
  --api LIST        raw,pollInto,selectors (default: all)
  --peers [LIST]    c,c-mt,cpython (default: those found; c-mt is the C floor with one extra
                    idle thread, as Node has); --no-peers to leave them out
  --scenarios LIST  idle-scaling,activity-sweep,register-churn (default: all)
  --time MS         measuring time per cell over all rounds (default 150)
  --rounds R        rounds in rotating order (default 5)
  --quick           small sizes and times, for CI (judges no speed)
  --json FILE       one record per cell
  --csv FILE        the same records as CSV
  --svg FILE        log-log plot of ns/call against N (vega-lite, rendered by vega)
  --from FILE       measure nothing: print the report (and --csv/--svg) of a saved --json run`;

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

/**
 * Parses the command line.
 * @param argv arguments after `bench`.
 * @param maxN what `max` means (the largest N RLIMIT_NOFILE allows).
 * @throws Error with a message for the user on a bad option.
 */
export function parseOptions(argv: readonly string[], maxN: number): BenchOptions {
  const quick = argv.includes('--quick');
  const o: BenchOptions = {
    sizes: quick ? [10, 100] : [10, 100, 1000, 5000, 10000, maxN],
    active: quick ? [1, 10] : [1, 10, 100, 500, 1000],
    sweepN: quick ? 100 : 1000,
    churnSizes: quick ? [10] : [10, 1000, maxN],
    backends: null,
    apis: [...APIS],
    peers: ['c', 'c-mt', 'cpython'],
    scenarios: [...SCENARIO_NAMES],
    timeMs: quick ? 20 : 150,
    rounds: quick ? 1 : 5,
    quick,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].startsWith('--') && argv[i].includes('=') ? argv[i].split(/=(.*)/s, 2) : [argv[i], undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--quick': break;
      case '--help': case '-h': o.help = true; break;
      case '--sizes': o.sizes = numbers(value(), flag, maxN); break;
      case '--active': o.active = numbers(value(), flag, maxN); o.sweepN = Math.max(o.sweepN, ...o.active); break;
      case '--backends': o.backends = list(value(), flag); break;
      case '--api': {
        const apis = list(value(), flag);
        for (const a of apis) if (!APIS.includes(a as Api)) throw new Error(`--api: unknown API ${a} (${APIS.join(', ')})`);
        o.apis = apis as Api[];
        break;
      }
      case '--peers': {
        // A bare --peers keeps the default; --peers=none or a list chooses.
        const v = inline ?? (argv[i + 1] && !argv[i + 1].startsWith('--') ? argv[++i] : undefined);
        if (v === undefined) break;
        const peers = v === 'none' ? [] : list(v, flag);
        for (const p of peers) if (!['c', 'c-mt', 'cpython'].includes(p)) throw new Error(`--peers: unknown peer ${p} (c, c-mt, cpython)`);
        o.peers = peers as PeerFamily[];
        break;
      }
      case '--no-peers': o.peers = []; break;
      case '--scenarios': {
        o.scenarios = list(value(), flag);
        for (const s of o.scenarios) if (!(SCENARIO_NAMES as readonly string[]).includes(s)) throw new Error(`--scenarios: unknown scenario ${s}`);
        break;
      }
      case '--time': o.timeMs = numbers(value(), flag, maxN)[0]; break;
      case '--rounds': o.rounds = numbers(value(), flag, maxN)[0]; break;
      case '--json': o.json = value(); break;
      case '--csv': o.csv = value(); break;
      case '--svg': o.svg = value(); break;
      case '--from': o.from = value(); break;
      default: throw new Error(`unknown option ${argv[i]}\n${USAGE}`);
    }
  }
  o.sizes = [...new Set(o.sizes)].sort((a, b) => a - b);
  o.active = [...new Set(o.active)].sort((a, b) => a - b);
  o.churnSizes = o.churnSizes.filter((n) => o.sizes.includes(n));
  if (o.churnSizes.length === 0) o.churnSizes = [o.sizes[0]];
  return o;
}
