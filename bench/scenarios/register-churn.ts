/**
 * Registration churn: with N fds registered, one call registers one more fd and unregisters
 * it again: epoll_ctl(ADD) + epoll_ctl(DEL) against an edit of poll's pollfd array (and the
 * selectors' bookkeeping on top). No wait is made, so the timeout is recorded as 0; io_uring
 * queues both changes and needs an io_uring_enter to make them, so its call ends with the
 * wait(0) (select(0)) that submits them and reaps their completions.
 * `register-batch` (run with churn): B = 64 such pairs per call, figures per pair: io_uring
 * submits all 128 changes in one io_uring_enter, epoll makes 128 epoll_ctl calls.
 */
import { native } from '../../lib/binding';
import type { BenchBackend } from '../backends';
import type { Scenario, PeerMode } from './scenario';

export const registerChurn: Scenario = {
  name: 'register-churn',
  timeouts: [0],
  apis: (backend) => backend.churnApis,
  setup: (backend, api, ctx) => backend.churn(api, ctx.fds),
  peerModes() {
    const modes: PeerMode[] = [
      { family: 'c', mode: 'churn-poll', backend: 'c-poll', api: 'raw' },
      { family: 'cpython', mode: 'churn-poll', backend: 'cpython-poll', api: 'raw' },
      { family: 'cpython', mode: 'churn-PollSelector', backend: 'cpython-poll', api: 'selectors' },
      { family: 'cpython', mode: 'churn-SelectSelector', backend: 'cpython-select', api: 'selectors' },
    ];
    if (native.has.epoll) {
      modes.push(
        { family: 'c', mode: 'churn-epoll', backend: 'c-epoll', api: 'raw' },
        { family: 'cpython', mode: 'churn-epoll', backend: 'cpython-epoll', api: 'raw' },
        { family: 'cpython', mode: 'churn-EpollSelector', backend: 'cpython-epoll', api: 'selectors' },
      );
    }
    if (process.platform === 'linux') modes.push({ family: 'c', mode: 'churn-io_uring', backend: 'c-io_uring', api: 'raw' });
    return modes;
  },
};

/** Register + unregister pairs per call of register-batch. */
export const BATCH_PAIRS = 64;

const batches = (b: BenchBackend) => b.name === 'epoll' || b.name === 'io_uring';

export const registerBatch: Scenario = {
  name: 'register-batch',
  timeouts: [0],
  opsPerCall: BATCH_PAIRS,
  apis: (backend) => (batches(backend) ? ['raw'] : []),
  setup: (backend, api, ctx) => backend.churn(api, ctx.fds, BATCH_PAIRS),
  peerModes() {
    const modes: PeerMode[] = [];
    // The C floor's churn-epoll is one pair per call already (each change is its own syscall).
    if (native.has.epoll) modes.push({ family: 'c', mode: 'churn-epoll', backend: 'c-epoll', api: 'raw' });
    if (process.platform === 'linux') modes.push({ family: 'c', mode: `churn-io_uring:${BATCH_PAIRS}`, backend: 'c-io_uring', api: 'raw' });
    return modes;
  },
};
