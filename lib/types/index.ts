// The public `types` namespace: typecasters (PostgreSQL → JS) and adapters (JS → PostgreSQL),
// global or for one connection.
import type { Connection } from '../connection';
import { globalTypecasters, resolveOid, TypecasterRegistry, type Typecaster } from '../adapt/typecasters';
import { globalAdapters, type Adapter, type AdapterKey } from '../adapt/adapters';
import { ProgrammingError } from '../errors';
import { Oid } from './oids';
import { parseBigInt, parseInt8AsNumber, parseNumeric, parseNumericAsNumber } from './numeric';
import { parseTimestamp, parseTimestampLocal } from './datetime';

export type { Typecaster } from '../adapt/typecasters';
export type { Adapter } from '../adapt/adapters';
export { Json } from './json';
export { Oid } from './oids';
export { Interval } from './interval';
export type { IntervalParts } from './interval';
export { Multirange, Range } from './range';
export type { RangeBounds } from './range';
export { Point, Line, Lseg, Box, Path, Polygon, Circle } from './geometric';
export type { PointLike } from './geometric';
export { fetchTypeInfo, TypeInfo } from './typeinfo';
export type { TypeCategory, TypeField, RegisterOptions } from './typeinfo';
export { registerEnum } from './enum';
export { registerComposite, Composite, CompositeRecord } from './composite';
export type { RegisterCompositeOptions } from './composite';
export { registerRange } from './user-range';
export { registerHstore } from './hstore';
export type { RegisterHstoreOptions } from './hstore';
export { registerPostgis } from './postgis';
export type { PostgisTypes, RegisterPostgisOptions } from './postgis';
export { Geometry, parseEwkb, parseEwkbHex, formatEwkbHex } from './ewkb';
export type {
  GeoJsonGeometry,
  GeometryCollectionGeometry,
  LineStringGeometry,
  MultiLineStringGeometry,
  MultiPointGeometry,
  MultiPolygonGeometry,
  PointGeometry,
  PolygonGeometry,
  Position,
} from './ewkb';

export interface ScopeOptions {
  /** set it for this connection only; otherwise for every connection */
  conn?: Connection;
  /** set it for this cursor's results only (typecasters; a cursor's parameters use its connection's adapters) */
  cursor?: { readonly typecasters: TypecasterRegistry };
}

/** Use `fn(text)` for values of a type (by OID, or by a built-in type's name). NULL never reaches it. */
export function setTypecaster(oidOrName: number | string, fn: Typecaster, options: ScopeOptions = {}): void {
  typecastersOf(options).set(resolveOid(oidOrName), fn);
}

/** Read values of type `arrayOid` as arrays whose elements go through the typecaster of `elementOid`. */
export function setArrayTypecaster(arrayOid: number | string, elementOid: number | string, options: ScopeOptions = {}): void {
  typecastersOf(options).setArray(arrayOid, elementOid);
}

/** Adapt instances of `cls` with `fn(value)`, which returns something adaptable (a string goes as text of unknown type). */
export function setAdapter<T>(cls: AdapterKey & { prototype: T }, fn: Adapter<T>, options: ScopeOptions = {}): void {
  const registry = options.conn !== undefined ? options.conn.adapters : globalAdapters;
  registry.set(cls, fn);
}

function typecastersOf(options: ScopeOptions): TypecasterRegistry {
  if (options.cursor !== undefined) return options.cursor.typecasters;
  return options.conn !== undefined ? options.conn.typecasters : globalTypecasters;
}

/** Back to the library's default: dropped here, or set explicitly when a parent registry overrides it. */
function restoreDefault(registry: TypecasterRegistry, oid: number, fn: Typecaster): void {
  registry.delete(oid);
  if (registry.hasUserTypecaster(oid)) registry.set(oid, fn);
}

/**
 * How int8 values come back: 'bigint' (the default, exact), 'number' (a DataError for a
 * value past ±2^53 rather than a rounded one) or 'string'. Arrays of int8 follow.
 */
export function setInt8Type(kind: 'bigint' | 'number' | 'string', options: ScopeOptions = {}): void {
  const registry = typecastersOf(options);
  switch (kind) {
    case 'bigint':
      restoreDefault(registry, Oid.int8, parseBigInt);
      break;
    case 'number':
      registry.set(Oid.int8, parseInt8AsNumber);
      break;
    case 'string':
      registry.set(Oid.int8, String);
      break;
    default:
      throw new ProgrammingError(`setInt8Type takes 'bigint', 'number' or 'string', got ${JSON.stringify(kind)}`);
  }
}

/**
 * How numeric values come back: 'string' (the default, lossless), 'number' (rounded to
 * the nearest double), or a function given the text, e.g. `(text) => new Decimal(text)`.
 * Arrays and ranges of numeric follow.
 */
export function setNumericType(kind: 'string' | 'number' | ((text: string) => unknown), options: ScopeOptions = {}): void {
  const registry = typecastersOf(options);
  if (typeof kind === 'function') registry.set(Oid.numeric, kind);
  else if (kind === 'string') restoreDefault(registry, Oid.numeric, parseNumeric);
  else if (kind === 'number') registry.set(Oid.numeric, parseNumericAsNumber);
  else throw new ProgrammingError(`setNumericType takes 'string', 'number' or a function, got ${JSON.stringify(kind)}`);
}

/**
 * How timestamp (without time zone) values come back: 'utc' (the default: the wall-clock
 * time read as UTC, the same whatever the process's time zone) or 'local' (read in the
 * process's time zone). Dates sent as parameters follow, so that a Date read goes back as
 * the same timestamp: with 'utc' a Date goes out as its UTC time, with 'local' as its local
 * time, each with its offset (a timestamptz gets the same instant either way).
 */
export function setTimestampType(kind: 'utc' | 'local', options: ScopeOptions = {}): void {
  const registry = typecastersOf(options);
  if (kind === 'utc') restoreDefault(registry, Oid.timestamp, parseTimestamp);
  else if (kind === 'local') registry.set(Oid.timestamp, parseTimestampLocal);
  else throw new ProgrammingError(`setTimestampType takes 'utc' or 'local', got ${JSON.stringify(kind)}`);
}
