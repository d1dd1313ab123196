// Parameters as node-postgres prepares them: every value becomes text (or bytes) of no
// declared type, for the server to read as the statement's context wants. Dates go as
// local time with their offset (UTC with defaults.parseInputDatesAsUTC), arrays as array
// literals, objects with toPostgres() as what it returns, other objects as JSON.
import { toBuffer } from '../adapt/adapters';
import { defaults } from './defaults';

export type PreparedValue = string | Buffer | null;

function pad(value: number, length = 2): string {
  return String(value).padStart(length, '0');
}

/** A year as PostgreSQL writes it: 0 is 1 BC, -1 is 2 BC. */
function yearText(year: number): { text: string; bc: boolean } {
  return year < 1 ? { text: pad(1 - year, 4), bc: true } : { text: pad(year, 4), bc: false };
}

function localDateText(date: Date): string {
  const { text: year, bc } = yearText(date.getFullYear());
  let offset = -date.getTimezoneOffset();
  let text = `${year}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
  if (offset < 0) {
    text += '-';
    offset = -offset;
  } else {
    text += '+';
  }
  text += `${pad(Math.floor(offset / 60))}:${pad(offset % 60)}`;
  return bc ? `${text} BC` : text;
}

function utcDateText(date: Date): string {
  const { text: year, bc } = yearText(date.getUTCFullYear());
  const text = `${year}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}T${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}.${pad(date.getUTCMilliseconds(), 3)}+00:00`;
  return bc ? `${text} BC` : text;
}

const QUOTED_SPECIALS = /[\\"]/g;

/** An element's text between double quotes, its backslashes and quotes escaped. */
function quoteElement(text: string): string {
  // most elements have neither: no regular expression runs over them
  if (text.indexOf('"') === -1 && text.indexOf('\\') === -1) return `"${text}"`;
  return `"${text.replace(QUOTED_SPECIALS, '\\$&')}"`;
}

/** Array.prototype.join itself, whatever an array (of a subclass) may carry as its own */
const joinArray = Array.prototype.join;

/**
 * Whether every element is a number, a boolean or a string with no quote and no backslash:
 * then each is written as join() writes it (String()), between quotes, as it is.
 */
function isPlainArray(array: readonly unknown[]): boolean {
  for (let i = 0; i < array.length; i++) {
    const item = array[i];
    const type = typeof item;
    if (type === 'number' || type === 'boolean') continue;
    if (type !== 'string' || (item as string).indexOf('"') !== -1 || (item as string).indexOf('\\') !== -1) return false;
  }
  return true;
}

/** A JS array as a PostgreSQL array literal (elements comma-separated, quoted). */
function arrayLiteral(array: readonly unknown[]): string {
  // one flat string, made at once: no string per element to collect afterwards
  if (array.length > 0 && isPlainArray(array)) return `{"${joinArray.call(array, '","')}"}`;
  let text = '{';
  for (let i = 0; i < array.length; i++) {
    if (i > 0) text += ',';
    const item = array[i];
    // the common elements first: a number's or a boolean's text needs no escaping
    if (typeof item === 'number') text += `"${item}"`;
    else if (typeof item === 'string') text += quoteElement(item);
    else if (typeof item === 'boolean') text += item ? '"true"' : '"false"';
    else if (item === null || item === undefined) text += 'NULL';
    else if (Array.isArray(item)) text += arrayLiteral(item);
    // bytea's hex form, its backslash doubled for the array literal
    else if (ArrayBuffer.isView(item)) text += `\\\\x${toBuffer(item).toString('hex')}`;
    else text += quoteElement(String(prepare(item, NO_SEEN)));
  }
  return `${text}}`;
}

interface ToPostgres {
  toPostgres(prepareValue: (value: unknown) => PreparedValue): unknown;
}

function hasToPostgres(value: object): value is ToPostgres {
  return typeof (value as Partial<ToPostgres>).toPostgres === 'function';
}

/** the objects whose toPostgres() led to a value: none yet */
const NO_SEEN: readonly object[] = [];

function prepare(value: unknown, seen: readonly object[]): PreparedValue {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'object') return String(value as string | number | boolean | bigint);
  if (Buffer.isBuffer(value)) return value;
  if (ArrayBuffer.isView(value)) return toBuffer(value);
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new TypeError('invalid Date given as a query parameter');
    return defaults.parseInputDatesAsUTC ? utcDateText(value) : localDateText(value);
  }
  if (Array.isArray(value)) return arrayLiteral(value);
  if (hasToPostgres(value)) {
    if (seen.includes(value)) throw new Error(`circular reference detected while preparing "${String(value)}" for query`);
    return prepare(value.toPostgres(prepareValue), [...seen, value]);
  }
  return JSON.stringify(value);
}

/** node-postgres's prepareValue: a JS value as the text (or bytes) of a parameter. */
export function prepareValue(value: unknown): PreparedValue {
  return prepare(value, NO_SEEN);
}

/** The parameters of a query, prepared. */
export function prepareValues(values: readonly unknown[]): PreparedValue[] {
  const out = new Array<PreparedValue>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = prepare(values[i], NO_SEEN);
  return out;
}
