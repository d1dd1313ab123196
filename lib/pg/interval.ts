// node-postgres's interval value: the fields of PostgreSQL's 'postgres' IntervalStyle output
// ('1 year 2 mons 3 days 04:05:06.789'), each present only when not zero, the time fields
// negative when the time part is.

const FIELDS = ['seconds', 'minutes', 'hours', 'days', 'months', 'years'] as const;

const INTERVAL_TEXT = new RegExp(
  [String.raw`([+-]?\d+)\s+years?`, String.raw`([+-]?\d+)\s+mons?`, String.raw`([+-]?\d+)\s+days?`, String.raw`([+-])?(\d*):(\d\d):(\d\d)\.?(\d{1,6})?`]
    .map((part) => `(?:${part})?`)
    .join(String.raw`\s*`),
);

export class PostgresInterval {
  years?: number;
  months?: number;
  days?: number;
  hours?: number;
  minutes?: number;
  seconds?: number;
  /** with the microseconds as a fraction: 1.5 is 1500 µs */
  milliseconds?: number;

  constructor(text?: string) {
    if (text) this.#read(text);
  }

  #read(text: string): void {
    const match = INTERVAL_TEXT.exec(text);
    if (match === null) return;
    const negativeTime = match[4] === '-';
    const set = (field: keyof PostgresInterval, digits: string | undefined, timePart: boolean, fraction = false) => {
      if (!digits) return;
      let value = fraction ? parseInt(digits.padEnd(6, '0'), 10) / 1000 : parseInt(digits, 10);
      if (!value) return;
      if (timePart && negativeTime) value = -value;
      (this as Record<string, unknown>)[field] = value;
    };
    set('years', match[1], false);
    set('months', match[2], false);
    set('days', match[3], false);
    set('hours', match[5], true);
    set('minutes', match[6], true);
    set('seconds', match[7], true);
    set('milliseconds', match[8], true, true);
  }

  /** The interval as PostgreSQL reads it back, e.g. '3 days 4.5 seconds'. */
  toPostgres(): string {
    const present: string[] = FIELDS.filter((field) => Object.prototype.hasOwnProperty.call(this, field));
    if (this.milliseconds && !present.includes('seconds')) present.push('seconds');
    if (present.length === 0) return '0';
    return present.map((field) => `${field === 'seconds' ? this.#secondsText(false) : String(this[field as keyof this] ?? 0)} ${field}`).join(' ');
  }

  /** ISO 8601: 'P1Y2M3DT4H5M6.789S'. */
  toISOString(): string {
    const part = (field: 'years' | 'months' | 'days' | 'hours' | 'minutes', unit: string) => `${this[field] ?? 0}${unit}`;
    return `P${part('years', 'Y')}${part('months', 'M')}${part('days', 'D')}T${part('hours', 'H')}${part('minutes', 'M')}${this.#secondsText(true)}S`;
  }

  toISO(): string {
    return this.toISOString();
  }

  #secondsText(iso: boolean): string {
    const seconds = this.seconds ?? 0;
    if (!this.milliseconds) return String(seconds);
    const text = (seconds + this.milliseconds / 1000).toFixed(6);
    // as node-postgres writes them: trailing zeros dropped (and a bare point, but in ISO form)
    return iso ? text.replace(/0+$/, '') : text.replace(/\.?0+$/, '');
  }
}
