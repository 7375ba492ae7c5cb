import { describe, expect, it } from 'vitest';
import { FdTable } from '../../lib/selectors/fd-table';

describe('FdTable', () => {
  it('maps fds to values with Map semantics, iterating in fd order', () => {
    const t = new FdTable<string>();
    expect(t.size).toBe(0);
    t.set(7, 'seven').set(2, 'two').set(40, 'forty');
    expect(t.size).toBe(3);
    expect(t.get(7)).toBe('seven');
    expect(t.has(3)).toBe(false);
    expect(t.get(1000)).toBeUndefined();
    t.set(7, 'SEVEN');
    expect(t.size).toBe(3);
    expect([...t.entries()]).toEqual([[2, 'two'], [7, 'SEVEN'], [40, 'forty']]);
    expect([...t.keys()]).toEqual([2, 7, 40]);
    expect([...t.values()]).toEqual(['two', 'SEVEN', 'forty']);
    expect(t.delete(7)).toBe(true);
    expect(t.delete(7)).toBe(false);
    expect(t.size).toBe(2);
    expect([...t.keys()]).toEqual([2, 40]);
    t.clear();
    expect(t.size).toBe(0);
    expect([...t.entries()]).toEqual([]);
  });

  it('keeps its count through many registrations and unregistrations of one fd', () => {
    const t = new FdTable<number>();
    for (let fd = 0; fd < 1000; fd++) t.set(fd, fd);
    for (let i = 0; i < 10_000; i++) {
      t.set(1000, i);
      expect(t.delete(1000)).toBe(true);
    }
    expect(t.size).toBe(1000);
    expect(t.has(1000)).toBe(false);
  });

  it('keeps fds past the dense bound in a sparse map, in fd order, and moves them in when the bound rises', () => {
    let bound = 1024;
    const t = new FdTable<string>(() => bound);
    t.set(2 ** 31 - 1, 'max').set(5000, 'high').set(3, 'low');
    expect(t.fitsDense(5000)).toBe(false);
    expect(t.size).toBe(3);
    expect([...t.entries()]).toEqual([[3, 'low'], [5000, 'high'], [2 ** 31 - 1, 'max']]);
    expect([...t.values()]).toEqual(['low', 'high', 'max']);
    bound = 8000;
    expect(t.fitsDense(5000)).toBe(true);
    expect(t.get(5000)).toBe('high');
    expect([...t.keys()]).toEqual([3, 5000, 2 ** 31 - 1]);
    expect(t.delete(2 ** 31 - 1)).toBe(true);
    expect(t.delete(2 ** 31 - 1)).toBe(false);
    expect(t.delete(5000)).toBe(true);
    expect(t.size).toBe(1);
  });
});
