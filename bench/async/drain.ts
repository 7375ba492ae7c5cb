/**
 * What every wake-up loop of the async benchmarks shares: the load, the Mode shape, and the
 * reading and acking of the active socket, so that only the way of waiting differs.
 */
import { read, write } from '../../lib/fd';
import type { PingPongFixture } from './fixture';
import { MESSAGE_BYTES, type Recorder } from './recorder';

/** A wait that sees nothing for this long means the peer is gone: fail rather than hang. */
export const STALL_MS = 10_000;

/** The traffic on the active socket. */
export interface Load {
  /** Messages in flight: 1 is a strict ping-pong. */
  window: number;
  /**
   * Read one message per wake-up, so that the socket stays readable (window > 1), instead of
   * everything there is. Node's net path always reads everything (libuv reads up to 64 KiB).
   */
  oneMessage: boolean;
}

/** One way of waiting: runs the ping-pong until the recorder is done. */
export interface Mode {
  readonly name: string;
  /** What the mode measures, for the table's legend. */
  readonly label: string;
  /** Why the mode cannot run here, or null when it can. */
  unavailable(): string | null;
  /** Runs the loop; `ownsFds` is true when it closed the fixture's fds itself. */
  run(fixture: PingPongFixture, recorder: Recorder, load: Load): Promise<{ ownsFds: boolean }>;
}

/** Reads the active socket's messages and acks them, reusing its buffers. */
export class Drain {
  readonly #buf: Uint8Array;
  readonly #view: BigInt64Array;
  readonly #acks: Uint8Array;
  readonly #once: boolean;
  readonly #ackBatch: number;
  #unacked = 0;
  /** Messages the last read() got. */
  count = 0;

  /**
   * @param fd - the active socket.
   * @param window - messages in flight (the first ack).
   * @param oneMessage - read one message per wake-up and leave the rest readable.
   */
  constructor(
    private readonly fd: number,
    window: number,
    oneMessage: boolean,
  ) {
    this.#buf = new Uint8Array(oneMessage ? MESSAGE_BYTES : 4096);
    this.#view = new BigInt64Array(this.#buf.buffer);
    this.#once = oneMessage;
    // Acking every message would cost a loopback TCP send per wake-up, more than the wait
    // itself: with a window, acks go out in batches of a quarter window.
    this.#ackBatch = Math.max(1, window >> 2);
    this.#acks = new Uint8Array(Math.max(window, this.#buf.length / MESSAGE_BYTES)).fill(1);
  }

  /**
   * Reads what is there, as libuv does: one read(2), and another only when the buffer came
   * back full (never in one-message mode). Returns the newest message's stamp, or -1n when
   * nothing was there.
   */
  read(): bigint {
    let stamp = -1n;
    this.count = 0;
    for (;;) {
      const n = read(this.fd, this.#buf);
      if (n === null) break;
      if (n === 0) throw new Error('the peer closed the active socket');
      if (n % MESSAGE_BYTES !== 0) throw new Error(`partial message: ${n} bytes`);
      stamp = this.#view[n / MESSAGE_BYTES - 1];
      this.count += n / MESSAGE_BYTES;
      if (this.#once || n < this.#buf.length) break;
    }
    return stamp;
  }

  /** Writes `count` ack bytes: the peer answers each with one message. */
  ack(recorder: Recorder, count: number): void {
    recorder.acked();
    if (write(this.fd, this.#acks, 0, count) !== count) throw new Error('the acks did not fit the socket buffer');
  }

  /** Acks the messages read so far once a batch of them is due. */
  ackRead(recorder: Recorder): void {
    this.#unacked += this.count;
    if (this.#unacked < this.#ackBatch) return;
    this.ack(recorder, this.#unacked);
    this.#unacked = 0;
  }
}

/** Handles one readiness of the active socket; true when the run is over. */
export function onReadable(at: bigint, drain: Drain, recorder: Recorder): boolean {
  const stamp = drain.read();
  if (stamp < 0n) return false;
  recorder.wake(at, stamp, drain.count);
  if (recorder.done) return true;
  drain.ackRead(recorder);
  return false;
}
