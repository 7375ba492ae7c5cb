/**
 * Test seams of the selectors, kept out of their public constructors: a test makes a selector
 * inside `withSeams()` to put fakes in place of the native objects. Not exported by the package.
 */
import type { NativeBinding, NativeWaiter } from '../binding';

/** What a test may replace. */
export interface Seams {
  /** Makes the kernel object (native Poll, Epoll or Kqueue, or a fake of it). */
  kernel?: () => unknown;
  /** Makes the thread waiter of poll's and select's selectAsync(). */
  waiter?: () => NativeWaiter;
  /** The native select(2) call of SelectSelector. */
  select?: NativeBinding['select'];
  /** Whose kqueue quirks KqueueSelector applies (default: process.platform). */
  platform?: NodeJS.Platform;
}

let current: Seams = {};

/**
 * Runs make() (which constructs a selector) with seams in place.
 * @returns What make() returns.
 */
export function withSeams<S>(seams: Seams, make: () => S): S {
  const saved = current;
  current = seams;
  try {
    return make();
  } finally {
    current = saved;
  }
}

/** The seam a constructor running now was given, or its own default. */
export function seam<K extends keyof Seams>(name: K, fallback: NonNullable<Seams[K]>): NonNullable<Seams[K]> {
  return (current[name] ?? fallback) as NonNullable<Seams[K]>;
}

/** Whether a constructor running now was given this seam. */
export function hasSeam(name: keyof Seams): boolean {
  return current[name] !== undefined;
}
