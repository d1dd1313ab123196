// Dates and times in the text format of DateStyle ISO (the format this library asks the
// server for): '2024-02-29 13:04:05.123456+05:30', '0044-03-15 12:00:00+00 BC',
// '10000-01-01 00:00:00+00', 'infinity'; and in the other DateStyles a session may have
// chosen since (datestyle.ts), which give the same values. A JS Date holds milliseconds, so
// digits past the third of the fraction are dropped.
import { DataError } from '../errors';
import { isoDateText, millisOf, parseOtherStyle, wallClockMillis, type DateTimeKind } from './datestyle';

const MS_PER_DAY = 86_400_000;
/** the range of a JS Date: ±10^8 days around the epoch */
const MAX_DATE_MS = 8.64e15;

// year-month-day hh:mm:ss[.frac][±hh[:mm[:ss]]][ BC]; years can have more than 4 digits
const TIMESTAMP_RE =
  /^(\d{4,})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:(Z)|([+-])(\d\d)(?::?(\d\d)(?::?(\d\d))?)?)?( BC)?$/;

/** Days since 1970-01-01 of a proleptic Gregorian date (astronomical year: 1 BC is 0). */
export function daysFromCivil(year: number, month: number, day: number): number {
  // shift the year to start in March so that the leap day is the last day of the year
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const monthFromMarch = month > 2 ? month - 3 : month + 9;
  const dayOfYear = Math.floor((153 * monthFromMarch + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

function parseTimestampText(text: string, kind: DateTimeKind, local = false): Date | number {
  const m = TIMESTAMP_RE.exec(text);
  if (m === null) {
    if (text === 'infinity') return Infinity;
    if (text === '-infinity') return -Infinity;
    return parseOtherStyleTimestamp(text, kind, local);
  }
  let year = Number(m[1]);
  if (m[13] !== undefined) year = 1 - year; // 1 BC is year 0, 2 BC is year -1, ...
  if (local && m[9] === undefined) return localDate(text, kind, year, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), millisOf(m[7]));
  const days = daysFromCivil(year, Number(m[2]), Number(m[3]));
  let ms = days * MS_PER_DAY + Number(m[4]) * 3_600_000 + Number(m[5]) * 60_000 + Number(m[6]) * 1000;
  const fraction = m[7];
  if (fraction !== undefined) {
    ms += fraction.length >= 3 ? Number(fraction.slice(0, 3)) : Number(fraction) * (fraction.length === 1 ? 100 : 10);
  }
  if (m[9] !== undefined) {
    const offset = Number(m[10]) * 3600 + Number(m[11] ?? 0) * 60 + Number(m[12] ?? 0);
    // local time = UTC + offset, so UTC = local time - offset
    ms -= (m[9] === '-' ? -offset : offset) * 1000;
  }
  return dateOf(ms, text, kind);
}

function dateOf(ms: number, text: string, kind: DateTimeKind): Date {
  if (ms > MAX_DATE_MS || ms < -MAX_DATE_MS || Number.isNaN(ms)) {
    throw new DataError(`${kind} ${JSON.stringify(text)} is out of the range of a JS Date`);
  }
  return new Date(ms);
}

/** A timestamp in the SQL, German or Postgres DateStyle. */
function parseOtherStyleTimestamp(text: string, kind: DateTimeKind, local: boolean): Date {
  const fields = parseOtherStyle(text, kind);
  if (fields === null) throw new DataError(`cannot parse ${kind} ${JSON.stringify(text)}: it is in no DateStyle`);
  if (local && fields.offset === undefined) {
    return localDate(text, kind, fields.year, fields.month, fields.day, fields.hour, fields.minute, fields.second, fields.millis);
  }
  return dateOf(wallClockMillis(fields) - (fields.offset ?? 0) * 1000, text, kind);
}

/** The wall-clock time of a timestamp as a Date in the process's time zone. */
function localDate(
  text: string,
  kind: DateTimeKind,
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  ms: number,
): Date {
  const date = new Date(2000, 0, 1, 0, 0, 0, 0);
  // setFullYear, unlike the Date constructor, does not read years 0-99 as 1900-1999
  date.setFullYear(year, month - 1, day);
  date.setHours(hour, minute, second, ms);
  if (Number.isNaN(date.getTime())) throw new DataError(`${kind} ${JSON.stringify(text)} is out of the range of a JS Date`);
  return date;
}

/** timestamptz → Date; 'infinity' / '-infinity' → ±Infinity */
export function parseTimestamptz(text: string): Date | number {
  return parseTimestampText(text, 'timestamptz');
}

/** timestamp without time zone → Date of that wall-clock time read as UTC; ±infinity → ±Infinity */
export function parseTimestamp(text: string): Date | number {
  return parseTimestampText(text, 'timestamp');
}

/**
 * timestamp without time zone → Date of that wall-clock time in the process's time zone
 * (the choice node-postgres makes); ±infinity → ±Infinity. See types.setTimestampType.
 */
export function parseTimestampLocal(text: string): Date | number {
  return parseTimestampText(text, 'timestamp', true);
}

/**
 * date → its 'YYYY-MM-DD' text (' BC' after years before 1 AD), as DateStyle ISO writes it:
 * a date has no time zone, and a JS Date would move it to the previous or next day in some
 * of them. 'infinity' / '-infinity' → ±Infinity.
 */
export function parseDate(text: string): string | number {
  // ISO dates start with a year of four digits or more; the other DateStyles with two digits
  const third = text.charCodeAt(2);
  if (third >= 0x30 && third <= 0x39) return text;
  if (text === 'infinity') return Infinity;
  if (text === '-infinity') return -Infinity;
  const fields = parseOtherStyle(text, 'date');
  if (fields === null) throw new DataError(`cannot parse date ${JSON.stringify(text)}: it is in no DateStyle`);
  return isoDateText(fields);
}

/** time → the text unchanged ('13:04:05.123456'): JS has no time-of-day type */
export function parseTime(text: string): string {
  return text;
}

/** timetz → the text unchanged ('13:04:05+05:30') */
export function parseTimetz(text: string): string {
  return text;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/**
 * A Date as timestamptz input text, in UTC with an explicit offset so that the server's
 * TimeZone setting does not matter: '2024-02-29 07:34:05.123+00', years before 1 AD with
 * ' BC', years past 9999 with as many digits as they need. The Date must be valid.
 */
export function formatTimestamptz(date: Date): string {
  let year = date.getUTCFullYear();
  const bc = year <= 0;
  if (bc) year = 1 - year;
  let text =
    `${pad(year, 4)}-${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)} ` +
    `${pad(date.getUTCHours(), 2)}:${pad(date.getUTCMinutes(), 2)}:${pad(date.getUTCSeconds(), 2)}`;
  const ms = date.getUTCMilliseconds();
  if (ms !== 0) text += `.${pad(ms, 3)}`;
  text += '+00';
  if (bc) text += ' BC';
  return text;
}
