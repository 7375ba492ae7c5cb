/** Timing and signal helpers shared by the raw wait tests. */
import { spawn } from 'node:child_process';
import { expect } from 'vitest';

/** Runs fn and returns its result with the milliseconds it took. */
export function timed<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const result = fn();
  return [result, performance.now() - t0];
}

/**
 * Runs a blocking wait of about 400 ms while a child process sends SIGUSR2 after 100 ms, then
 * checks that the signal really arrived (its JS handler runs once the loop turns again).
 */
export async function withSignalDuringWait(wait: () => void): Promise<void> {
  let signals = 0;
  const onSignal = (): void => {
    signals++;
  };
  process.on('SIGUSR2', onSignal);
  try {
    const child = spawn('sh', ['-c', `sleep 0.1; kill -USR2 ${process.pid}`], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    wait();
    await exited;
    for (let i = 0; i < 100 && signals === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(signals).toBe(1);
  } finally {
    process.off('SIGUSR2', onSignal);
  }
}
