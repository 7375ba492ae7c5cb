'use strict';
/*
 * A fixed number of one wait call, for instruction-level profiles (valgrind --tool=callgrind,
 * perf stat -e instructions:u): the same epoll set of N socketpair ends (one readable) waited on
 * through one of iomux's calls or the Node-API floor's, with no timing of its own.
 *
 * usage: node bench/profile/calls.cjs CALL N COUNT
 *   CALL  pollInto | poll | selector | napi-fixed | napi-into | none (set up only: the baseline)
 * Needs the compiled library (npm run build:ts) and build/Release/napi_floor.so.
 */
const path = require('node:path');
const root = path.join(__dirname, '..', '..');
const iomux = require(path.join(root, 'dist', 'lib'));

const [call, nArg, countArg] = process.argv.slice(2);
const n = Number(nArg);
const count = Number(countArg);
const pairs = [];
for (let i = 0; i < n; i++) pairs.push(iomux.socketpair());
iomux.write(pairs[n - 1][1], Buffer.from('x'));
const fds = pairs.map((p) => p[0]);
const active = fds[n - 1];

const ep = new iomux.Epoll();
for (const fd of fds) ep.register(fd, iomux.constants.EPOLLIN);
const out = new Int32Array(2048);
const sel = new iomux.DefaultSelector();
for (const fd of fds) sel.register(fd, iomux.EVENT_READ);
const floor = { exports: {} };
process.dlopen(floor, path.join(root, 'build', 'Release', 'napi_floor.so'));
const fixed = new Int32Array(Math.max(n, 1024));
floor.exports.setup(Int32Array.from(fds), fixed);
const words = floor.exports.eventWords();
const into = new Int32Array(words * 1024);

const calls = {
  pollInto: () => ep.pollInto(out, 0) === 1 && out[0] === active,
  poll: () => {
    const r = ep.poll(0, 1024);
    return r.length === 1 && r[0][0] === active;
  },
  selector: () => {
    const r = sel.select(0);
    return r.length === 1 && r[0][0].fd === active;
  },
  'napi-fixed': () => floor.exports.epollWait(0) === 1 && fixed[0] === active,
  'napi-into': () => floor.exports.epollWaitInto(into, 0) === 1 && into[words * 0 + 1] === active,
  none: () => true,
};
const fn = calls[call];
if (!fn) throw new Error(`unknown call ${call}`);
for (let i = 0; i < count; i++) if (!fn()) throw new Error(`${call}: wrong fds ready`);
console.log(`${call}: ${count} calls on N=${n}`);
