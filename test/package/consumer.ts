// A user's TypeScript, compiled by test/package/types.test.ts as CommonJS (.ts, .cts) and as an
// ES module (.mts) against the package's declarations. Not run: what it checks is types.
import {
  accept,
  close,
  connect,
  constants,
  createSelector,
  DefaultSelector,
  Epoll,
  EVENT_READ,
  EVENT_WRITE,
  FD_SETSIZE,
  isErrno,
  listen,
  localAddress,
  pipe,
  Poll,
  read,
  socketError,
  write,
  type BackendName,
  type ConstantName,
  type Constants,
  type ErrnoError,
  type SelectorEvent,
  type SelectorKey,
} from 'iomux';

type Handler = (key: SelectorKey<Handler>, events: number) => void;

export async function firstProgram(signal: AbortSignal): Promise<void> {
  const sel = new DefaultSelector<'server' | 'client'>();
  const server = listen({ host: '127.0.0.1', port: 0 });
  sel.register(server, EVENT_READ, 'server');
  const port: number = localAddress(server).port;
  const buf = Buffer.alloc(64 * 1024);
  for await (const [key, events] of sel.events({ signal })) {
    const data: 'server' | 'client' = key.data;
    if (data === 'server') {
      for (let c = accept(server); c !== null; c = accept(server)) sel.register(c.fd, EVENT_READ, 'client');
      continue;
    }
    const n: number | null = read(key.fd, buf);
    if (n !== null && n > 0 && (events & EVENT_READ) !== 0) write(key.fd, buf, 0, n);
  }
  const ready: Array<SelectorEvent<'server' | 'client'>> = await sel.selectAsync(100, { signal });
  const first = ready[0];
  // noUncheckedIndexedAccess: an entry may be missing.
  if (first !== undefined) console.log(first[0].fd, first[1], port);
  sel.close();
  close(server);
}

export function syncLoop(): string | null {
  const sel = createSelector();
  const backend: BackendName = sel.backend;
  const server = listen({ port: 0 });
  const client = connect({ port: localAddress(server).port });
  sel.register(server, EVENT_READ, 'server');
  sel.register(client, EVENT_WRITE, 'client');
  let reply: string | null = null;
  for (const [key, events] of sel.select(1000)) {
    if (key.data === 'client' && events & EVENT_WRITE && socketError(client) === null) reply = backend;
  }
  const handlers = new DefaultSelector<Handler>();
  handlers.register(server, EVENT_READ, (key, events) => console.log(key.fd, events));
  for (const [key, events] of handlers.select(0)) key.data(key, events);
  handlers.close();
  sel.close();
  return reply;
}

export function rawLayer(): number {
  const [r, w] = pipe({ nonblocking: true });
  const poller = new Poll();
  poller.register(r, constants.POLLIN);
  write(w, Buffer.from('hi'));
  const pairs: Array<[number, number]> = poller.poll(100);
  const out = new Int32Array(2 * 64);
  const n: number = poller.pollInto(out, 0);
  const fd: number | undefined = out[0];
  // Linux-only flags are typed number (Node's os.constants do the same): no `!` needed.
  const ep = new Epoll();
  ep.register(r, constants.EPOLLIN | constants.EPOLLET);
  ep.close();
  close(r);
  close(w);
  return n + pairs.length + (fd ?? 0) + FD_SETSIZE;
}

export function exactConstants(): void {
  const name: ConstantName = 'KQ_FILTER_READ';
  const all: Constants = constants;
  console.log(all[name]);
  // @ts-expect-error a misspelt constant does not compile
  console.log(constants.EPOLLINN);
  // @ts-expect-error the constants are read-only
  constants.POLLIN = 4;
}

export function errors(err: unknown): string | undefined {
  if (isErrno(err, 'EBADF')) {
    const e: ErrnoError = err;
    return `${e.code} ${e.errno} ${e.syscall}`;
  }
  return undefined;
}
