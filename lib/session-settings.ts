// Session settings that change the text the server sends must not change the values a query
// gives. What each one needs (README, "Session settings"):
//
// - DateStyle and TimeZone shape dates and timestamps; IntervalStyle intervals; bytea_output
//   bytea. Every form is read (types/datestyle.ts, interval.ts, bytea.ts), so the session keeps
//   what its user set. DateStyle and TimeZone are GUC_REPORT: libpq knows their current value,
//   which a result keeps (C++) when its dates need it.
// - extra_float_digits ≤ 0 rounds floats before they are sent, which no reading can undo, and
//   the server does not report it; a client_encoding other than UTF8 garbles what is read and
//   what is sent (JS strings go out and come in as UTF-8). The connection keeps both: it sets
//   them before the first statement of the session (client_encoding is in the startup packet
//   too), and again after every statement that may have changed them, before any that follows.
import { DataError } from './errors';
import { NativeDecoder, type NativeResult } from './native';
import { fallbackDecoder, NATIVE_DECODERS, type TypecasterRegistry } from './adapt/typecasters';
import type { DateStyleSource } from './types/datestyle';

/** What the connection runs to keep floats exact (3 is exact on every server version) and text UTF-8. */
export const KEPT_SETTINGS = "SELECT set_config('extra_float_digits', '3', false), set_config('client_encoding', 'UTF8', false)";

// SET / RESET of either, SET NAMES, RESET ALL, DISCARD ALL, or a DO block doing one of them
const CHANGES_KEPT_SETTINGS = /extra_float_digits|client_encoding|\bnames\b|\b(?:reset|discard)\s+all\b/i;

/** Whether `text` starts, at `start`, with `word` (lower case) as a whole word, in any case. */
function wordAt(text: string, start: number, word: string): boolean {
  if (text.length < start + word.length) return false;
  for (let k = 0; k < word.length; k++) {
    if ((text.charCodeAt(start + k) | 0x20) !== word.charCodeAt(k)) return false;
  }
  // what follows ends the word: not a letter, digit or underscore ('settings', 'do_it')
  const next = text.charCodeAt(start + word.length);
  const letter = (next | 0x20) >= 0x61 && (next | 0x20) <= 0x7a;
  return !(letter || (next >= 0x30 && next <= 0x39) || next === 0x5f);
}

/**
 * Whether a statement may leave extra_float_digits or client_encoding changed: one that starts
 * with SET, RESET, DISCARD or DO (or a comment) and names one of them (or NAMES, SQL's word for
 * client_encoding) or resets everything; in a text of several statements, any of them. The
 * first word settles most statements in a few steps. A function that changes them from
 * inside, or a set_config() call in a query, is not seen.
 */
export function mayChangeKeptSettings(text: string, severalStatements: boolean): boolean {
  if (severalStatements) return CHANGES_KEPT_SETTINGS.test(text);
  let i = 0;
  while (i < text.length && text.charCodeAt(i) <= 0x20) i++;
  const first = text.charCodeAt(i);
  // a leading comment or parenthesis: the whole text decides
  if (first === 0x2d /* - */ || first === 0x2f /* / */ || first === 0x28 /* ( */) return CHANGES_KEPT_SETTINGS.test(text);
  let word: boolean;
  switch (first | 0x20) {
    case 0x73 /* s */:
      word = wordAt(text, i, 'set');
      break;
    case 0x72 /* r */:
      word = wordAt(text, i, 'reset');
      break;
    case 0x64 /* d */:
      word = wordAt(text, i, 'discard') || wordAt(text, i, 'do');
      break;
    default:
      return false;
  }
  return word && CHANGES_KEPT_SETTINGS.test(text);
}

/** The session's DateStyle and TimeZone as libpq knows them when they are asked for. */
export function sessionDateStyle(parameterStatus: (name: string) => string | null): DateStyleSource {
  return {
    get dateStyle() {
      return parameterStatus('DateStyle');
    },
    get timeZone() {
      return parameterStatus('TimeZone');
    },
  };
}

/**
 * @internal The settings to read a result's dates with: those it kept (C++ did, when its dates needed
 * them), unless they say ISO while a date was not: the statement that changed DateStyle ran
 * in the same query text, and the server reported the change only at its end.
 */
export function dateStyleOf(result: NativeResult, session: DateStyleSource): DateStyleSource {
  const kept = result.dateStyle;
  return kept === undefined || kept === null || kept.startsWith('ISO') ? session : (result as DateStyleSource);
}

const DATETIME_DECODERS: ReadonlySet<NativeDecoder> = new Set([NativeDecoder.Date, NativeDecoder.Timestamp, NativeDecoder.TimestampTz]);

/**
 * @internal Read the dates and timestamps C++ left as text because they were not in DateStyle ISO, with
 * their JS parsers (which read every DateStyle); call it with the result's DateStyle entered.
 */
export function readOtherStyleDates(result: NativeResult, registry: TypecasterRegistry): void {
  const fields = result.fields;
  for (let column = 0; column < fields.length; column++) {
    const field = fields[column];
    const kind = NATIVE_DECODERS.get(field.typeOid);
    // what a user typecaster reads, C++ leaves alone; binary columns are bytes
    if (kind === undefined || !DATETIME_DECODERS.has(kind) || field.format !== 0 || registry.hasUserTypecaster(field.typeOid)) continue;
    const parse = fallbackDecoder(kind);
    const read = (value: unknown): unknown => {
      if (typeof value !== 'string') return value;
      try {
        return parse(value);
      } catch (error) {
        throw new DataError(`cannot convert column ${JSON.stringify(field.name)} (type ${field.typeOid}): ${(error as Error).message}`, {
          cause: error,
        });
      }
    };
    if (!result.objectRows) {
      for (const row of result.rows) row[column] = read(row[column]);
      continue;
    }
    // rows are objects: a later column of the same name holds the property
    if (fields.some((other, index) => index > column && other.name === field.name)) continue;
    for (const row of result.rows as unknown as Record<string, unknown>[]) row[field.name] = read(row[field.name]);
  }
}
