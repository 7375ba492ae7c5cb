/**
 * Activity sweep: N sockets (1000 by default) of which the K highest are readable, K = 1, 10,
 * 100, 500, 1000. It shows where poll's scan stops mattering against epoll's ready list, and
 * tests the course notes' claim that select wins when most connections are busy.
 */
import { native } from '../../lib/binding';
import { mechanisms, type Scenario, waitPeerModes } from './scenario';

export const activitySweep: Scenario = {
  name: 'activity-sweep',
  timeouts: [0],
  apis: (backend) => backend.apis,
  setup: (backend, api, ctx) => backend.wait(api, ctx.fds, ctx.active, ctx.timeoutMs),
  peerModes: (maxFd, fdSetSize) => waitPeerModes(maxFd, fdSetSize, mechanisms(native.has)),
};
