/** The echo scenario's records: one per server x connections C x active connections A. */
export interface EchoRow {
  /**
   * 'iomux DefaultSelector', 'iomux selectAsync', 'iomux IoUringSelector' (Linux, where
   * io_uring works), 'node net', 'cpython selectors', 'c epoll'.
   */
  server: string;
  /** Open connections C. */
  conns: number;
  /** Connections with a message in flight A (the others stay idle). */
  active: number;
  /** Message size S in bytes. */
  size: number;
  /** Messages echoed (and checked) per second. */
  msgsPerSec: number;
  /** Round trip, send to last echoed byte, µs. */
  p50Us: number;
  p99Us: number;
  /** Server CPU time (user + system, from /proc/PID/stat or getrusage) per message, µs. */
  cpuUsPerMsg: number;
  /** Messages measured. */
  msgs: number;
}

/** The echo scenario's part of a run. */
export interface EchoInfo {
  rows: EchoRow[];
  /** How long the echo scenario took, s. */
  seconds: number;
  measureMs: number;
}
