// PostgreSQL text → JS values by node-postgres's rules (its pg-types package): which parser
// each type OID gets by default, the process-wide registry (`types.setTypeParser`), and the
// per-client overrides (TypeOverrides). Written for the text format: pqnode always asks for
// text results; binary parsers can be registered but are never looked up by a query.
import { parseArray } from '../types/array';
import { parseBytea } from '../types/bytea';
import { PostgresInterval } from './interval';

export type TypeFormat = 'text' | 'binary';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TypeParser<I = string, T = any> = (value: I) => T;

/** What a query's or a client's `types` option must offer. */
export interface CustomTypesConfig {
  getTypeParser(oid: number, format?: TypeFormat): TypeParser;
}

/** The OIDs of PostgreSQL's built-in base types, by upper-case name, as pg-types names them. */
export const builtins = Object.freeze({
  BOOL: 16,
  BYTEA: 17,
  CHAR: 18,
  INT8: 20,
  INT2: 21,
  INT4: 23,
  REGPROC: 24,
  TEXT: 25,
  OID: 26,
  TID: 27,
  XID: 28,
  CID: 29,
  JSON: 114,
  XML: 142,
  PG_NODE_TREE: 194,
  SMGR: 210,
  PATH: 602,
  POLYGON: 604,
  CIDR: 650,
  FLOAT4: 700,
  FLOAT8: 701,
  ABSTIME: 702,
  RELTIME: 703,
  TINTERVAL: 704,
  CIRCLE: 718,
  MACADDR8: 774,
  MONEY: 790,
  MACADDR: 829,
  INET: 869,
  ACLITEM: 1033,
  BPCHAR: 1042,
  VARCHAR: 1043,
  DATE: 1082,
  TIME: 1083,
  TIMESTAMP: 1114,
  TIMESTAMPTZ: 1184,
  INTERVAL: 1186,
  TIMETZ: 1266,
  BIT: 1560,
  VARBIT: 1562,
  NUMERIC: 1700,
  REFCURSOR: 1790,
  REGPROCEDURE: 2202,
  REGOPER: 2203,
  REGOPERATOR: 2204,
  REGCLASS: 2205,
  REGTYPE: 2206,
  UUID: 2950,
  TXID_SNAPSHOT: 2970,
  PG_LSN: 3220,
  PG_NDISTINCT: 3361,
  PG_DEPENDENCIES: 3402,
  TSVECTOR: 3614,
  TSQUERY: 3615,
  GTSVECTOR: 3642,
  REGCONFIG: 3734,
  REGDICTIONARY: 3769,
  JSONB: 3802,
  REGNAMESPACE: 4089,
  REGROLE: 4096,
});

// ---------------------------------------------------------------------------------------
// the parsers

/** The parser of a type nobody registered one for: the text itself. */
export function noParse(value: string): string {
  return String(value);
}

export function parseBool(value: string): boolean {
  return value === 't' || value === 'TRUE' || value === 'true' || value === 'y' || value === 'yes' || value === 'on' || value === '1';
}

export function parseInteger(value: string): number {
  return parseInt(value, 10);
}

/** int8 stays a string: a JS number could not hold it exactly. */
export function parseBigInteger(value: string): string {
  return value;
}

const DATE_TIME = /(\d+)-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d+)?.*?( BC)?$/;
const DATE_ONLY = /^(\d+)-(\d{2})-(\d{2})( BC)?$/;
const ZONE = /([Z+-])(\d{2})?:?(\d{2})?:?(\d{2})?/;

/** A year as JS counts them: 1 BC is year 0. */
function yearOf(digits: string, bc: boolean): number {
  const year = parseInt(digits, 10);
  return bc ? 1 - year : year;
}

/** The zone offset of a timestamp's text, in milliseconds; undefined when it has none. */
function zoneOffset(text: string): number | undefined {
  if (text.endsWith('+00')) return 0;
  const zone = ZONE.exec(text.split(' ')[1] ?? '');
  if (zone === null) return undefined;
  if (zone[1] === 'Z') return 0;
  const seconds = parseInt(zone[2] ?? '0', 10) * 3600 + parseInt(zone[3] ?? '0', 10) * 60 + parseInt(zone[4] ?? '0', 10);
  return (zone[1] === '-' ? -seconds : seconds) * 1000;
}

/** The number `count` decimal digits at `start` make; -1 when one is not a digit. */
function digitsAt(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * parseDate's common case without a regular expression: 'YYYY-MM-DD', or 'YYYY-MM-DD
 * HH:MM:SS' with up to six digits of fraction and a zone '±HH[:MM[:SS]]' or none (a year
 * of four digits, not BC). The same Date operations as the general case, so the same
 * values: the fraction's first three digits are the milliseconds the Date constructors keep
 * of 1000 × parseFloat(fraction) (checked for every fraction of six digits). Undefined for
 * any other text.
 */
function parseIsoDate(text: string): Date | undefined {
  const length = text.length;
  if (length < 10 || text.charCodeAt(4) !== 45 /* - */ || text.charCodeAt(7) !== 45) return undefined;
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  if (year < 0 || month < 0 || day < 0) return undefined;
  if (length === 10) {
    const date = new Date(year, month - 1, day);
    if (year < 100) date.setFullYear(year);
    return date;
  }
  if (length < 19 || text.charCodeAt(10) !== 32 || text.charCodeAt(13) !== 58 /* : */ || text.charCodeAt(16) !== 58) return undefined;
  const hour = digitsAt(text, 11, 2);
  const minute = digitsAt(text, 14, 2);
  const second = digitsAt(text, 17, 2);
  if (hour < 0 || minute < 0 || second < 0) return undefined;
  let at = 19;
  let ms = 0;
  if (at < length && text.charCodeAt(at) === 46 /* . */) {
    const start = ++at;
    while (at < length && text.charCodeAt(at) >= 48 && text.charCodeAt(at) <= 57) at++;
    const count = at - start;
    if (count === 0 || count > 6) return undefined;
    ms = digitsAt(text, start, Math.min(count, 3));
    for (let i = count; i < 3; i++) ms *= 10;
  }
  if (at === length) {
    const date = new Date(year, month - 1, day, hour, minute, second, ms);
    if (year < 100) date.setFullYear(year);
    return date;
  }
  const sign = text.charCodeAt(at);
  const rest = length - at;
  if ((sign !== 43 /* + */ && sign !== 45) || (rest !== 3 && rest !== 6 && rest !== 9)) return undefined;
  const zoneHours = digitsAt(text, at + 1, 2);
  const zoneMinutes = rest >= 6 && text.charCodeAt(at + 3) === 58 ? digitsAt(text, at + 4, 2) : rest >= 6 ? -1 : 0;
  const zoneSeconds = rest === 9 && text.charCodeAt(at + 6) === 58 ? digitsAt(text, at + 7, 2) : rest === 9 ? -1 : 0;
  if (zoneHours < 0 || zoneMinutes < 0 || zoneSeconds < 0) return undefined;
  const offset = (sign === 45 ? -1 : 1) * (zoneHours * 3600 + zoneMinutes * 60 + zoneSeconds) * 1000;
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms));
  if (year < 100) date.setUTCFullYear(year);
  if (offset !== 0) date.setTime(date.getTime() - offset);
  return date;
}

/**
 * date, timestamp and timestamptz → Date: a timestamptz at its instant, a timestamp and a date
 * in the local time zone (a date at local midnight); ±infinity → ±Infinity.
 */
export function parseDate(text: string): Date | number | null {
  if (text === 'infinity') return Infinity;
  if (text === '-infinity') return -Infinity;
  const iso = parseIsoDate(text);
  if (iso !== undefined) return iso;
  const match = DATE_TIME.exec(text);
  if (match === null) {
    const day = DATE_ONLY.exec(text);
    if (day === null) return null;
    const year = yearOf(day[1], day[4] !== undefined);
    const date = new Date(year, parseInt(day[2], 10) - 1, parseInt(day[3], 10));
    // the multi-argument constructor reads years 0 to 99 as 1900 to 1999
    if (year >= 0 && year < 100) date.setFullYear(year);
    return date;
  }
  const year = yearOf(match[1], match[8] !== undefined);
  const month = parseInt(match[2], 10) - 1;
  const day = parseInt(match[3], 10);
  const hour = parseInt(match[4], 10);
  const minute = parseInt(match[5], 10);
  const second = parseInt(match[6], 10);
  const ms = match[7] ? 1000 * parseFloat(match[7]) : 0;
  const offset = zoneOffset(text);
  if (offset === undefined) {
    const date = new Date(year, month, day, hour, minute, second, ms);
    if (year >= 0 && year < 100) date.setFullYear(year);
    return date;
  }
  const date = new Date(Date.UTC(year, month, day, hour, minute, second, ms));
  if (year >= 0 && year < 100) date.setUTCFullYear(year);
  if (offset !== 0) date.setTime(date.getTime() - offset);
  return date;
}

function parsePoint(value: string): { x: number; y: number } | null {
  if (value[0] !== '(') return null;
  const [x, y] = value.substring(1, value.length - 1).split(',');
  return { x: parseFloat(x), y: parseFloat(y) };
}

function parseCircle(value: string): { x: number; y: number; radius: number } | null {
  // '<(x,y),r>'
  const close = value.indexOf(')');
  if (value[0] !== '<' || value[1] !== '(' || close === -1) return null;
  const center = parsePoint(value.slice(1, close + 1));
  if (center === null) return null;
  return { ...center, radius: parseFloat(value.slice(close + 2, value.length - 1)) };
}

function parseInterval(value: string): PostgresInterval {
  return new PostgresInterval(value);
}

function parseJson(value: string): unknown {
  return JSON.parse(value);
}

/** An array parser whose elements (NULL aside) go through `element`. */
function arrayOf(element?: TypeParser): TypeParser<string, unknown[] | null> {
  return (value) => (value ? parseArray(value, element) : null);
}

/** The parsers a fresh process has, per OID (text format). */
const DEFAULT_TEXT_PARSERS: ReadonlyMap<number, TypeParser> = new Map<number, TypeParser>([
  [20, parseBigInteger],
  [21, parseInteger],
  [23, parseInteger],
  [26, parseInteger],
  [700, parseFloat],
  [701, parseFloat],
  [16, parseBool],
  [1082, parseDate],
  [1114, parseDate],
  [1184, parseDate],
  [600, parsePoint],
  [651, arrayOf()],
  [718, parseCircle],
  [1000, arrayOf(parseBool)],
  [1001, arrayOf(parseBytea)],
  [1005, arrayOf(parseInteger)],
  [1007, arrayOf(parseInteger)],
  [1028, arrayOf(parseInteger)],
  [1016, arrayOf(parseBigInteger)],
  [1017, arrayOf(parsePoint)],
  [1021, arrayOf(parseFloat)],
  [1022, arrayOf(parseFloat)],
  [1231, arrayOf(parseFloat)],
  [1014, arrayOf()],
  [1015, arrayOf()],
  [1008, arrayOf()],
  [1009, arrayOf()],
  [1040, arrayOf()],
  [1041, arrayOf()],
  [1115, arrayOf(parseDate)],
  [1182, arrayOf(parseDate)],
  [1185, arrayOf(parseDate)],
  [1186, parseInterval],
  [1187, arrayOf(parseInterval)],
  [17, parseBytea],
  [114, parseJson],
  [3802, parseJson],
  [199, arrayOf(parseJson)],
  [3807, arrayOf(parseJson)],
  [3907, arrayOf()],
  [2951, arrayOf()],
  [791, arrayOf()],
  [1183, arrayOf()],
  [1270, arrayOf()],
]);

/** node-postgres's default parser for an OID, whatever was registered since. */
export function defaultTypeParser(oid: number): TypeParser | undefined {
  return DEFAULT_TEXT_PARSERS.get(oid);
}

// ---------------------------------------------------------------------------------------
// the process-wide registry (pg-types)

const textParsers = new Map<number, TypeParser>(DEFAULT_TEXT_PARSERS);
const binaryParsers = new Map<number, TypeParser>();

/** Grows on every setTypeParser(): parsers looked up before may be stale. */
let registryVersion = 0;

export function typeRegistryVersion(): number {
  return registryVersion;
}

function checkOid(oid: unknown): number {
  const value = typeof oid === 'string' && /^\d+$/.test(oid) ? Number(oid) : oid;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new TypeError(`invalid type OID: ${String(oid)}`);
  return value;
}

export function getTypeParser(oid: number, format: TypeFormat = 'text'): TypeParser {
  const parsers = format === 'binary' ? binaryParsers : format === 'text' || format === undefined ? textParsers : undefined;
  return (parsers?.get(Number(oid)) as TypeParser | undefined) ?? noParse;
}

export function setTypeParser(oid: number, parseFn: TypeParser): void;
export function setTypeParser(oid: number, format: TypeFormat, parseFn: TypeParser): void;
export function setTypeParser(oid: number, formatOrFn: TypeFormat | TypeParser, maybeFn?: TypeParser): void {
  const format = typeof formatOrFn === 'function' ? 'text' : formatOrFn;
  const parseFn = typeof formatOrFn === 'function' ? formatOrFn : maybeFn;
  if (typeof parseFn !== 'function') throw new TypeError('a type parser must be a function');
  if (format === 'binary') binaryParsers.set(checkOid(oid), parseFn);
  else if (format === 'text') textParsers.set(checkOid(oid), parseFn);
  else throw new TypeError(`unknown format ${JSON.stringify(format)}: 'text' or 'binary'`);
  registryVersion++;
}

/** pg-types' array parser: `arrayParser.create(text, transform).parse()`. */
export const arrayParser = Object.freeze({
  create(source: string, transform?: TypeParser): { parse(): unknown[] } {
    return { parse: () => parseArray(source, transform) };
  },
});

/** What `pg.types` is. */
export const types = Object.freeze({ getTypeParser, setTypeParser, arrayParser, builtins });

// ---------------------------------------------------------------------------------------
// per-client overrides

/** A client's own parsers over another set (the process-wide one by default), as node-postgres's TypeOverrides. */
export class TypeOverrides implements CustomTypesConfig {
  readonly _types: CustomTypesConfig;
  readonly text: Record<number, TypeParser> = {};
  readonly binary: Record<number, TypeParser> = {};
  /** @internal grows on every setTypeParser() here */
  _changes = 0;

  constructor(userTypes?: CustomTypesConfig) {
    this._types = userTypes ?? types;
  }

  getOverrides(format: TypeFormat | undefined): Record<number, TypeParser> {
    if (format === 'text' || format === undefined) return this.text;
    if (format === 'binary') return this.binary;
    return {};
  }

  setTypeParser(oid: number, parseFn: TypeParser): void;
  setTypeParser(oid: number, format: TypeFormat, parseFn: TypeParser): void;
  setTypeParser(oid: number, formatOrFn: TypeFormat | TypeParser, maybeFn?: TypeParser): void {
    const format = typeof formatOrFn === 'function' ? 'text' : formatOrFn;
    const parseFn = typeof formatOrFn === 'function' ? formatOrFn : maybeFn;
    if (typeof parseFn !== 'function') throw new TypeError('a type parser must be a function');
    this.getOverrides(format)[oid] = parseFn;
    this._changes++;
  }

  getTypeParser(oid: number, format: TypeFormat = 'text'): TypeParser {
    return this.getOverrides(format)[oid] ?? this._types.getTypeParser(oid, format);
  }
}

/**
 * A number that changes whenever the parsers `config` gives may have changed (the
 * process-wide ones, or a TypeOverrides' over them); undefined for a config of another kind,
 * whose getTypeParser() may answer differently at any time.
 */
export function typesVersion(config: CustomTypesConfig): number | undefined {
  if (config === types) return registryVersion;
  if (!(config instanceof TypeOverrides)) return undefined;
  const inner = typesVersion(config._types);
  // each part grows only: their sum changes whenever one of them does
  return inner === undefined ? undefined : inner + config._changes;
}
