/**
 * Progress on stderr without a dependency: one line redrawn in place on a terminal, and one
 * line per stage otherwise (CI logs), so that a long run shows where it is.
 */
export class Progress {
  #total = 0;
  #done = 0;
  #stage = '';
  #last = 0;
  constructor(readonly stream: NodeJS.WriteStream) {}

  start(total: number): void {
    this.#total = total;
  }

  /** A job of a stage finished. */
  step(stage: string, task: string): void {
    this.#done++;
    this.#show(stage, task);
  }

  /** Something under way that is not a counted step (opening sockets, the echo scenario). */
  note(stage: string, task: string): void {
    this.#show(stage, task);
  }

  #show(stage: string, task: string): void {
    const text = `${this.#done}/${this.#total} | ${stage} | ${task}`;
    if (this.stream.isTTY) {
      const now = Date.now();
      if (now - this.#last < 100 && stage === this.#stage) return;
      this.#last = now;
      this.stream.write(`\r${text.slice(0, (this.stream.columns ?? 100) - 1).padEnd((this.stream.columns ?? 100) - 1)}`);
    } else if (stage !== this.#stage) {
      this.stream.write(`${text}\n`);
    }
    this.#stage = stage;
  }

  stop(): void {
    if (this.stream.isTTY) this.stream.write(`\r${' '.repeat((this.stream.columns ?? 100) - 1)}\r`);
  }
}
