// Dates and times in the DateStyles other than ISO, which a session may be in (SET datestyle,
// a role's or a database's default, RESET ALL on a server configured so, ...):
//
//   SQL        05/02/2024 13:04:05.5 CET     (MDY order: 02/05/2024 ...)
//   German     05.02.2024 13:04:05.5 CET
//   Postgres   Mon 05 Feb 13:04:05.5 2024 CET (MDY order: Mon Feb 05 ...); dates 05-02-2024 / 02-05-2024
//
// with ' BC' last for years before 1 AD, and for timestamptz the abbreviation of the session's
// time zone at that instant ('EST', 'LMT', '+1030') where ISO prints the offset. The text tells
// its style; which of day and month comes first in SQL and Postgres dates, and which offset an
// alphabetic abbreviation stands for, only the session knows: its DateStyle and TimeZone, as
// the server last reported them. The connection makes them known here while it decodes a result.
import { DataError } from '../errors';

/** The settings of the session a value comes from (null: not known). */
export interface DateStyleSource {
  /** the DateStyle the server reported, e.g. 'SQL, DMY' */
  readonly dateStyle: string | null | undefined;
  /** the TimeZone the server reported, e.g. 'Europe/Berlin' */
  readonly timeZone: string | null | undefined;
}

let session: DateStyleSource | undefined;

/** Decode with `source` as the session's settings until leaveDateStyle(); returns what to restore. */
export function enterDateStyle(source: DateStyleSource | undefined): DateStyleSource | undefined {
  const previous = session;
  session = source;
  return previous;
}

export function leaveDateStyle(previous: DateStyleSource | undefined): void {
  session = previous;
}

/** A date or timestamp read field by field; `year` is astronomical (1 BC is 0). */
export interface DateTimeFields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** the first three digits of the fraction of a second */
  millis: number;
  /** the offset east of UTC in seconds, for timestamptz */
  offset?: number;
}

const MONTHS: ReadonlyMap<string, number> = new Map(
  ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'].map((name, index) => [name, index + 1]),
);

// day and month (in the session's order), year, time, zone; German is always day first
const SQL_OR_GERMAN = /^(\d\d)([/.])(\d\d)\2(\d{4,})(?: (\d\d):(\d\d):(\d\d)(?:\.(\d+))?)?(?: ([^ ]+?))??( BC)?$/;
const POSTGRES_DATE = /^(\d\d)-(\d\d)-(\d{4,})( BC)?$/;
// weekday, then day and month name or month name and day, time, year, zone
const POSTGRES_TIMESTAMP =
  /^[A-Z][a-z]{2} (?:(\d\d) ([A-Z][a-z]{2})|([A-Z][a-z]{2}) (\d\d)) (\d\d):(\d\d):(\d\d)(?:\.(\d+))? (\d{4,})(?: ([^ ]+?))??( BC)?$/;
// a numeric abbreviation or offset: '+11', '-03', '+1030', '+05:30', '+053028'
const NUMERIC_ZONE = /^([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?$/;

/** The milliseconds of a fraction of a second's digits (those after the point). */
export function millisOf(fraction: string | undefined): number {
  if (fraction === undefined) return 0;
  return Number(fraction.length >= 3 ? fraction.slice(0, 3) : fraction.padEnd(3, '0'));
}

function cannotParse(text: string, typeName: string, why: string): DataError {
  return new DataError(`cannot parse ${typeName} ${JSON.stringify(text)}: ${why}`);
}

/** Whether the session writes the day before the month (DMY); null when it does not say. */
function dayFirst(text: string, typeName: string): boolean {
  const style = session?.dateStyle;
  if (style === null || style === undefined) {
    throw cannotParse(text, typeName, 'it is not in DateStyle ISO, and the session it came from is not known to tell day from month');
  }
  // SQL and Postgres write MDY for the YMD order too
  return /\bDMY\b/i.test(style);
}

export type DateTimeKind = 'date' | 'timestamp' | 'timestamptz';

/**
 * The fields of a date, timestamp or timestamptz in the SQL, German or Postgres DateStyle;
 * null when the text is in none of them. A date has no time; a timestamptz has its offset.
 */
export function parseOtherStyle(text: string, kind: DateTimeKind): DateTimeFields | null {
  let day: string, month: number | undefined, year: string, bc: string | undefined;
  let time: (string | undefined)[] = [];
  let zone: string | undefined;
  let m = SQL_OR_GERMAN.exec(text);
  if (m !== null) {
    const first = m[2] === '.' || dayFirst(text, kind);
    day = first ? m[1] : m[3];
    month = Number(first ? m[3] : m[1]);
    year = m[4];
    time = [m[5], m[6], m[7], m[8]];
    zone = m[9];
    bc = m[10];
  } else if ((m = POSTGRES_DATE.exec(text)) !== null) {
    const first = dayFirst(text, kind);
    day = first ? m[1] : m[2];
    month = Number(first ? m[2] : m[1]);
    year = m[3];
    bc = m[4];
  } else if ((m = POSTGRES_TIMESTAMP.exec(text)) !== null) {
    day = m[1] ?? m[4];
    month = MONTHS.get(m[2] ?? m[3]);
    time = [m[5], m[6], m[7], m[8]];
    year = m[9];
    zone = m[10];
    bc = m[11];
  } else {
    return null;
  }
  // a date has neither time nor zone, a timestamp a time, a timestamptz both
  if (month === undefined || (time[0] !== undefined) !== (kind !== 'date') || (zone !== undefined) !== (kind === 'timestamptz')) {
    return null;
  }
  const fields: DateTimeFields = {
    year: bc !== undefined ? 1 - Number(year) : Number(year),
    month,
    day: Number(day),
    hour: Number(time[0] ?? 0),
    minute: Number(time[1] ?? 0),
    second: Number(time[2] ?? 0),
    millis: millisOf(time[3]),
  };
  if (zone !== undefined) fields.offset = offsetOfZone(text, kind, zone, fields);
  return fields;
}

/** The date text of DateStyle ISO: 'YYYY-MM-DD', ' BC' after years before 1 AD. */
export function isoDateText(fields: DateTimeFields): string {
  const bc = fields.year <= 0;
  const year = String(bc ? 1 - fields.year : fields.year).padStart(4, '0');
  const text = `${year}-${String(fields.month).padStart(2, '0')}-${String(fields.day).padStart(2, '0')}`;
  return bc ? `${text} BC` : text;
}

// ---------------------------------------------------------------------------------------
// time zones: what an abbreviation stands for

const SECOND_MS = 1000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

function numericOffset(zone: string): number | null {
  const m = NUMERIC_ZONE.exec(zone);
  if (m === null) return null;
  const seconds = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
  return m[1] === '-' ? -seconds : seconds;
}

// A POSIX time zone without daylight saving, 'UTC+3' or '<+0330>-0330': the offset is the
// opposite of the number, the name only a label (so 'UTC+3' prints 'UTC' three hours behind).
const POSIX_FIXED_ZONE = /^(?:[A-Za-z]{3,}|<[A-Za-z0-9+-]+>)([+-])?(\d{1,2})(?::(\d\d))?(?::(\d\d))?$/;
// the names tzdb has for UTC itself
const UTC_NAMES = /^(?:Etc\/)?(?:UTC|UCT|GMT|GMT0|GMT[+-]0|Universal|Zulu|Greenwich)$/i;

function fixedOffset(timeZone: string): number | null {
  if (UTC_NAMES.test(timeZone)) return 0;
  const m = POSIX_FIXED_ZONE.exec(timeZone);
  if (m === null) return null;
  const seconds = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
  return m[1] === '-' ? seconds : -seconds;
}

/** The offset (seconds east of UTC) a timestamptz's zone field stands for, its local time known. */
function offsetOfZone(text: string, typeName: string, zone: string, fields: DateTimeFields): number {
  const numeric = numericOffset(zone);
  if (numeric !== null) return numeric;
  const timeZone = session?.timeZone;
  if (timeZone === null || timeZone === undefined) {
    throw cannotParse(text, typeName, `the session it came from is not known to say what ${JSON.stringify(zone)} stands for`);
  }
  const fixed = fixedOffset(timeZone);
  if (fixed !== null) return fixed;
  const wall = wallClockMillis(fields);
  return (wall - utcOfWallTime(text, typeName, timeZone, wall, zone)) / SECOND_MS;
}

/** The local time of `fields` as milliseconds since 1970 read as UTC (offset not applied). */
export function wallClockMillis(fields: DateTimeFields): number {
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not read years 0-99 as 1900-1999
  date.setUTCFullYear(fields.year, fields.month - 1, fields.day);
  date.setUTCHours(fields.hour, fields.minute, fields.second, fields.millis);
  return date.getTime();
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>();
const nameFormats = new Map<string, Intl.DateTimeFormat[]>();
/** English locales whose short zone names are tzdb's abbreviations for some zones */
const NAME_LOCALES = ['en-US', 'en-GB', 'en-IE', 'en-AU', 'en-NZ', 'en-IN', 'en-CA'];
const GMT_OFFSET = /GMT(?:([+-])(\d\d?)(?::(\d\d))?(?::(\d\d))?)?$/;

function offsetFormat(timeZone: string): Intl.DateTimeFormat {
  let format = offsetFormats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
    offsetFormats.set(timeZone, format);
  }
  return format;
}

/** The offset (seconds east of UTC) in `timeZone` at `utc`, by Node's time zone data. */
function offsetAt(timeZone: string, utc: number): number {
  const m = GMT_OFFSET.exec(offsetFormat(timeZone).format(utc));
  if (m === null) throw new DataError(`cannot read the offset of time zone ${JSON.stringify(timeZone)}`);
  if (m[1] === undefined) return 0;
  const seconds = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
  return m[1] === '-' ? -seconds : seconds;
}

/** The short names of `timeZone` at `utc` in the NAME_LOCALES. */
function namesAt(timeZone: string, utc: number): string[] {
  let formats = nameFormats.get(timeZone);
  if (formats === undefined) {
    formats = NAME_LOCALES.map((locale) => new Intl.DateTimeFormat(locale, { timeZone, timeZoneName: 'short' }));
    nameFormats.set(timeZone, formats);
  }
  return formats.map((format) => format.formatToParts(utc).find((part) => part.type === 'timeZoneName')?.value ?? '');
}

/** wall-clock hour and abbreviation → offset, where no change of offset is near */
const knownOffsets = new Map<string, number>();
const KNOWN_OFFSETS_MAX = 4096;

/**
 * The instant at which `timeZone`'s clocks showed `wall` under the abbreviation `zone`. Where
 * the clocks went back and showed that time twice, the abbreviation tells which (EDT or EST);
 * where it does not (the same name for both, or one Node's data does not know), the value is
 * ambiguous and refused.
 */
function utcOfWallTime(text: string, typeName: string, timeZone: string, wall: number, zone: string): number {
  const key = `${timeZone} ${zone} ${Math.floor(wall / HOUR_MS)}`;
  const known = knownOffsets.get(key);
  if (known !== undefined) return wall - known * SECOND_MS;
  let before: number, after: number;
  const offsets = new Map<number, number>(); // offset tried → offset in effect at wall - offset
  const at = (offset: number) => {
    let found = offsets.get(offset);
    if (found === undefined) {
      found = offsetAt(timeZone, wall - offset * SECOND_MS);
      offsets.set(offset, found);
    }
    return found;
  };
  try {
    // the offsets in effect a day before and after: a change between them is the one that matters
    before = offsetAt(timeZone, wall - DAY_MS);
    after = offsetAt(timeZone, wall + DAY_MS);
    for (const offset of [before, after]) at(at(offset));
  } catch (error) {
    if (error instanceof RangeError) {
      throw cannotParse(text, typeName, `its time zone ${JSON.stringify(timeZone)} is not one Node knows, to tell what ${JSON.stringify(zone)} stands for`);
    }
    throw error;
  }
  // the offsets under which the clocks showed `wall`: one, or two where they went back
  const fitting = [...offsets.keys()].filter((offset) => offsets.get(offset) === offset).sort((a, b) => b - a);
  if (fitting.length === 1) {
    if (before === after && before === fitting[0]) {
      if (knownOffsets.size >= KNOWN_OFFSETS_MAX) knownOffsets.clear();
      knownOffsets.set(key, fitting[0]);
    }
    return wall - fitting[0] * SECOND_MS;
  }
  const named = fitting.filter((offset) => namesAt(timeZone, wall - offset * SECOND_MS).includes(zone));
  if (named.length === 1) return wall - named[0] * SECOND_MS;
  const why =
    fitting.length === 0
      ? `Node's data for time zone ${JSON.stringify(timeZone)} has no such local time`
      : `${JSON.stringify(zone)} does not tell which of the two times the clocks of ${JSON.stringify(timeZone)} showed it`;
  throw cannotParse(text, typeName, `${why}; DateStyle ISO prints offsets`);
}
