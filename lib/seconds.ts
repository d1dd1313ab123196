// Durations in seconds given by the user, checked once for every timer they arm. Node holds a
// timer's delay in a signed 32-bit count of milliseconds: a longer one (Infinity included)
// fires after 1 ms instead, so a timeout meant as "practically never" would expire at once.

/** The longest delay a timer holds, in whole seconds (2^31 - 1 ms is about 24.8 days). */
export const MAX_TIMER_SECONDS = 2_147_483;

/**
 * A positive number of seconds a timer can hold: TypeError for what is not a positive number,
 * RangeError for what is longer than a timer holds.
 */
export function checkSeconds(name: string, value: unknown): number {
  if (typeof value !== 'number' || !(value > 0)) throw new TypeError(`${name} must be a positive number of seconds`);
  if (value > MAX_TIMER_SECONDS) {
    throw new RangeError(`${name} must be at most ${MAX_TIMER_SECONDS} seconds (about 24 days): a longer timer would fire at once`);
  }
  return value;
}
