// Slow pool.query() statements waiting for a connection to be placed on, in the order they
// came, so that fast statements keep a connection to run on (pool.ts, #placeStatement()).
// The pool tries the line again as statements finish and connections come back, and at the
// moment it asked to be woken; each statement waits at most the pool's timeout, and no
// longer than its AbortSignal lets it.

interface Waiting<S, T> {
  readonly statement: S;
  resolve(placed: T | PromiseLike<T>): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export class SlowLine<S, T> {
  #waiting: Waiting<S, T>[] = [];
  #timer: NodeJS.Timeout | undefined;
  #wakeAt = Number.POSITIVE_INFINITY;

  get length(): number {
    return this.#waiting.length;
  }

  /** The statement at the head of the line; undefined when the line is empty. */
  get first(): S | undefined {
    return this.#waiting[0]?.statement;
  }

  /**
   * `statement` waits at the end of the line for what shift() gives it, or fails with the
   * error `timedOut` makes once `timeoutMs` have passed (Infinity: no limit), or with the one
   * `aborted` makes as soon as `signal` aborts (at once if it has).
   */
  wait(statement: S, timeoutMs: number, timedOut: () => Error, signal?: AbortSignal, aborted?: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiting: Waiting<S, T> = { statement, resolve, reject, timer: undefined, signal: undefined, onAbort: undefined };
      const leave = (error: Error) => {
        const at = this.#waiting.indexOf(waiting);
        if (at < 0) return;
        this.#waiting.splice(at, 1);
        settled(waiting);
        if (this.#waiting.length === 0) this.#cancelWake();
        reject(error);
      };
      if (signal !== undefined && aborted !== undefined) {
        if (signal.aborted) {
          reject(aborted());
          return;
        }
        waiting.signal = signal;
        waiting.onAbort = () => leave(aborted());
        signal.addEventListener('abort', waiting.onAbort, { once: true });
      }
      if (Number.isFinite(timeoutMs)) waiting.timer = setTimeout(() => leave(timedOut()), Math.max(0, timeoutMs));
      this.#waiting.push(waiting);
    });
  }

  /** The statement at the head of the line leaves it with `placed` (or what it resolves to). */
  shift(placed: T | PromiseLike<T>): void {
    const waiting = this.#waiting.shift();
    if (waiting === undefined) return;
    settled(waiting);
    waiting.resolve(placed);
    if (this.#waiting.length === 0) this.#cancelWake();
  }

  /**
   * `retry` runs in `delayMs` (or earlier, if an earlier wake was asked for). The timer keeps
   * no process alive: the line only waits while statements are in flight, whose connections do.
   */
  wakeIn(delayMs: number, retry: () => void): void {
    if (!(delayMs < Number.POSITIVE_INFINITY)) return;
    const at = performance.now() + Math.max(0, delayMs);
    if (this.#timer !== undefined && this.#wakeAt <= at) return;
    this.#cancelWake();
    this.#wakeAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#wakeAt = Number.POSITIVE_INFINITY;
      retry();
    }, Math.max(0, delayMs));
    this.#timer.unref();
  }

  /** Every statement in line fails with the error `makeError` gives; returns how many did. */
  rejectAll(makeError: () => Error): number {
    this.#cancelWake();
    const waiting = this.#waiting.splice(0);
    for (const statement of waiting) {
      settled(statement);
      statement.reject(makeError());
    }
    return waiting.length;
  }

  #cancelWake(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#wakeAt = Number.POSITIVE_INFINITY;
  }
}

/** A statement leaves the line: its timer and its abort listener go. */
function settled(waiting: Waiting<unknown, unknown>): void {
  if (waiting.timer !== undefined) clearTimeout(waiting.timer);
  if (waiting.onAbort !== undefined) waiting.signal?.removeEventListener('abort', waiting.onAbort);
}
