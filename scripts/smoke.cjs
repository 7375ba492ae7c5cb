// Loads an addon binary directly and makes a few real calls: used by .ci/run on the cmake-js
// build, and by the valgrind leak check (valgrind node scripts/smoke.cjs build/Release/addon.node).
'use strict';
const path = require('node:path');
const assert = require('node:assert');

const file = path.resolve(process.argv[2] || 'build/Release/addon.node');
const addon = require(file);
assert.strictEqual(typeof addon.constants.POLLIN, 'number');
const rounds = Number(process.argv[3] || 1);
for (let i = 0; i < rounds; i++) {
  if (typeof addon.pipe === 'function') {
    const [r, w] = addon.pipe(true);
    addon.write(w, Buffer.from('x'), 0, 1);
    const p = new addon.Poll();
    p.register(r, addon.constants.POLLIN);
    const pairs = new Int32Array(4);
    assert.strictEqual(p.pollInto(pairs, 0), 1);
    assert.deepStrictEqual(Array.from(pairs.subarray(0, 2)), [r, addon.constants.POLLIN]);
    const fds = Int32Array.of(r, w);
    assert.strictEqual(addon.select(fds, 1, 1, 0, 0, false), 2);
    if (addon.Epoll) {
      const ep = new addon.Epoll(-1, true);
      ep.register(r, addon.constants.EPOLLIN, 0);
      assert.deepStrictEqual(ep.poll(0, 4), [[r, addon.constants.EPOLLIN]]);
      // pollInto bound to its buffer (the selectors' hot path): one reference held, then freed.
      const records = new Int32Array(6);
      assert.strictEqual(ep.boundPollInto(3, records)(0), 1);
      assert.strictEqual(records[0], r);
      ep.close();
    }
    try { addon.close(-1); } catch (err) { assert.strictEqual(err.code, 'ERR_OUT_OF_RANGE'); }
    addon.close(r);
    addon.close(w);
  }
}
console.log(`smoke ok: ${path.relative(process.cwd(), file)} (${rounds} round${rounds === 1 ? '' : 's'})`);

// The asynchronous paths: the addon's own waiter thread, and epoll watched by Node's loop.
async function asyncRounds(n) {
  for (let i = 0; i < n; i++) {
    const [r, w] = addon.pipe(true);
    const waiter = new addon.Waiter();
    const pending = new Promise((resolve, reject) => {
      waiter.wait(0, Int32Array.of(r, addon.constants.POLLIN), 1, 1000, false, new Int32Array(4), (err, k) =>
        err ? reject(err) : resolve(k));
    });
    addon.write(w, Buffer.from('y'), 0, 1);
    assert.strictEqual(await pending, 1);
    waiter.close();
    if (addon.Epoll) {
      const ep = new addon.Epoll(-1, true);
      ep.register(r, addon.constants.EPOLLIN, 0);
      const events = await new Promise((resolve, reject) => {
        ep.waitAsync(1000, 8, (err, ev) => (err ? reject(err) : resolve(ev)));
      });
      assert.deepStrictEqual(events, [[r, addon.constants.EPOLLIN]]);
      const bound = ep.boundPollInto(2);
      assert.strictEqual(bound(new Int32Array(2), 0), 1);
      ep.close();
    }
    addon.close(r);
    addon.close(w);
  }
}
asyncRounds(Math.max(1, Math.floor(rounds / 10))).then(
  () => console.log('smoke ok: async paths'),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
