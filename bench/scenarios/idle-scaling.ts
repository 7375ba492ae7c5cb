/**
 * Idle scaling: N idle loopback sockets plus one active socket (one unread byte, the highest
 * fd, last in every array). One call builds what the API needs, waits (timeout 0, and 1000 ms
 * that returns at once because the active socket is readable) and collects the ready fds.
 */
import { native } from '../../lib/binding';
import { mechanisms, type Scenario, waitPeerModes } from './scenario';

export const idleScaling: Scenario = {
  name: 'idle-scaling',
  timeouts: [0, 1000],
  apis: (backend) => backend.apis,
  setup: (backend, api, ctx) => backend.wait(api, ctx.fds, ctx.active, ctx.timeoutMs),
  peerModes: (maxFd, fdSetSize) => waitPeerModes(maxFd, fdSetSize, mechanisms(native.has), true),
};
