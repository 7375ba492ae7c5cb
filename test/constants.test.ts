/** `constants` has exact keys: every name the addon exports on this platform is a declared ConstantName. */
import { describe, expect, it } from 'vitest';
import { native } from '../lib/binding';
import { CONSTANT_NAMES, constants } from '../lib/constants';

describe('constants', () => {
  it('declares every name the addon exports here', () => {
    const declared = new Set<string>(CONSTANT_NAMES);
    expect(Object.keys(native.constants).filter((name) => !declared.has(name))).toEqual([]);
  });

  it('holds exactly the addon constants, frozen', () => {
    expect({ ...constants }).toEqual(native.constants);
    expect(Object.isFrozen(constants)).toBe(true);
  });

  it('has the portable poll(2) bits on every platform', () => {
    for (const name of ['FD_SETSIZE', 'POLLIN', 'POLLPRI', 'POLLOUT', 'POLLERR', 'POLLHUP', 'POLLNVAL'] as const) {
      expect(typeof constants[name], name).toBe('number');
    }
  });
});
