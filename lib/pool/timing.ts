// Random spreads, so that connections made together neither expire together nor retry in step.

/** `value` moved by a random fraction in [minFraction, maxFraction] of itself. */
export function jitter(value: number, minFraction: number, maxFraction: number): number {
  return value * (1 + minFraction + Math.random() * (maxFraction - minFraction));
}

/** Delays between connection attempts: 0.1 s, doubling, ±10%, never above 5 s. */
export class Backoff {
  static readonly INITIAL_DELAY = 0.1;
  static readonly FACTOR = 2;
  static readonly MAX_DELAY = 5;
  static readonly JITTER = 0.1;

  #next = Backoff.INITIAL_DELAY;
  readonly startedAt = Date.now();

  /** the delay before the next attempt, in seconds */
  nextDelay(): number {
    const delay = jitter(this.#next, -Backoff.JITTER, Backoff.JITTER);
    this.#next = Math.min(this.#next * Backoff.FACTOR, Backoff.MAX_DELAY);
    return delay;
  }

  /** seconds since the first attempt */
  elapsed(): number {
    return (Date.now() - this.startedAt) / 1000;
  }
}

export function sleep(seconds: number, onTimer?: (timer: NodeJS.Timeout) => void): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, seconds * 1000);
    onTimer?.(timer);
  });
}
