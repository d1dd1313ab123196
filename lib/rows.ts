// Row factories: how a row's values become what the user gets (tuple, object, named, custom).
import { ProgrammingError } from './errors';

/** A column of a result, as the server described it (PQfname, PQftable, PQftype, ...). */
export interface Field {
  readonly name: string;
  /** the table it comes from (0 when none) */
  readonly tableOid: number;
  /** its column number in that table (0 when none) */
  readonly columnId: number;
  readonly typeOid: number;
  /** the type's size in bytes; negative for a variable size */
  readonly typeSize: number;
  /** the type modifier (varchar's length, numeric's precision and scale, ...); -1 when none */
  readonly typeModifier: number;
  /** 0: text, 1: binary */
  readonly format: number;
}
export type RowMaker<R> = (values: unknown[]) => R;
export type RowFactoryFunction<R = unknown> = (fields: readonly Field[]) => RowMaker<R>;
export type RowFactory = 'tuple' | 'object' | 'named' | RowFactoryFunction;

const MAKER_CACHE_SIZE = 256;
const objectMakers = new Map<string, RowMaker<Record<string, unknown>>>();
const namedMakers = new Map<string, RowMaker<unknown[]>>();

function cacheKey(fields: readonly Field[]): string {
  let key = '';
  for (const field of fields) key += field.name + '\u0000';
  return key;
}

function remember<T>(cache: Map<string, T>, key: string, value: T): T {
  if (cache.size >= MAKER_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(key, value);
  return value;
}

// Results of one statement share their (frozen) fields list: its maker is found without a key.
const objectMakersByFields = new WeakMap<readonly Field[], RowMaker<Record<string, unknown>>>();

/**
 * One object literal per row, its shape known to V8 up front: the function is compiled once
 * per list of column names and cached. A later column with the same name wins, as in psycopg.
 */
function objectMaker(fields: readonly Field[]): RowMaker<Record<string, unknown>> {
  const known = objectMakersByFields.get(fields);
  if (known !== undefined) return known;
  const make = objectMakerByNames(fields);
  objectMakersByFields.set(fields, make);
  return make;
}

function objectMakerByNames(fields: readonly Field[]): RowMaker<Record<string, unknown>> {
  const key = cacheKey(fields);
  const cached = objectMakers.get(key);
  if (cached !== undefined) return cached;
  const make = new Function('v', `return ${objectLiteral(fields, (index) => `v[${index}]`)};`) as RowMaker<Record<string, unknown>>;
  return remember(objectMakers, key, make);
}

/**
 * The source of a row object literal: a property per column name, in the order names first
 * appear, the later of duplicate names winning, as in psycopg.
 */
function objectLiteral(fields: readonly Field[], valueAt: (index: number) => string): string {
  const lastIndex = new Map<string, number>();
  fields.forEach((field, index) => lastIndex.set(field.name, index));
  const parts: string[] = [];
  for (const [name, index] of lastIndex) {
    // a computed key defines an own property even for '__proto__'
    parts.push(name === '__proto__' ? `[${JSON.stringify(name)}]: ${valueAt(index)}` : `${JSON.stringify(name)}: ${valueAt(index)}`);
  }
  return `{${parts.join(', ')}}`;
}

export type RowAppender = (rows: unknown[], ...values: unknown[]) => void;

const objectAppenders = new Map<string, RowAppender>();

/**
 * `(rows, a0, ..., an-1) => void` appending one row object: what the native layer calls
 * per row when a query's rows are objects and every value is already final, so that no
 * array is made for a row at all.
 */
export function objectRowAppender(fields: readonly Field[]): RowAppender {
  const key = cacheKey(fields);
  const cached = objectAppenders.get(key);
  if (cached !== undefined) return cached;
  const parameters = fields.map((_, index) => `a${index}`);
  const body = `rows[rows.length] = ${objectLiteral(fields, (index) => `a${index}`)};`;
  const append = new Function('rows', ...parameters, body) as RowAppender;
  return remember(objectAppenders, key, append);
}

/** Arrays whose columns can also be read by name, like psycopg's namedtuple rows. */
function namedMaker(fields: readonly Field[]): RowMaker<unknown[]> {
  const key = cacheKey(fields);
  const cached = namedMakers.get(key);
  if (cached !== undefined) return cached;
  const prototype = Object.create(Array.prototype) as object;
  fields.forEach((field, index) => {
    if (field.name in prototype || /^\d+$/.test(field.name)) return;
    Object.defineProperty(prototype, field.name, {
      get(this: unknown[]) {
        return this[index];
      },
      enumerable: false,
    });
  });
  const make: RowMaker<unknown[]> = (values) => Object.setPrototypeOf(values, prototype) as unknown[];
  return remember(namedMakers, key, make);
}

const tupleMaker: RowMaker<unknown[]> = (values) => values;

export function rowMaker(factory: RowFactory, fields: readonly Field[]): RowMaker<unknown> {
  switch (factory) {
    case 'tuple':
      return tupleMaker;
    case 'object':
      return objectMaker(fields);
    case 'named':
      return namedMaker(fields);
    default:
      if (typeof factory === 'function') return factory(fields);
      throw new ProgrammingError(`unknown rowFactory ${JSON.stringify(factory)}: use 'tuple', 'object', 'named' or a function`);
  }
}

export function checkRowFactory(factory: unknown): RowFactory {
  if (factory === 'tuple' || factory === 'object' || factory === 'named' || typeof factory === 'function') {
    return factory as RowFactory;
  }
  throw new ProgrammingError(`unknown rowFactory ${JSON.stringify(factory)}: use 'tuple', 'object', 'named' or a function`);
}
