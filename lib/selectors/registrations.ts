/**
 * What the tagged selectors (epoll, kqueue) share about their registrations: generation tags,
 * the record buffer sized to the registrations, and moving every registration to a new kernel
 * object.
 */
import type { SelectorKey } from './types';

/**
 * The tag after `last`, for a new registration. Each registration of the tagged selectors
 * (epoll, kqueue) gets one, kept in an fd -> tag FdTable and handed to the kernel, which gives
 * it back with each record (epoll's data.u64, kqueue's udata): a record of an older
 * registration of the same fd number (closed, reused, registered again) then never reaches the
 * newer key. Tags stay in [1, 2^31-1] so that they read back the same from an Int32Array.
 */
export function nextTag(last: number): number {
  return last >= 0x7fffffff ? 1 : last + 1;
}

/**
 * A record buffer with room for `records` records of `stride` int32s: buf itself when it has
 * room, else a new one of twice the records as often as needed (so growth is amortized).
 */
export function reserveRecords(buf: Int32Array, records: number, stride: number): Int32Array {
  if (buf.length >= records * stride) return buf;
  let room = Math.max(1, buf.length / stride);
  while (room < records) room *= 2;
  return new Int32Array(room * stride);
}

/**
 * Registers every key with a new kernel object, for a selector that has to leave its old one
 * behind. A key the new object refuses (its fd was closed since) is left out, as a kernel
 * drops the registration of a closed fd by itself.
 * @returns The new object.
 */
export function moveRegistrations<K, T>(make: () => K, keys: Iterable<SelectorKey<T>>, add: (kernel: K, key: SelectorKey<T>) => void): K {
  const fresh = make();
  for (const key of keys) {
    try {
      add(fresh, key);
    } catch {
      // Closed since it was registered: nothing to move.
    }
  }
  return fresh;
}
