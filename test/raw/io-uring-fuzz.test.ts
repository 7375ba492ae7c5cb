/**
 * IoUring under random registrations, changes, closes with fd reuse, tiny rings and waits
 * (issue 15): every record reported must belong to the fd's current registration (its tag),
 * whatever happened to older ones, and the process must stay healthy. `npm run test:sanitize`
 * runs it against the ASan build too.
 */
import { describe, expect, it } from 'vitest';
import { native, type NativeIoUring } from '../../lib/binding';
import { ioUringSupport } from '../../lib/io-uring-support';
import { close, read, socketpair, write } from '../../lib/fd';

const support = ioUringSupport();
const { POLLIN, POLLOUT, POLLNVAL } = native.constants;
const MASKS = [POLLIN, POLLOUT, POLLIN | POLLOUT];

function run(seed: number, steps: number): { reported: number; checked: number } {
  let s = seed;
  const rnd = (n: number): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % n;
  };
  const make = (): NativeIoUring => new native.IoUring!(1 + rnd(8), rnd(2) === 0);
  let ring = make();
  let pairs = Array.from({ length: 32 }, () => socketpair({ nonblocking: true }));
  /** fd -> the tag and mask of its current registration in `ring`. */
  let model = new Map<number, { tag: number; events: number }>();
  let tag = 0;
  const out = new Int32Array(3 * 16);
  let reported = 0;
  let checked = 0;
  try {
    for (let i = 0; i < steps; i++) {
      const k = rnd(pairs.length);
      const [a, b] = pairs[k];
      const op = rnd(9);
      if (op === 0 && !model.has(a)) {
        const events = MASKS[rnd(3)];
        ring.register(a, events, ++tag);
        model.set(a, { tag, events });
      } else if (op === 1 && model.has(a)) {
        const events = MASKS[rnd(3)];
        ring.modify(a, events, ++tag);
        model.set(a, { tag, events });
      } else if (op === 2 && model.has(a)) {
        ring.unregister(a);
        model.delete(a);
      } else if (op === 3) {
        write(b, Buffer.from('x'));
      } else if (op === 4) {
        read(a, new Uint8Array(64));
      } else if (op === 5 && rnd(6) === 0) {
        // Closed while registered: its number comes back with the next socketpair.
        if (model.has(a)) {
          ring.unregister(a);
          model.delete(a);
        }
        close(a);
        close(b);
        pairs[k] = socketpair({ nonblocking: true });
      } else if (op === 6 && rnd(40) === 0) {
        ring.close();
        ring = make();
        model = new Map();
      } else {
        const n = ring.pollInto(out, 0, 3);
        for (let r = 0; r < n; r++) {
          const [fd, revents, got] = [out[3 * r], out[3 * r + 1], out[3 * r + 2]];
          const reg = model.get(fd);
          expect(reg, `record for fd ${fd} with no registration`).toBeDefined();
          expect(got).toBe(reg!.tag);
          expect(revents & POLLNVAL).toBe(0);
          checked++;
        }
        reported += n;
      }
    }
  } finally {
    ring.close();
    for (const [a, b] of pairs) {
      close(a);
      close(b);
    }
    pairs = [];
  }
  return { reported, checked };
}

describe.skipIf(!support.available)('IoUring random operations', () => {
  it.each([1, 2, 3, 4])('seed %i: every record belongs to the current registration', (seed) => {
    const { reported, checked } = run(seed * 7919, 6000);
    expect(checked).toBe(reported);
    expect(reported).toBeGreaterThan(100);
  });
});
