// hstore (the extension): '"a"=>"1", "b"=>NULL' — keys and values quoted, '"' and '\'
// escaped by a backslash, NULL unquoted. Its OID is per database: registerHstore looks it up.
import type { Connection } from '../connection';
import { DataError, ProgrammingError } from '../errors';
import { AdaptedValue, globalAdapters } from '../adapt/adapters';
import { TO_POSTGRES, type PostgresText, type ToPostgres } from '../adapt/to-postgres';
import { fetchTypeInfo, targetRegistry, type RegisterOptions, type TypeInfo } from './typeinfo';

function malformed(text: string, detail: string): DataError {
  return new DataError(`malformed hstore literal ${JSON.stringify(text)}: ${detail}`);
}

/** One key or value from `start`: quoted, or bare up to a blank, ',' or '=>'. */
function readItem(text: string, start: number): { value: string; quoted: boolean; end: number } {
  let i = start;
  let value = '';
  if (text[i] === '"') {
    i++;
    for (;;) {
      if (i >= text.length) throw malformed(text, 'unterminated quoted string');
      const c = text[i];
      if (c === '"') return { value, quoted: true, end: i + 1 };
      if (c === '\\' && i + 1 < text.length) {
        value += text[i + 1];
        i += 2;
      } else {
        value += c;
        i++;
      }
    }
  }
  while (i < text.length && !/[\s,=]/.test(text[i])) {
    if (text[i] === '\\' && i + 1 < text.length) {
      value += text[i + 1];
      i += 2;
    } else {
      value += text[i++];
    }
  }
  if (value === '') throw malformed(text, `expected a key or a value at ${start}`);
  return { value, quoted: false, end: i };
}

function skipBlanks(text: string, i: number): number {
  while (i < text.length && /\s/.test(text[i])) i++;
  return i;
}

/** hstore text → its pairs in order, null for a NULL value. */
export function parseHstorePairs(text: string): [string, string | null][] {
  const pairs: [string, string | null][] = [];
  let i = skipBlanks(text, 0);
  while (i < text.length) {
    const key = readItem(text, i);
    i = skipBlanks(text, key.end);
    if (text.slice(i, i + 2) !== '=>') throw malformed(text, `expected "=>" at ${i}`);
    i = skipBlanks(text, i + 2);
    const value = readItem(text, i);
    pairs.push([key.value, !value.quoted && value.value.toUpperCase() === 'NULL' ? null : value.value]);
    i = skipBlanks(text, value.end);
    if (i < text.length) {
      if (text[i] !== ',') throw malformed(text, `expected "," at ${i}`);
      i = skipBlanks(text, i + 1);
    }
  }
  return pairs;
}

export function parseHstoreMap(text: string): Map<string, string | null> {
  return new Map(parseHstorePairs(text));
}

/** hstore text → an object of its pairs, `out` (a plain object unless given). */
export function parseHstoreObject(text: string, out: Record<string, string | null> = {}): Record<string, string | null> {
  for (const [key, value] of parseHstorePairs(text)) {
    // a key named __proto__ is data, not the object's prototype
    if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    else out[key] = value;
  }
  return out;
}

function quote(text: string): string {
  return '"' + text.replace(/["\\]/g, '\\$&') + '"';
}

function valueText(key: string, value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return quote(String(value));
  throw new ProgrammingError(`cannot adapt the hstore value of key ${JSON.stringify(key)}: hstore values are strings or null, got ${typeof value}`);
}

/** A Map or an object of strings (or null) as hstore text. */
export function formatHstore(entries: Iterable<[unknown, unknown]>): string {
  const parts: string[] = [];
  for (const [key, value] of entries) {
    if (typeof key !== 'string') throw new ProgrammingError(`cannot adapt an hstore key of type ${typeof key}: hstore keys are strings`);
    parts.push(`${quote(key)}=>${valueText(key, value)}`);
  }
  return parts.join(', ');
}

/**
 * What an hstore is read as with { as: 'object' }: an object with a property per key, of a
 * class that knows the hstore type of its database, so that it goes back as an hstore (a
 * plain object would go as JSON).
 */
function hstoreObjectClass(oid: number): new () => Record<string, string | null> {
  class HstoreObject implements ToPostgres {
    [TO_POSTGRES](): PostgresText {
      return { text: formatHstore(Object.entries(this)), oid };
    }
  }
  Object.defineProperty(HstoreObject, 'name', { value: 'hstore' });
  return HstoreObject as unknown as new () => Record<string, string | null>;
}

export interface RegisterHstoreOptions extends RegisterOptions {
  /** what an hstore comes back as: a Map (the default) or an object (of a class that goes back as hstore) */
  as?: 'map' | 'object';
}

/**
 * Read hstore values as Maps (or objects), and send Maps as hstore. The extension must be
 * installed in the database (CREATE EXTENSION hstore); `name` is the type's name when it is
 * not 'hstore' on the search_path (e.g. 'extensions.hstore').
 */
export async function registerHstore(
  conn: Connection,
  nameOrOptions?: string | RegisterHstoreOptions,
  moreOptions: RegisterHstoreOptions = {},
): Promise<TypeInfo> {
  const name = typeof nameOrOptions === 'string' ? nameOrOptions : 'hstore';
  const options = typeof nameOrOptions === 'object' && nameOrOptions !== null ? nameOrOptions : moreOptions;
  const as = options.as ?? 'map';
  if (as !== 'map' && as !== 'object') throw new ProgrammingError(`registerHstore: 'as' is 'map' or 'object', got ${JSON.stringify(as)}`);
  const info = await fetchTypeInfo(conn, name);
  if (info === null) throw new ProgrammingError(`registerHstore: no type ${JSON.stringify(name)} in this database (CREATE EXTENSION hstore)`);
  const registry = targetRegistry(conn, options);
  if (as === 'map') {
    registry.set(info.oid, parseHstoreMap);
  } else {
    const HstoreObject = hstoreObjectClass(info.oid);
    registry.set(info.oid, (text) => parseHstoreObject(text, new HstoreObject()));
  }
  if (info.arrayOid !== 0) registry.setArray(info.arrayOid, info.oid, info.delimiter);
  const adapters = options.global === true ? globalAdapters : conn.adapters;
  const oid = info.oid;
  adapters.set(Map, (value: Map<unknown, unknown>) => new AdaptedValue(formatHstore(value.entries()), oid));
  return info;
}
