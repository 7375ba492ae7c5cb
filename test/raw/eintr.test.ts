// PEP 475 for every wait (issue 6): a wait interrupted by signals is retried with the time
// that is left, so it neither returns early with nothing nor waits much longer than asked.
// ppoll, pselect and epoll_wait are never restarted by SA_RESTART (man 7 signal), so the
// signals below do make the syscall fail with EINTR in native code (checked with strace).
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWaiter, threadedWait, WAIT_POLL, WAIT_SELECT } from '../helpers/threaded-wait';
import { constants } from '../../lib/constants';
import { Poll } from '../../lib/poll';
import { resetSelectStats, select, selectStats } from '../../lib/select';
import { testPipe } from '../helpers/fds';

const WAIT_MS = 1500;
const isUnix = process.platform !== 'win32';

let signals = 0;
const onSignal = (): void => {
  signals++;
};
let child: ChildProcess | undefined;

/**
 * A child process that sends SIGUSR2 (or `sig`) to this process every 50 ms until it is killed.
 * Synchronous waits use SIGCHLD: it is caught by libuv's own handler (installed once a child
 * was spawned), not by a JS listener, so it interrupts the syscall but must not end the wait;
 * a signal JS listens for does end it (sync-interrupt.test.ts).
 */
function startSignalling(sig = 'USR2'): void {
  child = spawn('sh', ['-c', `while kill -${sig} ${process.pid}; do sleep 0.05; done`], { stdio: 'ignore' });
}

/** Starts SIGCHLD storms, lets them run, then times the sync `wait`. */
async function timeUnderChildSignals(wait: () => unknown): Promise<[unknown, number]> {
  startSignalling('CHLD');
  await new Promise((resolve) => setTimeout(resolve, 120));
  const t0 = performance.now();
  const result = wait();
  return [result, performance.now() - t0];
}

beforeEach(() => {
  signals = 0;
  // Without a listener SIGUSR2 would end the process; Node's own handler counts them.
  process.on('SIGUSR2', onSignal);
});

afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child!.on('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
  child = undefined;
  // Signals still queued in libuv's pipe are delivered on the next turns of the loop.
  await new Promise((resolve) => setTimeout(resolve, 20));
  process.off('SIGUSR2', onSignal);
});

/** Waits until the JS handler has seen at least `n` signals (they run once the loop turns). */
async function signalsSeen(n: number): Promise<number> {
  for (let i = 0; i < 100 && signals < n; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  return signals;
}

/** Starts the signals, lets the first ones land, then times `wait`. */
async function timeUnderSignals(wait: () => unknown): Promise<[unknown, number]> {
  startSignalling();
  expect(await signalsSeen(1)).toBeGreaterThanOrEqual(1);
  const t0 = performance.now();
  const result = await wait();
  return [result, performance.now() - t0];
}

describe.skipIf(!isUnix)('EINTR: waits keep the time left while signals arrive every 50 ms', () => {
  it('select(2), synchronous on the main thread', async () => {
    const [r] = testPipe();
    resetSelectStats();
    const [result, took] = await timeUnderChildSignals(() => select([r], [], [], WAIT_MS));
    expect(result).toEqual([[], [], []]);
    expect(took).toBeGreaterThanOrEqual(WAIT_MS - 50);
    expect(took).toBeLessThan(2500);
    // About 30 signals landed during the wait: each interrupted pselect is one more syscall.
    expect(selectStats().syscalls).toBeGreaterThanOrEqual(10);
  });

  it('Poll#poll, synchronous on the main thread', async () => {
    const [r] = testPipe();
    const p = new Poll();
    p.register(r, constants.POLLIN);
    const [result, took] = await timeUnderChildSignals(() => p.poll(WAIT_MS));
    expect(result).toEqual([]);
    expect(took).toBeGreaterThanOrEqual(WAIT_MS - 50);
    expect(took).toBeLessThan(2500);
    expect(p.stats().syscalls).toBeGreaterThanOrEqual(10);
  });

  it.each([
    ['poll', WAIT_POLL],
    ['select', WAIT_SELECT],
  ] as const)('threadedWait (%s)', async (_name, kind) => {
    const [r] = testPipe();
    const waiter = createWaiter();
    try {
      const fds = Int32Array.of(r, constants.POLLIN);
      const [n, took] = await timeUnderSignals(() => threadedWait(waiter, kind, fds, 1, WAIT_MS, new Int32Array(2)));
      expect(n).toBe(0);
      expect(took).toBeGreaterThanOrEqual(WAIT_MS - 50);
      expect(took).toBeLessThan(2500);
      // Here the main thread is free: the handler runs during the wait.
      expect(signals).toBeGreaterThanOrEqual(10);
    } finally {
      waiter.close();
    }
  });
});
