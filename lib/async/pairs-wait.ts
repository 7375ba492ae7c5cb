/**
 * What the waits of the kernel objects that answer with `[fd, events]` pairs (Epoll, IoUring)
 * share: the maxevents rule, the bound of the buffer their synchronous wait keeps, and the
 * asynchronous wait watched by Node's own loop (Epoll#pollAsync, IoUring#waitAsync) with its
 * options, checks and abort wiring.
 */
import { abortError } from '../errors';
import { pollTimeout, validateInteger, validateOptions, validateSignal } from '../validate';
import { abortable } from './abortable';

/** The native side: one pending wait at a time, cancellable. */
export interface PairsWaiter {
  waitAsync(timeoutMs: number, maxevents: number, callback: (err: Error | null, pairs?: Array<[number, number]>) => void): void;
  cancelWait(): boolean;
}

/**
 * Up to this maxevents, a synchronous wait builds its pairs in JS from a buffer it keeps (cheaper
 * than through N-API); past it the addon builds them, so the kept buffer stays small.
 */
export const SCRATCH_MAX_EVENTS = 4096;

/** maxevents of a wait: undefined or -1 give 1024 (CPython's epoll default), else 1..max. */
export function validateMaxevents(value: unknown, max: number): number {
  if (value === undefined || value === -1) return 1024;
  return validateInteger(value, 'maxevents', 1, max);
}

/**
 * Checks `timeout` and `{ maxevents, signal }`, then waits on nat.
 * @throws TypeError/RangeError for bad arguments; an AbortError for a signal already aborted
 *   (a rejection when called from an async method).
 */
export function waitPairsAsync(
  nat: PairsWaiter,
  timeout: unknown,
  options: unknown,
  maxMaxevents: number,
): Promise<Array<[number, number]>> {
  const ms = pollTimeout(timeout);
  const o = validateOptions<{ maxevents?: number; signal?: AbortSignal }>(options);
  const maxevents = validateMaxevents(o.maxevents, maxMaxevents);
  const signal = validateSignal(o.signal);
  if (signal?.aborted) throw abortError(signal);
  return abortable(signal, () => nat.cancelWait(), (settle) => nat.waitAsync(ms, maxevents, settle));
}
