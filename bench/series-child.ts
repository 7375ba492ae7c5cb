/**
 * Serves the iomux series of one backend from a process of its own, on the fixture's fds
 * inherited at the same numbers: the protocol of the C and CPython peers (bench/peers/run.ts,
 * `PeerServer`), one request line at a time, one JSON line per timeout, then "done".
 *
 * Why a process per backend: the selectors of every backend share BaseSelector and
 * PollLikeSelector, and a process that runs several selector classes makes V8's inline caches
 * in that shared code polymorphic. Measured in one process with every backend: DefaultSelector
 * 2.01-2.93x C epoll_wait at N=1000, against 1.72-1.79x in an epoll-only run and 1.82x in
 * bench/check-ratios.ts. An application uses one mechanism; so does each series' process here.
 *
 * Request: `scenario:backend:api timeouts timeMs maxSamples fdRanges active calls batchMs`
 * (calls per timeout, 0 = calibrate to batchMs). A call that reports the wrong fds ends the
 * process with its message on stderr and exit code 2, as the peers do.
 */
import { createInterface } from 'node:readline';
import { type Api, presentBackends, releaseKept } from './backends';
import { activitySweep } from './scenarios/activity-sweep';
import { idleScaling } from './scenarios/idle-scaling';
import { registerBatch, registerChurn } from './scenarios/register-churn';
import type { Scenario } from './scenarios/scenario';
import { timeSeries } from './timing';

const SCENARIOS = new Map<string, Scenario>([idleScaling, activitySweep, registerChurn, registerBatch].map((s) => [s.name, s]));
const backends = presentBackends();

/** "3-5,9" -> [3, 4, 5, 9]. */
function parseRanges(text: string): number[] {
  const fds: number[] = [];
  for (const part of text.split(',')) {
    const [lo, hi = lo] = part.split('-').map(Number);
    for (let fd = lo; fd <= hi; fd++) fds.push(fd);
  }
  return fds;
}

// The same array for the same fds: the backends keep one object per series, given its fds once,
// and refuse another array (bench/backends.ts `keep`).
let lastRanges = '';
let lastFds: number[] = [];

function serve(line: string): void {
  const [mode, timeoutsText, timeMsText, maxSamplesText, ranges, activeText, callsText, batchMsText] = line.split(' ');
  const [scenarioName, backendName, api] = mode.split(':');
  const scenario = SCENARIOS.get(scenarioName);
  const backend = backends.get(backendName);
  if (!scenario || !backend) throw new Error(`unknown series ${mode}`);
  if (ranges !== lastRanges) [lastRanges, lastFds] = [ranges, parseRanges(ranges)];
  const timeouts = timeoutsText.split(',').map(Number);
  const calls = callsText.split(',').map(Number);
  const maxSamples = Number(maxSamplesText);
  for (let i = 0; i < timeouts.length; i++) {
    const timed = scenario.setup(backend, api as Api, { fds: lastFds, active: Number(activeText), timeoutMs: timeouts[i] });
    if (!timed) continue;
    try {
      const { samples, callsPerSample } = timeSeries(timed.fn, calls[i], Number(batchMsText), Number(timeMsText));
      const kept = samples.slice(0, maxSamples).sort((a, b) => a - b);
      process.stdout.write(`${JSON.stringify({ timeoutMs: timeouts[i], calls: callsPerSample, samples: kept })}\n`);
    } finally {
      timed.close();
    }
  }
  process.stdout.write('done\n');
}

if (process.argv[2] !== 'serve') {
  process.stderr.write('usage: series-child serve (requests on stdin; run by the bench)\n');
  process.exit(2);
}
createInterface({ input: process.stdin })
  .on('line', (line) => {
    try {
      serve(line);
    } catch (err) {
      process.stderr.write(`${(err as Error).message}\n`);
      process.exit(2);
    }
  })
  .on('close', () => {
    releaseKept();
    process.exit(0);
  });
