/**
 * What a workload file in bench/scenarios/ provides. A scenario names its cells (size and
 * activity), the timeouts it measures, the iomux closure for a backend and API, and which
 * peer modes (C floor, CPython) make the same call.
 */
import type { Api, BenchBackend, Timed } from '../backends';
import type { PeerFamily } from '../peers/run';

/** A peer series: one mode of floor.c or cpython.py, recorded under backend/api. */
export interface PeerMode {
  family: PeerFamily;
  /** The mode argument of the peer program. */
  mode: string;
  /** The record's backend, e.g. 'c-epoll' or 'cpython-poll'. */
  backend: string;
  api: Api;
}

/** The workload facts a closure is built on. */
export interface SetupContext {
  /** Watched fds, ascending; the last `active` are readable. */
  fds: readonly number[];
  active: number;
  timeoutMs: number;
}

export interface Scenario {
  readonly name: string;
  /** Timeouts measured in every cell (ms). */
  readonly timeouts: readonly number[];
  /** The iomux APIs this scenario measures for a backend. */
  apis(backend: BenchBackend): readonly Api[];
  /** The closure to time, or null when the backend cannot take this workload. */
  setup(backend: BenchBackend, api: Api, ctx: SetupContext): Timed | null;
  /** The peer modes that make the same calls; maxFd lets CPython's select bow out past FD_SETSIZE. */
  peerModes(maxFd: number, fdSetSize: number): PeerMode[];
  /**
   * Operations one timed iomux call makes (register-batch: register + unregister pairs); its
   * figures are divided by it, so that a cell is per operation. The peers report per operation
   * themselves. 1 when absent.
   */
  readonly opsPerCall?: number;
}

/** The kernel mechanisms beside select and poll that this platform has. */
export interface Mechanisms {
  epoll: boolean;
  kqueue: boolean;
  /** Linux: the C floor has io_uring modes (they are left out when `floor probe` says io_uring cannot run). */
  io_uring: boolean;
}

/**
 * Peer modes of the wait scenarios (idle scaling, activity sweep). `threaded` adds the C floor
 * run with one extra idle thread (c-mt-*), whose per-fd kernel cost depends on whether the
 * process is multi-threaded (fdget() in poll, select and epoll_wait's fd lookups).
 */
export function waitPeerModes(maxFd: number, fdSetSize: number, mech: Mechanisms, threaded = false): PeerMode[] {
  const modes: PeerMode[] = [
    { family: 'c', mode: 'select', backend: 'c-select', api: 'raw' },
    { family: 'c', mode: 'poll', backend: 'c-poll', api: 'raw' },
    { family: 'cpython', mode: 'poll', backend: 'cpython-poll', api: 'raw' },
    { family: 'cpython', mode: 'PollSelector', backend: 'cpython-poll', api: 'selectors' },
  ];
  const own = [...(mech.epoll ? ['epoll'] : []), ...(mech.kqueue ? ['kqueue'] : [])];
  for (const m of own) {
    const Selector = m === 'epoll' ? 'EpollSelector' : 'KqueueSelector';
    modes.push(
      { family: 'c', mode: m, backend: `c-${m}`, api: 'raw' },
      { family: 'cpython', mode: m, backend: `cpython-${m}`, api: 'raw' },
      { family: 'cpython', mode: Selector, backend: `cpython-${m}`, api: 'selectors' },
    );
  }
  if (mech.io_uring) modes.push({ family: 'c', mode: 'io_uring', backend: 'c-io_uring', api: 'raw' });
  if (threaded) {
    for (const m of ['select', 'poll', ...own, ...(mech.io_uring ? ['io_uring'] : [])]) {
      modes.push({ family: 'c-mt', mode: m, backend: `c-mt-${m}`, api: 'raw' });
    }
  }
  // CPython's select.select() and SelectSelector refuse fds >= FD_SETSIZE (ValueError).
  if (maxFd < fdSetSize) {
    modes.push(
      { family: 'cpython', mode: 'select', backend: 'cpython-select', api: 'raw' },
      { family: 'cpython', mode: 'SelectSelector', backend: 'cpython-select', api: 'selectors' },
    );
  }
  return modes;
}

/** This platform's mechanisms, as the addon was built. */
export function mechanisms(has: { epoll: boolean; kqueue: boolean }): Mechanisms {
  return { epoll: has.epoll, kqueue: has.kqueue && process.platform !== 'linux', io_uring: process.platform === 'linux' };
}

/** Whether a peer mode calls io_uring (left out when the C floor's probe says it cannot run here). */
export function usesIoUring(m: PeerMode): boolean {
  return m.mode.includes('io_uring');
}
