// What the pool knows of the slow pool.query() statements in flight on one connection: how
// many, and when the connection is expected to be free of them. Statements on a connection
// finish in the order they were sent, so the first one sent is the one running (or the next
// to run) and the next one runs from the moment it is done.

export class SlowRuns {
  /** how long each usually runs (ms, StatementHistory), in the order sent; NaN where not known */
  #expected: number[] = [];
  /** when the first of them is expected to be done (performance.now()); NaN when not known */
  #firstEndsAt = Number.NaN;

  get count(): number {
    return this.#expected.length;
  }

  /** One more sent at `now`, expected to run `ms` once those before it are done. */
  add(ms: number, now: number): void {
    if (this.#expected.length === 0) this.#firstEndsAt = now + ms;
    this.#expected.push(ms);
  }

  /** The first of them was done at `now`: the next one runs from then. */
  done(now: number): void {
    this.#expected.shift();
    this.#firstEndsAt = this.#expected.length > 0 ? now + this.#expected[0] : Number.NaN;
  }

  clear(): void {
    this.#expected.length = 0;
    this.#firstEndsAt = Number.NaN;
  }

  /**
   * How long from `now` (ms) until the connection is expected to be free of slow statements:
   * when one is in flight and its usual time is known; Infinity otherwise, and once it has run
   * past its usual time by more than `overrun` ms (it is no longer a guess to count on).
   */
  freeIn(now: number, overrun: number): number {
    if (this.#expected.length !== 1) return this.#expected.length === 0 ? 0 : Number.POSITIVE_INFINITY;
    const left = this.#firstEndsAt - now;
    // NaN (not known) compares false
    return left >= -overrun ? Math.max(left, 0) : Number.POSITIVE_INFINITY;
  }
}
