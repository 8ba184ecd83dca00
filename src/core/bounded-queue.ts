/**
 * At most `concurrency` tasks run at once; up to `maxWaiting` more wait their turn, first come
 * first served; past that the queue is full and the caller is told so at once instead of the
 * line (and the memory it holds) growing without end.
 */
export class BoundedQueue {
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(
    readonly concurrency: number,
    readonly maxWaiting: number,
  ) {
    if (!(concurrency >= 1) || !(maxWaiting >= 0)) throw new RangeError('BoundedQueue: concurrency must be at least 1 and maxWaiting at least 0');
  }

  /** True when a task handed to `run` now would be refused. */
  get full(): boolean {
    return this.#running >= this.concurrency && this.#waiting.length >= this.maxWaiting;
  }

  get running(): number {
    return this.#running;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /** Runs `task` when a slot is free; `undefined` (and `task` never called) when the queue is full. */
  async run<T>(task: () => Promise<T>): Promise<{ value: T } | undefined> {
    if (this.#running >= this.concurrency) {
      if (this.#waiting.length >= this.maxWaiting) return undefined;
      // The slot is handed over by the task that finishes (#running is not decremented in between).
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return { value: await task() };
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
