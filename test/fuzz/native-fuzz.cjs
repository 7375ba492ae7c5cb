// Calls every native function and method with random arguments drawn from a pool of bad and
// good values. Every call must either work or throw a JS exception; a crash or an abort of this
// process fails the test that runs it. Timeouts are drawn from a safe pool so that no call can
// block forever, and the process works in a temp directory (listenUnix may create files there).
'use strict';
const path = require('node:path');

const root = process.argv[2];
const seed = Number(process.argv[3]);
const calls = Number(process.argv[4]);
const addon = require('node-gyp-build')(root);

let state = seed >>> 0 || 1;
function rand(n) {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) % n;
}
const pick = (arr) => arr[rand(arr.length)];

const [r, w] = addon.pipe(true);
const [sa, sb] = addon.socketpair(true);
const closed = addon.dup2(r, 3000);
addon.close(closed);
const fds = [r, w, sa, sb, closed, -1, 1.5, 2 ** 31, 2 ** 40, NaN, Infinity];
const values = [
  undefined, null, true, 0, 1, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 31),
  '', 'x', '127.0.0.1', '::1', 'sock', 'a'.repeat(200), {}, [], [1, 2], () => 1, Symbol('s'), 10n,
  new Int32Array(0), new Int32Array(1), new Int32Array(2), new Int32Array(3), new Int32Array(64),
  Int32Array.of(r, w, sa, sb), Int32Array.of(-1, 5000, closed), new Uint8Array(8), Buffer.alloc(16),
  new Float64Array(8), new Float64Array(2), new Uint32Array(4), new ArrayBuffer(8), new DataView(new ArrayBuffer(8)),
  ...fds,
];
// No undefined, null or negative here: those mean wait forever (tested elsewhere).
const timeouts = [0, 0.5, 1, NaN, 'x', {}, 2 ** 31, 2 ** 40, 1.5, true];

// Which argument is a timeout (must not wait forever), and which must stay truthy (never make
// our pipes blocking: a blocking read on an empty pipe would hang).
// poll: Epoll#poll (native Poll has only pollInto).
const TIMEOUT_ARG = { select: 4, poll: 0, pollInto: 1, wait: 3, waitAsync: 0, waitIntoAsync: 1 };
function argsFor(name, n) {
  const args = [];
  if (name in TIMEOUT_ARG) n = Math.max(n, TIMEOUT_ARG[name] + 1);
  for (let i = 0; i < n; i++) args.push(i === TIMEOUT_ARG[name] ? pick(timeouts) : pick(values));
  if (name === 'setNonBlocking') args[1] = true;
  if (name === 'wait' || name === 'waitAsync') args[args.length - 1] = () => {};
  if (name === 'waitIntoAsync' && rand(2) === 0) args[3] = () => {};
  return args;
}

const objects = {
  Poll: () => new addon.Poll(),
  Epoll: addon.Epoll && (() => new addon.Epoll(-1, true)),
  Waiter: addon.Waiter && (() => new addon.Waiter()),
  Kqueue: addon.Kqueue && (() => new addon.Kqueue()),
  IoUring: addon.IoUring && addon.ioUringProbe() === null && (() => new addon.IoUring(8, rand(2) === 0)),
};
const live = {};
for (const [k, make] of Object.entries(objects)) if (make) live[k] = make();

const fns = Object.entries(addon).filter(([k, v]) => typeof v === 'function' && !/^[A-Z]/.test(k));
let done = 0;
let threw = 0;
for (let i = 0; i < calls; i++) {
  const useObject = rand(2) === 0;
  try {
    if (useObject) {
      const kind = pick(Object.keys(live));
      const obj = live[kind];
      const names = Object.getOwnPropertyNames(Object.getPrototypeOf(obj)).filter(
        (m) => m !== 'constructor' && typeof obj[m] === 'function',
      );
      const name = pick(names);
      if (name === 'close' && rand(4) !== 0) continue;
      obj[name](...argsFor(name, rand(8)));
      if (name === 'close') live[kind] = objects[kind]();
    } else {
      const [name, fn] = pick(fns);
      if (name === 'close' || name === 'dup2') {
        // Only ever on numbers this process owns or that are not open: never on stdio.
        const args = argsFor(name, rand(4));
        if (typeof args[0] === 'number' && args[0] >= 0 && args[0] <= 2) continue;
        if (typeof args[1] === 'number' && args[1] >= 0 && args[1] <= 2) continue;
        if ([r, w, sa, sb].includes(args[0]) && name === 'close') continue;
        if ([r, w, sa, sb].includes(args[1])) continue;
        fn(...args);
      } else {
        fn(...argsFor(name, rand(8)));
      }
    }
    done++;
  } catch (err) {
    if (!(err instanceof Error)) throw new Error(`a non-Error was thrown: ${String(err)}`);
    threw++;
  }
}
for (const obj of Object.values(live)) if (typeof obj.close === 'function') obj.close();
console.log(`fuzz ok: seed ${seed}, ${done} calls returned, ${threw} threw, cwd ${path.basename(process.cwd())}`);
// Pending async callbacks (waitAsync with a short timeout) finish on their own; nothing is ref'd.
