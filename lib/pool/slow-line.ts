// Slow pool.query() statements waiting for a connection to be placed on, in the order they
// came, so that fast statements keep a connection to run on (pool.ts, #placeStatement()).
// The pool tries the line again as statements finish, and at the moment it asked to be woken.

interface Waiting<T> {
  /** how long the statement usually runs, ms */
  readonly ms: number;
  resolve(placed: T): void;
  reject(error: Error): void;
}

export class SlowLine<T> {
  #waiting: Waiting<T>[] = [];
  #timer: NodeJS.Timeout | undefined;
  #wakeAt = Number.POSITIVE_INFINITY;

  get length(): number {
    return this.#waiting.length;
  }

  /** The usual time (ms) of the statement at the head of the line; NaN when the line is empty. */
  get firstMs(): number {
    return this.#waiting.length > 0 ? this.#waiting[0].ms : Number.NaN;
  }

  /** A statement that usually runs `ms` waits at the end of the line for what shift() gives it. */
  wait(ms: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#waiting.push({ ms, resolve, reject });
    });
  }

  /** The statement at the head of the line leaves it with `placed`. */
  shift(placed: T): void {
    this.#waiting.shift()?.resolve(placed);
    if (this.#waiting.length === 0) this.#cancelWake();
  }

  /**
   * `retry` runs in `delayMs` (or earlier, if an earlier wake was asked for). The timer keeps
   * no process alive: the line only waits while statements are in flight, whose connections do.
   */
  wakeIn(delayMs: number, retry: () => void): void {
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
    for (const statement of waiting) statement.reject(makeError());
    return waiting.length;
  }

  #cancelWake(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#wakeAt = Number.POSITIVE_INFINITY;
  }
}
