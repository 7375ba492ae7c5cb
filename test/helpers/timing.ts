/** Timing and signal helpers shared by the raw wait tests. */
import { spawn } from 'node:child_process';

/** Runs fn and returns its result with the milliseconds it took. */
export function timed<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const result = fn();
  return [result, performance.now() - t0];
}

/** Runs a blocking wait of about 400 ms while a child process sends SIGCHLD after 100 ms. */
export async function withSignalDuringWait(wait: () => void): Promise<void> {
  // SIGCHLD from the child: caught by libuv's own handler (installed for the spawned child),
  // not by a JS listener, so it interrupts the syscall with EINTR but must not end the wait.
  // (A signal that JS listens for does end a sync wait: see test/raw/sync-interrupt.test.ts.)
  const child = spawn('sh', ['-c', `sleep 0.1; kill -CHLD ${process.pid}`], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  wait();
  await exited;
}
