// interval: months, days and microseconds, kept apart as the server keeps them (a month is
// not a fixed number of days, nor a day a fixed number of hours across DST changes).
//
// Read from the text of every IntervalStyle: 'postgres' (the default: '1 year 2 mons
// -3 days +04:05:06.5'), 'iso_8601' ('P1Y2M-3DT4H5M6.5S'), 'sql_standard'
// ('+1-2 -3 +4:05:06.5') and 'postgres_verbose' ('@ 1 year 2 mons -3 days 4 hours 5 mins
// 6.5 secs'). Sent in ISO 8601 with a sign on every field, which the server reads the same
// under every IntervalStyle ('sql_standard' would read '-1 year 2 mons' as minus both).
import { DataError } from '../errors';
import { TO_POSTGRES, type PostgresText, type ToPostgres } from '../adapt/to-postgres';
import { Oid } from './oids';

const USECS_PER_SECOND = 1_000_000;
const USECS_PER_MINUTE = 60 * USECS_PER_SECOND;
const USECS_PER_HOUR = 60 * USECS_PER_MINUTE;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

function checkInt32(value: number, what: string): number {
  if (!Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) {
    throw new DataError(`interval ${what} must be an integer between ${INT32_MIN} and ${INT32_MAX}, got ${String(value)}`);
  }
  return value === 0 ? 0 : value; // no -0
}

export class Interval implements ToPostgres {
  readonly months: number;
  readonly days: number;
  /**
   * the time part; a number, so exact up to 2^53 µs (about 285 years of hours): a longer
   * time part is refused with DataError rather than rounded
   */
  readonly microseconds: number;

  constructor(months = 0, days = 0, microseconds = 0) {
    this.months = checkInt32(months, 'months');
    this.days = checkInt32(days, 'days');
    if (!Number.isSafeInteger(microseconds)) {
      throw new DataError(`interval microseconds must be a safe integer, got ${String(microseconds)}`);
    }
    this.microseconds = microseconds === 0 ? 0 : microseconds;
  }

  /** An interval from parts, each optional: `Interval.from({ days: 1, hours: 2 })`. */
  static from(parts: IntervalParts): Interval {
    const months = (parts.years ?? 0) * 12 + (parts.months ?? 0);
    const days = (parts.weeks ?? 0) * 7 + (parts.days ?? 0);
    const micros =
      (parts.hours ?? 0) * USECS_PER_HOUR +
      (parts.minutes ?? 0) * USECS_PER_MINUTE +
      (parts.seconds ?? 0) * USECS_PER_SECOND +
      (parts.milliseconds ?? 0) * 1000 +
      (parts.microseconds ?? 0);
    return new Interval(months, days, Math.round(micros));
  }

  /** The text of an interval as the server writes it, in any IntervalStyle. */
  static parse(text: string): Interval {
    return parseInterval(text);
  }

  /** Whether both hold the same months, days and microseconds ('1 day' is not '24 hours'). */
  equals(other: Interval): boolean {
    return other instanceof Interval && other.months === this.months && other.days === this.days && other.microseconds === this.microseconds;
  }

  /** The value in PostgreSQL's default output format, e.g. '1 year 2 mons 3 days 04:05:06.5'. */
  toString(): string {
    const years = Math.trunc(this.months / 12);
    const months = this.months % 12;
    let out = '';
    let isZero = true;
    let isBefore = false;
    const part = (value: number, unit: string) => {
      if (value === 0) return;
      out += `${isZero ? '' : ' '}${isBefore && value > 0 ? '+' : ''}${value} ${unit}${value !== 1 ? 's' : ''}`;
      isBefore = value < 0;
      isZero = false;
    };
    part(years, 'year');
    part(months, 'mon');
    part(this.days, 'day');
    if (isZero || this.microseconds !== 0) {
      const time = splitTime(this.microseconds);
      const sign = time.negative ? '-' : isBefore ? '+' : '';
      out += `${isZero ? '' : ' '}${sign}${pad2(time.hours)}:${pad2(time.minutes)}:${pad2(time.seconds)}${fraction(time.micros)}`;
    }
    return out;
  }

  /** The value in ISO 8601 with a sign on each field, e.g. 'P1Y2M-3DT4H5M6.5S'; 'PT0S' for zero. */
  toISOString(): string {
    const years = Math.trunc(this.months / 12);
    const months = this.months % 12;
    let out = 'P';
    if (years !== 0) out += `${years}Y`;
    if (months !== 0) out += `${months}M`;
    if (this.days !== 0) out += `${this.days}D`;
    if (this.microseconds !== 0 || out === 'P') {
      const time = splitTime(this.microseconds);
      const sign = time.negative ? '-' : '';
      out += 'T';
      if (time.hours !== 0) out += `${sign}${time.hours}H`;
      if (time.minutes !== 0) out += `${sign}${time.minutes}M`;
      if (time.seconds !== 0 || time.micros !== 0 || this.microseconds === 0) out += `${sign}${time.seconds}${fraction(time.micros)}S`;
    }
    return out;
  }

  toJSON(): string {
    return this.toString();
  }

  [TO_POSTGRES](): PostgresText {
    return { text: this.toISOString(), oid: Oid.interval };
  }
}

export interface IntervalParts {
  years?: number;
  months?: number;
  weeks?: number;
  days?: number;
  hours?: number;
  minutes?: number;
  seconds?: number;
  milliseconds?: number;
  microseconds?: number;
}

function pad2(value: number): string {
  return value < 10 ? `0${value}` : String(value);
}

/** '.5', '.000001', or '' for none: the fraction of a second without trailing zeros. */
function fraction(micros: number): string {
  if (micros === 0) return '';
  return '.' + String(micros).padStart(6, '0').replace(/0+$/, '');
}

function splitTime(microseconds: number): { negative: boolean; hours: number; minutes: number; seconds: number; micros: number } {
  const negative = microseconds < 0;
  let rest = Math.abs(microseconds);
  const hours = Math.floor(rest / USECS_PER_HOUR);
  rest -= hours * USECS_PER_HOUR;
  const minutes = Math.floor(rest / USECS_PER_MINUTE);
  rest -= minutes * USECS_PER_MINUTE;
  const seconds = Math.floor(rest / USECS_PER_SECOND);
  return { negative, hours, minutes, seconds, micros: rest - seconds * USECS_PER_SECOND };
}

function unparsable(text: string): DataError {
  return new DataError(`cannot parse interval ${JSON.stringify(text)}: not in the output format of any IntervalStyle`);
}

/** Seconds text such as '-6.5' or '06' as microseconds. */
function secondsToMicros(sign: string | undefined, whole: string, frac: string | undefined): number {
  const micros = Number(whole) * USECS_PER_SECOND + (frac !== undefined ? Number(frac.slice(0, 6).padEnd(6, '0')) : 0);
  return sign === '-' ? -micros : micros;
}

// a unit and its count, or a time of day with hours of any length; single blanks between
const POSTGRES_PART = /(?:([+-]?\d+) (year|mon|day)s?|([+-])?(\d+):(\d\d):(\d\d)(?:\.(\d+))?)(?: |$)/y;

const ISO_8601 =
  /^P(?:([+-]?\d+)Y)?(?:([+-]?\d+)M)?(?:([+-]?\d+)W)?(?:([+-]?\d+)D)?(?:T(?:([+-]?\d+)H)?(?:([+-]?\d+)M)?(?:([+-])?(\d+)(?:\.(\d+))?S)?)?$/;

interface Fields {
  months: number;
  days: number;
  micros: number;
}

function parseIso8601(text: string): Fields | null {
  const m = ISO_8601.exec(text);
  if (m === null || text === 'P' || text.endsWith('T')) return null;
  let micros = Number(m[5] ?? 0) * USECS_PER_HOUR + Number(m[6] ?? 0) * USECS_PER_MINUTE;
  if (m[8] !== undefined) micros += secondsToMicros(m[7], m[8], m[9]);
  return { months: Number(m[1] ?? 0) * 12 + Number(m[2] ?? 0), days: Number(m[3] ?? 0) * 7 + Number(m[4] ?? 0), micros };
}

function parsePostgres(text: string): Fields | null {
  const fields: Fields = { months: 0, days: 0, micros: 0 };
  if (text.length === 0 || text.endsWith(' ')) return null;
  let position = 0;
  while (position < text.length) {
    POSTGRES_PART.lastIndex = position;
    const m = POSTGRES_PART.exec(text);
    if (m === null) return null;
    position = POSTGRES_PART.lastIndex;
    if (m[2] !== undefined) {
      const value = Number(m[1]);
      if (m[2] === 'year') fields.months += value * 12;
      else if (m[2] === 'mon') fields.months += value;
      else fields.days += value;
    } else {
      const time = Number(m[4]) * USECS_PER_HOUR + Number(m[5]) * USECS_PER_MINUTE + secondsToMicros(undefined, m[6], m[7]);
      fields.micros += m[3] === '-' ? -time : time;
    }
  }
  return fields;
}

// '@ 1 year 2 mons -3 days 4 hours 5 mins 6.5 secs ago': 'ago' negates every field
const VERBOSE_PART = /^([+-]?\d+)(?:\.(\d+))?$/;
const VERBOSE_UNITS: Readonly<Record<string, number>> = {
  year: 0,
  years: 0,
  mon: 1,
  mons: 1,
  day: 2,
  days: 2,
  hour: 3,
  hours: 3,
  min: 4,
  mins: 4,
  sec: 5,
  secs: 5,
};

function parseVerbose(text: string): Fields | null {
  const words = text.slice(1).trim().split(' ');
  if (words.length === 1 && words[0] === '0') return { months: 0, days: 0, micros: 0 };
  const ago = words[words.length - 1] === 'ago';
  if (ago) words.pop();
  if (words.length % 2 !== 0) return null;
  const fields: Fields = { months: 0, days: 0, micros: 0 };
  for (let i = 0; i < words.length; i += 2) {
    const m = VERBOSE_PART.exec(words[i]);
    const unit = VERBOSE_UNITS[words[i + 1]];
    if (m === null || unit === undefined || (m[2] !== undefined && unit !== 5)) return null;
    const value = Number(m[1]);
    if (unit === 0) fields.months += value * 12;
    else if (unit === 1) fields.months += value;
    else if (unit === 2) fields.days += value;
    else if (unit === 3) fields.micros += value * USECS_PER_HOUR;
    else if (unit === 4) fields.micros += value * USECS_PER_MINUTE;
    else fields.micros += secondsToMicros(m[1].startsWith('-') ? '-' : '+', m[1].replace(/^[+-]/, ''), m[2]);
  }
  return ago ? { months: -fields.months, days: -fields.days, micros: -fields.micros } : fields;
}

// sql_standard: '1-2', '3 4:05:06.5', '-1-2' (the sign covers every field), or with a sign
// on each field when they differ: '+1-2 -3 +4:05:06'
const SQL_YEAR_MONTH = /^([+-])?(\d+)-(\d+)$/;
const SQL_DAYS = /^([+-])?(\d+)$/;
const SQL_TIME = /^([+-])?(\d+):(\d\d):(\d\d)(?:\.(\d+))?$/;

function parseSqlStandard(text: string): Fields | null {
  const tokens = text.split(' ');
  if (tokens.length > 3) return null;
  const fields: Fields = { months: 0, days: 0, micros: 0 };
  // a leading '-' with no sign after it applies to all fields
  const signs = tokens.map((token) => (token[0] === '+' || token[0] === '-' ? token[0] : undefined));
  const negateAll = signs[0] === '-' && signs.slice(1).every((sign) => sign === undefined);
  let stage = 0; // year-month, then days, then time
  for (const token of tokens) {
    let m: RegExpExecArray | null;
    let negative: boolean;
    if (stage === 0 && (m = SQL_YEAR_MONTH.exec(token)) !== null) {
      negative = negateAll || m[1] === '-';
      const months = Number(m[2]) * 12 + Number(m[3]);
      fields.months = negative ? -months : months;
      stage = 1;
    } else if (stage <= 1 && tokens.length > 1 && token !== tokens[tokens.length - 1] && (m = SQL_DAYS.exec(token)) !== null) {
      negative = negateAll || m[1] === '-';
      fields.days = negative ? -Number(m[2]) : Number(m[2]);
      stage = 2;
    } else if ((m = SQL_TIME.exec(token)) !== null) {
      negative = negateAll || m[1] === '-';
      const time = Number(m[2]) * USECS_PER_HOUR + Number(m[3]) * USECS_PER_MINUTE + secondsToMicros(undefined, m[4], m[5]);
      fields.micros = negative ? -time : time;
      stage = 3;
    } else if (tokens.length === 1 && (m = SQL_DAYS.exec(token)) !== null && Number(m[2]) === 0) {
      stage = 3; // '0'
    } else {
      return null;
    }
  }
  return fields;
}

/** interval text → Interval, in any IntervalStyle: postgres (the default), iso_8601, sql_standard, postgres_verbose */
export function parseInterval(text: string): Interval {
  let fields: Fields | null;
  if (text.startsWith('P')) fields = parseIso8601(text);
  else if (text.startsWith('@')) fields = parseVerbose(text);
  else fields = parsePostgres(text) ?? parseSqlStandard(text);
  if (fields === null) throw unparsable(text);
  const { months, days, micros } = fields;
  if (!Number.isSafeInteger(micros)) {
    throw new DataError(
      `interval ${JSON.stringify(text)} has a time part past 2^53 microseconds, which a number cannot hold exactly: set a typecaster for 'interval' to read such values`,
    );
  }
  return new Interval(months, days, micros);
}

