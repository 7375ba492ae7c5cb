/**
 * One wake-up measurement in a process of its own (started by bench/async/index.ts, under
 * `taskset` for the pinned runs): a fresh process per mode keeps one mode's threads, fds and
 * JIT state out of the next one's figures. Argument: a JSON RunConfig (protocol.ts).
 * Prints one line `RESULT <json>` holding a RunOutcome.
 */
import { openFixture } from './fixture';
import { MODES } from './modes';
import { RESULT_MARK, type RunConfig, type RunOutcome } from './protocol';
import { Recorder } from './recorder';

async function main(config: RunConfig): Promise<RunOutcome> {
  const mode = MODES.find((m) => m.name === config.mode);
  if (mode === undefined) throw new Error(`unknown mode ${config.mode}`);
  const why = mode.unavailable();
  if (why !== null) return { ok: false, skipped: why };
  const fixture = openFixture({ size: config.size, peerPrefix: config.peerPrefix });
  let fdsClosed = false;
  try {
    const recorder = new Recorder(config.length);
    fdsClosed = (await mode.run(fixture, recorder, config.load)).ownsFds;
    return { ok: true, result: recorder.result() };
  } finally {
    await fixture.close(fdsClosed);
  }
}

main(JSON.parse(process.argv[2]) as RunConfig).then(
  (outcome) => {
    process.stdout.write(`${RESULT_MARK}${JSON.stringify(outcome)}\n`);
    process.exit(0);
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
