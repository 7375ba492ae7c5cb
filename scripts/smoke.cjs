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
    assert.deepStrictEqual(p.poll(0), [[r, addon.constants.POLLIN]]);
    const fds = Int32Array.of(r, w);
    assert.strictEqual(addon.select(fds, 1, 1, 0, 0, false), 2);
    if (addon.Epoll) {
      const ep = new addon.Epoll(-1, true);
      ep.register(r, addon.constants.EPOLLIN, 0);
      assert.deepStrictEqual(ep.poll(0, 4), [[r, addon.constants.EPOLLIN]]);
      ep.close();
    }
    try { addon.close(-1); } catch (err) { assert.strictEqual(err.code, 'ERR_OUT_OF_RANGE'); }
    addon.close(r);
    addon.close(w);
  }
}
console.log(`smoke ok: ${path.relative(process.cwd(), file)} (${rounds} round${rounds === 1 ? '' : 's'})`);
