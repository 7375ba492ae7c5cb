/** A CommandOutput (lib/cli-args.ts) that keeps what a command writes, for tests of its messages. */
import type { CommandOutput } from '../../lib/cli-args';

export interface CapturedOutput extends CommandOutput {
  /** All that was written to stdout, joined. */
  readonly out: string;
  /** All that was written to stderr, joined. */
  readonly err: string;
}

export function captureOutput(): CapturedOutput {
  const out: string[] = [];
  const err: string[] = [];
  return {
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    get out() {
      return out.join('');
    },
    get err() {
      return err.join('');
    },
  };
}
