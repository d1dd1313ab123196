// Session settings that change the text the server sends must not change the values a query
// gives (README, "Session settings"). DateStyle and TimeZone shape dates and timestamps;
// IntervalStyle intervals; bytea_output bytea. Every form is read (types/datestyle.ts,
// interval.ts, bytea.ts), so the session keeps what its user set. DateStyle and TimeZone are
// GUC_REPORT: libpq knows their current value, which a result keeps (C++) when its dates need it.
import { DataError } from './errors';
import { NativeDecoder, type NativeResult } from './native';
import { fallbackDecoder, NATIVE_DECODERS, type TypecasterRegistry } from './adapt/typecasters';
import type { DateStyleSource } from './types/datestyle';

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
 * The settings to read a result's dates with: those it kept (C++ did, when its dates needed
 * them), unless they say ISO while a date was not: the statement that changed DateStyle ran
 * in the same query text, and the server reported the change only at its end.
 */
export function dateStyleOf(result: NativeResult, session: DateStyleSource): DateStyleSource {
  const kept = result.dateStyle;
  return kept === undefined || kept === null || kept.startsWith('ISO') ? session : (result as DateStyleSource);
}

const DATETIME_DECODERS: ReadonlySet<NativeDecoder> = new Set([NativeDecoder.Date, NativeDecoder.Timestamp, NativeDecoder.TimestampTz]);

/**
 * Read the dates and timestamps C++ left as text because they were not in DateStyle ISO, with
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
