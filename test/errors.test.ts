/**
 * One table of bad inputs across the raw API: each gives its documented error class and code,
 * and the process is still healthy afterwards (a native addon crashed from JS is a security bug).
 */
import fs from 'node:fs';
import { getSystemErrorName } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { native } from '../lib/binding';
import { constants } from '../lib/constants';
import { close, dup2, pipe, read, setNonBlocking, setNofileLimit, write } from '../lib/fd';
import { Epoll } from '../lib/epoll';
import { KEvent, Kqueue } from '../lib/kqueue';
import { Poll } from '../lib/poll';
import { select } from '../lib/select';
import os from 'node:os';
import path from 'node:path';
import { PollSelector } from '../lib/selectors/poll';
import { fdFlags } from './helpers/fds';
import { accept, connect, listen, localAddress, shutdown, socketError, SpareFd } from '../lib/socket';
import { remoteAddress } from '../lib/socket';
import { getsockopt, setsockopt } from '../lib/sockopt';
import { bindUdp, recvFrom, sendTo, udpSocket } from '../lib/udp';
import { IOV_MAX, readv, writev } from '../lib/iovec';

const [r, w] = pipe({ nonblocking: true });
// A number that is not open and that the kernel will not hand out during this file: it gives
// the lowest free number to each new fd, and this one is far above them.
// dup2 then close, so that the number lies inside the fd table (Linux select() silently ignores
// fds past the table's end instead of failing with EBADF).
let closedFd = 4000;
while (fdFlags(closedFd) !== undefined) closedFd++;
close(dup2(r, closedFd));
afterAll(() => {
  close(r);
  close(w);
});

const throwing = { fileno: () => { throw new Error('fileno failed'); } };
// A getter and a Proxy trap that throw: their error passes through, as a throwing fileno() does.
const throwingGetter = { get fileno(): () => number { throw new Error('fileno failed'); } };
const throwingProxy = new Proxy({}, { get: () => { throw new Error('fileno failed'); }, has: () => true });

/** A typed array whose memory was transferred away (as to a worker). */
function detached<T extends ArrayBufferView>(view: T): T {
  structuredClone(view.buffer, { transfer: [view.buffer as ArrayBuffer] });
  return view;
}
const detachedInts = detached(new Int32Array([0, 1]));
const detachedBytes = detached(new Uint8Array(8));

// A path with a lone surrogate would name 'x\uFFFDy' once encoded: the old code bound that file.
const surrogatePath = path.join(os.tmpdir(), `iomux-errors-${process.pid}-x\uD800y`);
afterAll(() => fs.rmSync(surrogatePath.replace('\uD800', '\uFFFD'), { force: true }));
const spare = new SpareFd();
afterAll(() => spare.close());
const sel = new PollSelector();
afterAll(() => sel.close());
const stringy = { fileno: () => '3' };
const negative = { fileno: () => -1 };
const fractional = { fd: 1.5 };
const poll = new Poll();
poll.register(r, constants.POLLIN);

type Case = [name: string, fn: () => unknown, cls: ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor, code: string];

const T = TypeError;
const R = RangeError;
const E = Error;

const cases: Case[] = [
  // select()
  ['select(rlist "abc" string items)', () => select(['3' as unknown as number], [], []), T, 'ERR_INVALID_ARG_TYPE'],
  ['select(rlist not iterable)', () => select(5 as unknown as number[], [], []), T, 'ERR_INVALID_ARG_TYPE'],
  ['select(rlist null)', () => select(null as unknown as number[], [], []), T, 'ERR_INVALID_ARG_TYPE'],
  ['select([-1])', () => select([-1], [], [], 0), R, 'ERR_OUT_OF_RANGE'],
  ['select([1.5])', () => select([1.5], [], [], 0), R, 'ERR_OUT_OF_RANGE'],
  ['select([NaN])', () => select([NaN], [], [], 0), R, 'ERR_OUT_OF_RANGE'],
  ['select([2**40])', () => select([2 ** 40], [], [], 0), R, 'ERR_OUT_OF_RANGE'],
  ['select([fileno() throws])', () => select([throwing], [], [], 0), E, ''],
  ['select([fileno() returns a string])', () => select([stringy as never], [], [], 0), T, 'ERR_INVALID_ARG_TYPE'],
  ['select([fileno() returns -1])', () => select([negative], [], [], 0), R, 'ERR_OUT_OF_RANGE'],
  ['select([{ fd: 1.5 }])', () => select([fractional], [], [], 0), R, 'ERR_OUT_OF_RANGE'],
  ['select([{}])', () => select([{} as never], [], [], 0), T, 'ERR_INVALID_ARG_TYPE'],
  ['select timeout -1', () => select([r], [], [], -1), R, 'ERR_OUT_OF_RANGE'],
  ['select timeout NaN', () => select([r], [], [], NaN), R, 'ERR_OUT_OF_RANGE'],
  ['select timeout 2**31', () => select([r], [], [], 2 ** 31), R, 'ERR_OUT_OF_RANGE'],
  ['select timeout Infinity', () => select([r], [], [], Infinity), R, 'ERR_OUT_OF_RANGE'],
  ['select timeout "1"', () => select([r], [], [], '1' as unknown as number), T, 'ERR_INVALID_ARG_TYPE'],
  ['select fd >= FD_SETSIZE', () => select([constants.FD_SETSIZE], [], [], 0), R, 'ERR_FD_SETSIZE'],
  ['select closed fd', () => select([closedFd], [], [], 0, { allowLargeFds: true }), E, 'EBADF'],
  ['select(detached Int32Array as rlist)', () => select(detachedInts as unknown as number[], [], [], 0), E, 'ERR_INVALID_ARG_VALUE'],
  ['select(detached Int32Array as wlist)', () => select([], detachedInts as unknown as number[], [], 0), E, 'ERR_INVALID_ARG_VALUE'],
  ['select([getter fileno throws])', () => select([throwingGetter as never], [], [], 0), E, ''],
  ['select([Proxy whose get throws])', () => select([throwingProxy as never], [], [], 0), E, ''],
  ['select([Infinity])', () => select([Infinity], [], [], 0), R, 'ERR_OUT_OF_RANGE'],
  ['select timeout 1e300', () => select([r], [], [], 1e300), R, 'ERR_OUT_OF_RANGE'],
  ['select options.allowLargeFds "yes"', () => select([r], [], [], 0, { allowLargeFds: 'yes' as never }), T, 'ERR_INVALID_ARG_TYPE'],
  ['native.select fds not Int32Array', () => native.select([1] as unknown as Int32Array, 1, 0, 0, 0, false), T, 'ERR_INVALID_ARG_TYPE'],
  ['native.select counts past the array', () => native.select(new Int32Array(1), 5, 0, 0, 0, false), R, 'ERR_OUT_OF_RANGE'],
  ['native.select large fd without large', () => native.select(Int32Array.of(5000), 1, 0, 0, 0, false), R, 'ERR_OUT_OF_RANGE'],
  // Poll
  ['Poll.register("3")', () => poll.register('3' as unknown as number), T, 'ERR_INVALID_ARG_TYPE'],
  ['Poll.register(-1)', () => poll.register(-1), R, 'ERR_OUT_OF_RANGE'],
  ['Poll.register(fd, unknown bits)', () => poll.register(r, 1 << 20), R, 'ERR_OUT_OF_RANGE'],
  ['Poll.register(fd, 1.5)', () => poll.register(r, 1.5), R, 'ERR_OUT_OF_RANGE'],
  ['Poll.modify(unregistered)', () => poll.modify(w, constants.POLLIN), E, 'ERR_NOT_REGISTERED'],
  ['Poll.unregister(unregistered)', () => poll.unregister(w), E, 'ERR_NOT_REGISTERED'],
  ['Poll.poll(NaN)', () => poll.poll(NaN), R, 'ERR_OUT_OF_RANGE'],
  ['Poll.poll("0")', () => poll.poll('0' as unknown as number), T, 'ERR_INVALID_ARG_TYPE'],
  ['Poll.pollInto(empty Int32Array)', () => poll.pollInto(new Int32Array(0), 0), R, 'ERR_OUT_OF_RANGE'],
  ['Poll.pollInto(odd length)', () => poll.pollInto(new Int32Array(3), 0), R, 'ERR_OUT_OF_RANGE'],
  ['Poll.pollInto(Uint32Array)', () => poll.pollInto(new Uint32Array(2) as unknown as Int32Array, 0), T, 'ERR_INVALID_ARG_TYPE'],
  ['Poll.pollInto([])', () => poll.pollInto([] as unknown as Int32Array, 0), T, 'ERR_INVALID_ARG_TYPE'],
  ['Poll.pollInto(detached Int32Array)', () => poll.pollInto(detached(new Int32Array(4)), 0), E, 'ERR_INVALID_ARG_VALUE'],
  ['Poll.register(fd, 0x10000)', () => poll.register(r, 0x10000), R, 'ERR_OUT_OF_RANGE'],
  ['Poll.register(fd, -1)', () => poll.register(r, -1), R, 'ERR_OUT_OF_RANGE'],
  ['Poll.register(fd, NaN)', () => poll.register(r, NaN), R, 'ERR_OUT_OF_RANGE'],
  ['Poll.modify(fd, Infinity)', () => poll.modify(r, Infinity), R, 'ERR_OUT_OF_RANGE'],
  ['Poll.register({ fd: Proxy getter throws })', () => poll.register(throwingProxy as never), E, ''],
  ['Poll.poll(1e300)', () => poll.poll(1e300), R, 'ERR_OUT_OF_RANGE'],
  // selectors
  ['PollSelector.register(fd, NaN)', () => sel.register(r, NaN), R, 'ERR_OUT_OF_RANGE'],
  ['PollSelector.register(fd, Infinity)', () => sel.register(r, Infinity), R, 'ERR_OUT_OF_RANGE'],
  ['PollSelector.register(2**31, READ)', () => sel.register(2 ** 31, 1), R, 'ERR_OUT_OF_RANGE'],
  ['PollSelector.register(closed 2**31-1, READ)', () => sel.register(2 ** 31 - 1, 1), E, 'EBADF'],
  ['PollSelector.register(getter fileno throws)', () => sel.register(throwingGetter as never, 1), E, ''],
  ['PollSelector.select(1e300)', () => sel.select(1e300), R, 'ERR_OUT_OF_RANGE'],
  ['PollSelector.select(NaN)', () => sel.select(NaN), R, 'ERR_OUT_OF_RANGE'],
  // fd helpers
  ['close(-1)', () => close(-1), R, 'ERR_OUT_OF_RANGE'],
  ['close({})', () => close({} as unknown as number), T, 'ERR_INVALID_ARG_TYPE'],
  ['close(closed fd)', () => close(closedFd), E, 'EBADF'],
  ['read(closed fd)', () => read(closedFd, Buffer.alloc(1)), E, 'EBADF'],
  ['read(fd, "buf")', () => read(r, 'buf' as unknown as Uint8Array), T, 'ERR_INVALID_ARG_TYPE'],
  ['read(fd, buf, -1)', () => read(r, Buffer.alloc(1), -1), R, 'ERR_OUT_OF_RANGE'],
  ['write(fd, buf, 0, 99)', () => write(w, Buffer.alloc(1), 0, 99), R, 'ERR_OUT_OF_RANGE'],
  ['write(read end)', () => write(r, Buffer.alloc(1)), E, 'EBADF'],
  ['setNonBlocking(fd, "yes")', () => setNonBlocking(r, 'yes' as unknown as boolean), T, 'ERR_INVALID_ARG_TYPE'],
  ['dup2(closed, 900)', () => dup2(closedFd, 900), E, 'EBADF'],
  ['read(fd, detached buffer)', () => read(r, detachedBytes), E, 'ERR_INVALID_ARG_VALUE'],
  ['write(fd, detached buffer)', () => write(w, detachedBytes), E, 'ERR_INVALID_ARG_VALUE'],
  ['read(fd, buf, NaN)', () => read(r, Buffer.alloc(1), NaN), R, 'ERR_OUT_OF_RANGE'],
  ['write(fd, buf, 0, Infinity)', () => write(w, Buffer.alloc(1), 0, Infinity), R, 'ERR_OUT_OF_RANGE'],
  ['close(NaN)', () => close(NaN), R, 'ERR_OUT_OF_RANGE'],
  ['close(1e300)', () => close(1e300), R, 'ERR_OUT_OF_RANGE'],
  ['setNofileLimit(1e300)', () => setNofileLimit(1e300), R, 'ERR_OUT_OF_RANGE'],
  ['pipe({ nonblocking: 1 })', () => pipe({ nonblocking: 1 as never }), T, 'ERR_INVALID_ARG_TYPE'],
  ['setNofileLimit(NaN)', () => setNofileLimit(NaN), R, 'ERR_OUT_OF_RANGE'],
  ['pipe("x")', () => pipe('x' as never), T, 'ERR_INVALID_ARG_TYPE'],
  // socket helpers
  ['listen({ port: -1 })', () => listen({ port: -1 }), R, 'ERR_OUT_OF_RANGE'],
  ['listen({ port: 65536 })', () => listen({ port: 65536 }), R, 'ERR_OUT_OF_RANGE'],
  ['listen({ port: "80" })', () => listen({ port: '80' as unknown as number }), T, 'ERR_INVALID_ARG_TYPE'],
  ['listen({ host: "not an ip", port: 0 })', () => listen({ host: 'not an ip', port: 0 }), E, 'ERR_INVALID_ARG_VALUE'],
  ['listen({ path: "" })', () => listen({ path: '' }), E, 'ERR_INVALID_ARG_VALUE'],
  ['listen(null)', () => listen(null as never), T, 'ERR_INVALID_ARG_TYPE'],
  ['connect({ host: 1, port: 1 })', () => connect({ host: 1 as unknown as string, port: 1 }), T, 'ERR_INVALID_ARG_TYPE'],
  ['accept(pipe fd)', () => accept(r), E, 'ENOTSOCK'],
  ['socketError(closed fd)', () => socketError(closedFd), E, 'EBADF'],
  ['localAddress(pipe fd)', () => localAddress(r), E, 'ENOTSOCK'],
  ['shutdown(fd, "sideways")', () => shutdown(r, 'sideways' as never), E, 'ERR_INVALID_ARG_VALUE'],
  ['connect({ host: "::1%-1" })', () => connect({ host: '::1%-1', port: 1 }), E, 'ERR_INVALID_ARG_VALUE'],
  ['connect({ host: "::1%0" })', () => connect({ host: '::1%0', port: 1 }), E, 'ERR_INVALID_ARG_VALUE'],
  ['connect({ host: "::1%4294967296" })', () => connect({ host: '::1%4294967296', port: 1 }), E, 'ERR_INVALID_ARG_VALUE'],
  ['connect({ host: "::1%nosuchif0" })', () => connect({ host: '::1%nosuchif0', port: 1 }), E, 'ERR_INVALID_ARG_VALUE'],
  ['listen({ host: "::1%-1" })', () => listen({ host: '::1%-1', port: 0 }), E, 'ERR_INVALID_ARG_VALUE'],
  ['listen({ path: lone surrogate })', () => listen({ path: surrogatePath }), E, 'ERR_INVALID_ARG_VALUE'],
  ['connect({ path: lone surrogate })', () => connect({ path: '\uDC00' }), E, 'ERR_INVALID_ARG_VALUE'],
  ['listen({ path: 50M chars })', () => listen({ path: 'x'.repeat(5e7) }), E, 'ENAMETOOLONG'],
  ['listen({ host: 10M chars })', () => listen({ host: 'x'.repeat(1e7), port: 0 }), E, 'ERR_INVALID_ARG_VALUE'],
  ['listen({ port: NaN })', () => listen({ port: NaN }), R, 'ERR_OUT_OF_RANGE'],
  ['listen({ port: 0 }, Infinity)', () => listen({ port: 0 }, Infinity), R, 'ERR_OUT_OF_RANGE'],
  ['connect({ port: -0 })', () => connect({ port: -0 }), R, 'ERR_OUT_OF_RANGE'],
  ['SpareFd.accept(-1)', () => spare.accept(-1), R, 'ERR_OUT_OF_RANGE'],
  ['SpareFd.accept(pipe fd)', () => spare.accept(r), E, 'ENOTSOCK'],
  // kqueue
  ['new KEvent("x")', () => new KEvent('x' as unknown as number), T, 'ERR_INVALID_ARG_TYPE'],
  ['new KEvent(1, filter 1.5)', () => new KEvent(1, 1.5), R, 'ERR_OUT_OF_RANGE'],
  ['new KEvent(1, flags 0x10000)', () => new KEvent(1, constants.KQ_FILTER_READ ?? -1, 0x10000), R, 'ERR_OUT_OF_RANGE'],
];
// Servers: socket options, listen options, UDP, vectored I/O (issue 14).
const udp = udpSocket('ipv4');
const tcp = listen({ port: 0 });
afterAll(() => {
  close(udp);
  close(tcp);
});
const SOL = constants.SOL_SOCKET;
const one = Buffer.alloc(1);
cases.push(
  ['setsockopt(fd, SOL_SOCKET, 12345, 1) unknown option', () => setsockopt(udp, SOL, 12345, 1), E, 'ERR_INVALID_ARG_VALUE'],
  ['setsockopt(fd, 9999, SO_REUSEADDR) unknown level', () => setsockopt(udp, 9999, constants.SO_REUSEADDR, true), E, 'ERR_INVALID_ARG_VALUE'],
  ['getsockopt(fd, SOL_SOCKET, -5) unknown option', () => getsockopt(udp, SOL, -5), E, 'ERR_INVALID_ARG_VALUE'],
  ['setsockopt(fd, "1", ...) level not a number', () => setsockopt(udp, '1' as never, constants.SO_REUSEADDR, true), T, 'ERR_INVALID_ARG_TYPE'],
  ['setsockopt(fd, SOL_SOCKET, 1.5) name not an integer', () => setsockopt(udp, SOL, 1.5, true), R, 'ERR_OUT_OF_RANGE'],
  ['setsockopt(-1, ...)', () => setsockopt(-1, SOL, constants.SO_REUSEADDR, true), R, 'ERR_OUT_OF_RANGE'],
  ['setsockopt(SO_REUSEADDR, "yes")', () => setsockopt(udp, SOL, constants.SO_REUSEADDR, 'yes' as never), T, 'ERR_INVALID_ARG_TYPE'],
  ['setsockopt(SO_RCVBUF, true)', () => setsockopt(udp, SOL, constants.SO_RCVBUF, true), T, 'ERR_INVALID_ARG_TYPE'],
  ['setsockopt(SO_RCVBUF, -1)', () => setsockopt(udp, SOL, constants.SO_RCVBUF, -1), R, 'ERR_OUT_OF_RANGE'],
  ['setsockopt(SO_RCVBUF, 2**31)', () => setsockopt(udp, SOL, constants.SO_RCVBUF, 2 ** 31), R, 'ERR_OUT_OF_RANGE'],
  ['setsockopt(SO_LINGER, 5)', () => setsockopt(udp, SOL, constants.SO_LINGER, 5), T, 'ERR_INVALID_ARG_TYPE'],
  ['setsockopt(SO_LINGER, { onoff: 1 })', () => setsockopt(udp, SOL, constants.SO_LINGER, { onoff: 1, linger: 0 } as never), T, 'ERR_INVALID_ARG_TYPE'],
  ['setsockopt(SO_LINGER, linger -1)', () => setsockopt(udp, SOL, constants.SO_LINGER, { onoff: true, linger: -1 }), R, 'ERR_OUT_OF_RANGE'],
  ['setsockopt(SO_ERROR) read-only', () => setsockopt(udp, SOL, constants.SO_ERROR, 0), E, 'ERR_INVALID_ARG_VALUE'],
  ['setsockopt(pipe fd, SO_REUSEADDR)', () => setsockopt(r, SOL, constants.SO_REUSEADDR, true), E, 'ENOTSOCK'],
  ['getsockopt(closed fd, SO_RCVBUF)', () => getsockopt(closedFd, SOL, constants.SO_RCVBUF), E, 'EBADF'],
  ['getsockopt(pipe fd, SO_LINGER)', () => getsockopt(r, SOL, constants.SO_LINGER), E, 'ENOTSOCK'],
  ['native.setsockoptInt(fd, 1, 2, "x")', () => native.setsockoptInt(udp, 1, 2, 'x' as never), T, 'ERR_INVALID_ARG_TYPE'],
  ['listen(addr, "16")', () => listen({ port: 0 }, '16' as never), T, 'ERR_INVALID_ARG_TYPE'],
  ['listen(addr, { backlog: -1 })', () => listen({ port: 0 }, { backlog: -1 }), R, 'ERR_OUT_OF_RANGE'],
  ['listen(addr, { reusePort: 1 })', () => listen({ port: 0 }, { reusePort: 1 as never }), T, 'ERR_INVALID_ARG_TYPE'],
  ['listen(addr, { ipv6Only: "no" })', () => listen({ port: 0 }, { ipv6Only: 'no' as never }), T, 'ERR_INVALID_ARG_TYPE'],
  ['remoteAddress(listener)', () => remoteAddress(tcp), E, 'ENOTCONN'],
  ['remoteAddress("3")', () => remoteAddress('3' as never), T, 'ERR_INVALID_ARG_TYPE'],
  ['udpSocket("ipx")', () => udpSocket('ipx' as never), E, 'ERR_INVALID_ARG_VALUE'],
  ['udpSocket(4)', () => udpSocket(4 as never), T, 'ERR_INVALID_ARG_TYPE'],
  ['native.udpSocket(3)', () => native.udpSocket(3), R, 'ERR_OUT_OF_RANGE'],
  ['bindUdp({ port: 70000 })', () => bindUdp({ port: 70000 }), R, 'ERR_OUT_OF_RANGE'],
  ['bindUdp({ host: "example.com", port: 0 })', () => bindUdp({ host: 'example.com', port: 0 }), E, 'ERR_INVALID_ARG_VALUE'],
  ['bindUdp({ path: "a\\0b" })', () => bindUdp({ path: 'a\0b' }), E, 'ERR_INVALID_ARG_VALUE'],
  ['bindUdp(undefined)', () => bindUdp(undefined as never), T, 'ERR_INVALID_ARG_TYPE'],
  ['sendTo(fd, "str", addr)', () => sendTo(udp, 'str' as never, { host: '127.0.0.1', port: 9 }), T, 'ERR_INVALID_ARG_TYPE'],
  ['sendTo(fd, buf, { port: 0 })', () => sendTo(udp, one, { host: '127.0.0.1', port: 0 }), R, 'ERR_OUT_OF_RANGE'],
  ['sendTo(fd, buf, { address: 5 })', () => sendTo(udp, one, { address: 5 as never, port: 9 }), T, 'ERR_INVALID_ARG_TYPE'],
  ['sendTo(fd, buf, { address: "" })', () => sendTo(udp, one, { address: '', port: 0 }), E, 'ERR_INVALID_ARG_VALUE'],
  ['sendTo(fd, buf, addr, 2)', () => sendTo(udp, one, { host: '127.0.0.1', port: 9 }, 2), R, 'ERR_OUT_OF_RANGE'],
  ['sendTo(pipe fd, ...)', () => sendTo(w, one, { host: '127.0.0.1', port: 9 }), E, 'ENOTSOCK'],
  ['native.sendTo(fd, buf, 0, 1, "bogus", 9)', () => native.sendTo(udp, one, 0, 1, 'bogus', 9), E, 'ERR_INVALID_ARG_VALUE'],
  ['recvFrom(fd, buf, 0, 5)', () => recvFrom(udp, one, 0, 5), R, 'ERR_OUT_OF_RANGE'],
  ['recvFrom(fd, null)', () => recvFrom(udp, null as never), T, 'ERR_INVALID_ARG_TYPE'],
  ['recvFrom(closed fd)', () => recvFrom(closedFd, one), E, 'EBADF'],
  ['recvFrom(pipe fd)', () => recvFrom(r, one), E, 'ENOTSOCK'],
  ['readv(fd, "buf")', () => readv(r, 'buf' as never), T, 'ERR_INVALID_ARG_TYPE'],
  ['readv(fd, [buf, "x"])', () => readv(r, [one, 'x' as never]), T, 'ERR_INVALID_ARG_TYPE'],
  ['readv(fd, [new Uint16Array(2)])', () => readv(r, [new Uint16Array(2) as never]), T, 'ERR_INVALID_ARG_TYPE'],
  ['writev(fd, IOV_MAX + 1 buffers)', () => writev(w, new Array(IOV_MAX + 1).fill(one)), R, 'ERR_OUT_OF_RANGE'],
  ['writev(closed fd, [buf])', () => writev(closedFd, [one]), E, 'EBADF'],
  ['writev(read end, [buf])', () => writev(r, [one]), E, 'EBADF'],
  ['readv(1.5, [buf])', () => readv(1.5, [one]), R, 'ERR_OUT_OF_RANGE'],
  ['native.writev(fd, [{}])', () => native.writev(w, [{} as never]), T, 'ERR_INVALID_ARG_TYPE'],
);
if (native.has.epoll) {
  const ep = new Epoll();
  const closedEp = new Epoll();
  closedEp.close();
  afterAll(() => ep.close());
  const file = fs.openSync(__filename, 'r');
  afterAll(() => fs.closeSync(file));
  cases.push(
    ['new Epoll({ sizehint: 0 })', () => new Epoll({ sizehint: 0 }), R, 'ERR_OUT_OF_RANGE'],
    ['new Epoll({ sizehint: "1" })', () => new Epoll({ sizehint: '1' as unknown as number }), T, 'ERR_INVALID_ARG_TYPE'],
    ['new Epoll({ cloexec: 1 })', () => new Epoll({ cloexec: 1 as unknown as boolean }), T, 'ERR_INVALID_ARG_TYPE'],
    ['Epoll.fromFd(-1)', () => Epoll.fromFd(-1), R, 'ERR_OUT_OF_RANGE'],
    ['Epoll.register(regular file)', () => ep.register(file), E, 'EPERM'],
    ['Epoll.register(closed fd)', () => ep.register(closedFd), E, 'EBADF'],
    ['Epoll.register(fd, unknown bits)', () => ep.register(r, 1 << 20), R, 'ERR_OUT_OF_RANGE'],
    ['Epoll.modify(unregistered)', () => ep.modify(w, constants.EPOLLIN), E, 'ENOENT'],
    ['Epoll.unregister(unregistered)', () => ep.unregister(w), E, 'ENOENT'],
    ['Epoll.poll(0, 0)', () => ep.poll(0, 0), R, 'ERR_OUT_OF_RANGE'],
    ['Epoll.poll(0, 2**40)', () => ep.poll(0, 2 ** 40), R, 'ERR_OUT_OF_RANGE'],
    ['Epoll.poll(NaN)', () => ep.poll(NaN), R, 'ERR_OUT_OF_RANGE'],
    ['Epoll.pollInto(new Int32Array(0))', () => ep.pollInto(new Int32Array(0)), R, 'ERR_OUT_OF_RANGE'],
    ['Epoll.pollInto(detached Int32Array)', () => ep.pollInto(detached(new Int32Array(4))), E, 'ERR_INVALID_ARG_VALUE'],
    ['closed Epoll.poll()', () => closedEp.poll(0), E, 'ERR_CLOSED'],
    ['closed Epoll.register()', () => closedEp.register(r), E, 'ERR_CLOSED'],
    ['closed Epoll.fileno()', () => closedEp.fileno(), E, 'ERR_CLOSED'],
  );
} else {
  cases.push(['new Epoll() without epoll', () => new Epoll(), E, 'ERR_NOT_SUPPORTED']);
}
if (!native.has.kqueue) {
  cases.push(['new Kqueue() without kqueue', () => new Kqueue(), E, 'ERR_NOT_SUPPORTED']);
}

describe('bad inputs give their documented errors', () => {
  it('the table has at least 40 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(cases)('%s', (_name, fn, cls, code) => {
    let caught: unknown;
    try {
      fn();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(cls);
    const err = caught as NodeJS.ErrnoException;
    if (code === '') {
      expect(err.message).toBe('fileno failed'); // fileno()'s own error passes through
    } else {
      expect(err.code).toBe(code);
    }
    if (typeof err.errno === 'number') {
      expect(getSystemErrorName(err.errno)).toBe(err.code);
      expect(err.message).toMatch(new RegExp(`^${err.code}: .+, ${err.syscall}$`));
    }
  });

  it('reads each FileLike property once: a getter that changes its answer cannot slip past the check', () => {
    let reads = 0;
    const flippingFd = { get fd(): number { return reads++ === 0 ? r : ('x' as never); } };
    expect(select([flippingFd], [], [], 0)).toEqual([[], [], []]);
    let calls = 0;
    const flippingFileno = { get fileno(): () => number { return calls++ === 0 ? () => r : ('x' as never); } };
    expect(select([flippingFileno], [], [], 0)).toEqual([[], [], []]);
    expect([reads, calls]).toEqual([1, 1]);
  });

  it('leaves the process healthy', () => {
    expect(write(w, Buffer.from('ok'))).toBe(2);
    expect(select([r], [], [], 1000)).toEqual([[r], [], []]);
    expect(poll.poll(0)).toEqual([[r, constants.POLLIN]]);
    const buf = Buffer.alloc(2);
    expect(read(r, buf)).toBe(2);
    expect(buf.toString()).toBe('ok');
  });
});
