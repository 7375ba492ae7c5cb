/**
 * Registration churn: with N fds registered, one call registers one more fd and unregisters
 * it again: epoll_ctl(ADD) + epoll_ctl(DEL) against an edit of poll's pollfd array (and the
 * selectors' bookkeeping on top). No wait is made, so the timeout is recorded as 0.
 */
import { native } from '../../lib/binding';
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
    return modes;
  },
};
