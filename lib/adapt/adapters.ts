// JS → PostgreSQL: every parameter becomes text plus the OID of the type it stands for, or
// 0 to let the server infer the type from the context, as it does for a quoted literal.
//
// The rule is that a value read from a column goes back into a comparison or an insert on
// that column without a cast, for every type. So most values go untyped, and the server
// reads them as the column's type: numbers (a real column compares as real, a jsonb one as
// jsonb; 'Infinity' is also a date), booleans, strings, Dates, arrays (uuid = ANY($1), an
// int2[] column), JSON (json and jsonb both). Typed are only the values whose type no
// context can change: bytes (bytea, in binary), bigint (int8), Interval, and what an
// adapter or a value class declares. Where the statement casts a parameter to an array of
// int4, int8, float8 or bool (`unnest($1::int4[])`), a flat array of such values goes in
// PostgreSQL's binary format, typed (see binary-array.ts); an empty array alone goes in
// binary too, the one form that reads as an empty array of any type and as nothing else
// (untyped '{}' would also be the json object {}). Where a value ends up inside other text
// (an element, a composite field, a literal quoted into a statement) it is text.
//
// User adapters are looked up by class, walking the value's prototype chain, as psycopg
// looks dumpers up along a class's MRO. Registries form a chain: global → connection.
import { DataError, ProgrammingError } from '../errors';
import { serializeArray } from '../types/array';
import { formatBytea } from '../types/bytea';
import { formatTimestampLocal } from '../types/date-format';
import { formatTimestamptz, parseTimestampLocal } from '../types/datetime';
import { geometryParamText, Geometry } from '../types/ewkb';
import { Box } from '../types/geometric';
import { isJsonArray, Json } from '../types/json';
import { formatFloat, isInt4, isInt8 } from '../types/numeric';
import { arrayOidOf, Oid } from '../types/oids';
import { checkWellFormed } from '../utf8';
import { binaryArray, emptyBinaryArray, type BinaryElementOid } from './binary-array';
import { hasToPostgresMethod, isToPostgres, TO_POSTGRES, type PostgresText, type ToPostgresMethod } from './to-postgres';
import type { TypecasterRegistry } from './typecasters';

/** A parameter as the native layer takes it. */
export type ParamValue = string | Buffer | null;

/** A class (or a primitive's wrapper: Number, String, Boolean, BigInt) adapters are keyed by. */
export type AdaptableClass = abstract new (...args: never[]) => unknown;
export type AdapterKey = AdaptableClass | BigIntConstructor;

/** Returns something adaptable in place of the value: a string is sent with an unknown type. */
export type Adapter<T = never> = (value: T) => unknown;

/**
 * What an adapter returns to choose the type OID itself, e.g.
 * `new AdaptedValue('1 day', 1186)` for an interval.
 */
export class AdaptedValue {
  constructor(
    readonly value: ParamValue,
    readonly oid: number,
  ) {}
}

/** An adapter as the registry keeps it: given the values of the class it was set for. */
type AnyAdapter = (value: unknown) => unknown;

export class AdapterRegistry {
  readonly parent: AdapterRegistry | undefined;
  // replaced, never mutated, on every change
  private adapters: ReadonlyMap<AdapterKey, AnyAdapter> = new Map();
  private changes = 0;
  private flat: { version: number; map: ReadonlyMap<unknown, AnyAdapter> } | undefined;

  constructor(parent?: AdapterRegistry) {
    this.parent = parent;
  }

  /** Grows on every change to this registry or a parent. */
  get version(): number {
    return this.changes + (this.parent !== undefined ? this.parent.version : 0);
  }

  /** Adapt instances of `cls` (and of its subclasses) with `fn`. */
  set<T>(cls: AdapterKey & { prototype: T }, fn: Adapter<T>): this {
    if (typeof cls !== 'function') throw new ProgrammingError('setAdapter needs a class as its first argument');
    if (typeof fn !== 'function') throw new ProgrammingError('an adapter must be a function (value) => adaptable value');
    const next = new Map(this.adapters);
    next.set(cls, fn as AnyAdapter);
    this.adapters = next;
    this.changes++;
    return this;
  }

  /** Remove the adapter this registry (not a parent) has for `cls`. */
  delete(cls: AdapterKey): boolean {
    if (!this.adapters.has(cls)) return false;
    const next = new Map(this.adapters);
    next.delete(cls);
    this.adapters = next;
    this.changes++;
    return true;
  }

  /** The adapter set for exactly this class, here or in a parent. */
  get(cls: AdapterKey): AnyAdapter | undefined {
    return this.effective().get(cls);
  }

  /** The adapter that applies to a value, if any. */
  lookup(value: unknown): AnyAdapter | undefined {
    const map = this.effective();
    if (map.size === 0) return undefined;
    switch (typeof value) {
      case 'number':
        return map.get(Number);
      case 'string':
        return map.get(String);
      case 'boolean':
        return map.get(Boolean);
      case 'bigint':
        return map.get(BigInt);
      case 'object': {
        if (value === null) return undefined;
        for (let proto = Object.getPrototypeOf(value) as object | null; proto !== null; proto = Object.getPrototypeOf(proto) as object | null) {
          if (Object.prototype.hasOwnProperty.call(proto, 'constructor')) {
            const fn = map.get((proto as { constructor: unknown }).constructor);
            if (fn !== undefined) return fn;
          }
        }
        return undefined;
      }
      default:
        return undefined;
    }
  }

  /** This registry's adapters over its parents', flattened once per version. */
  private effective(): ReadonlyMap<unknown, AnyAdapter> {
    const version = this.version;
    if (this.flat === undefined || this.flat.version !== version) {
      let map: ReadonlyMap<unknown, AnyAdapter>;
      if (this.parent === undefined) {
        map = this.adapters;
      } else {
        const merged = new Map<unknown, AnyAdapter>(this.parent.effective());
        for (const [key, fn] of this.adapters) merged.set(key, fn);
        map = merged;
      }
      this.flat = { version, map };
    }
    return this.flat.map;
  }
}

/** The registry of the whole process; each connection's registry has it as parent. */
export const globalAdapters = new AdapterRegistry();

/** Adapt instances of `cls` with `fn` everywhere (a connection's own adapters come first). */
export function setAdapter<T>(cls: AdapterKey & { prototype: T }, fn: Adapter<T>): void {
  globalAdapters.set(cls, fn);
}

export interface AdaptedParams {
  values: ParamValue[];
  typeOids: number[];
}

/** PostgreSQL's limit of parameters in one statement (a 16-bit count in the protocol). */
export const MAX_PARAMETERS = 65535;

/** PostgreSQL's largest value of a field: 1 GB less one byte (MaxAllocSize - 1). */
export const MAX_FIELD_BYTES = 0x3fffffff;

/** How deep adapters may hand values to one another before it is taken for a loop. */
const MAX_ADAPTER_DEPTH = 16;

const NO_CHAIN: readonly object[] = [];

/**
 * What the statement casts a parameter to, as far as it changes how the value travels:
 * an array OID of BinaryElementOid (flat arrays of those values go in binary), another
 * array type (an array marked as JSON goes as a PostgreSQL array all the same), json or
 * jsonb (an array goes as JSON), or nothing known.
 */
export const ParamCast = Object.freeze({
  none: 0,
  otherArray: -1,
  json: -2,
  /** box[], whose array literal separates elements with ';' */
  boxArray: -3,
  /**
   * the parameter's placeholders disagree ($1 and $1::float8): untyped, the server would
   * deduce two types and refuse the statement, so integers go as int4 (int8 past it) and
   * booleans as bool, one type for the server to convert from
   */
  mixed: -4,
  /** geometry or geography (PostGIS): a plain object is a GeoJSON geometry, sent as EWKB */
  geometry: -5,
});

/** Where the values come from and go: one per call, reused for every value (no object per value). */
export interface AdaptOptions {
  /** the values are bound to a statement as they are: arrays may take the binary format */
  wire?: boolean;
  /** per parameter, a ParamCast or the array OID the statement casts it to */
  casts?: Int32Array | null;
  /** the typecasters the results are read with: Dates follow their timestamp choice */
  typecasters?: TypecasterRegistry;
}

/**
 * The state of one adaptation: the parameter being adapted (its position names it in
 * errors), whether its value is the parameter itself, and the OID of the value last adapted,
 * which adaptOne leaves here rather than in an object of its own.
 */
class Adaptation {
  position = 0;
  /** the value is the parameter itself, sent as it is: it may take the binary format */
  wire = false;
  /** what the statement casts this parameter to (ParamCast, or an array OID) */
  cast: number = ParamCast.none;
  /** out: the OID of the value adaptOne returned last */
  oid = 0;
  #localTimestamps: boolean | undefined;

  constructor(
    readonly registry: AdapterRegistry,
    readonly typecasters: TypecasterRegistry | undefined,
  ) {}

  get name(): string {
    return `$${this.position}`;
  }

  /** timestamps are read in local time (types.setTimestampType('local')): Dates go out in local time too */
  get localTimestamps(): boolean {
    this.#localTimestamps ??= this.typecasters !== undefined && this.typecasters.get(Oid.timestamp) === parseTimestampLocal;
    return this.#localTimestamps;
  }
}

/** The class name of an object for messages, else its typeof. */
function typeName(value: unknown): string {
  if (value === null || typeof value !== 'object') return value === null ? 'null' : typeof value;
  const ctor = (value as { constructor?: { name?: unknown } }).constructor;
  return ctor !== undefined && typeof ctor.name === 'string' && ctor.name !== '' ? ctor.name : 'object';
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as object | null;
  return proto === null || proto === Object.prototype || Object.getPrototypeOf(proto) === null;
}

/** The bytes of a typed array or DataView as a Buffer, without a copy. */
export function toBuffer(view: ArrayBufferView): Buffer {
  return Buffer.isBuffer(view) ? view : Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

function checkText(text: string, at: Adaptation): string {
  if (text.indexOf('\u0000') !== -1) {
    throw new DataError(`PostgreSQL text fields cannot contain NUL (0x00) bytes (parameter ${at.name})`);
  }
  return checkWellFormed(text, `parameter ${at.name}`);
}

/**
 * A lone surrogate as JSON.stringify writes it, \ud800 to \udfff, and not after a backslash
 * of the text's own (written \\); the only other \u escapes it writes are below U+0020.
 */
const LONE_SURROGATE_ESCAPE = /(?<!\\)(?:\\\\)*\\ud[89a-f][0-9a-f]{2}/;

function toJson(value: unknown, at: Adaptation): string | null {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ProgrammingError(`cannot adapt parameter ${at.name} to json: ${reason}`, { cause: error });
  }
  // JSON.stringify(undefined) and of a function give undefined: there is nothing to send.
  // No NUL check: JSON.stringify writes U+0000 as the escape \u0000.
  if (text === undefined) return null;
  // A lone surrogate, in a value or a key, comes out escaped: json would keep the escape and
  // jsonb refuse it, while the value meant cannot be stored at all.
  if (text.indexOf('\\ud') !== -1 && LONE_SURROGATE_ESCAPE.test(text)) {
    throw new DataError(`parameter ${at.name} holds a lone surrogate (half of a UTF-16 pair, U+D800 to U+DFFF, alone) in its JSON, which has no UTF-8 form`);
  }
  return text;
}

/**
 * A number's text, untyped: the server reads it as the column's type, so that a real
 * column compares as real (not as float8, where 1.1 is another number), a jsonb one as
 * jsonb, a date or a timestamp takes ±Infinity, and text takes it too. -0 keeps its sign.
 */
function numberText(value: number): string {
  return Number.isInteger(value) && !Object.is(value, -0) ? String(value) : formatFloat(value);
}

/** A value as text inside another's: null for NULL, bytes in bytea's hex form. */
function textOf(value: ParamValue): string | null {
  return value === null || typeof value === 'string' ? value : formatBytea(value);
}

/** Adapt a value that goes inside another's text (an element, a field, a range bound). */
function adaptInner(value: unknown, at: Adaptation, depth: number): string | null {
  const wire = at.wire;
  const cast = at.cast;
  at.wire = false;
  at.cast = ParamCast.none;
  const text = textOf(adaptOne(value, at, depth));
  at.wire = wire;
  at.cast = cast;
  return text;
}

/**
 * node-postgres's toPostgres(prepareValue): the object goes out as what the method returns,
 * adapted in its turn. `chain` holds the objects whose toPostgres led here: one of them
 * again would loop for ever. prepareValue gives a value's text, as it would go inside
 * another's (bytes as bytea's \x hex).
 */
function adaptToPostgresMethod(object: ToPostgresMethod, at: Adaptation, depth: number, chain: readonly object[]): ParamValue {
  if (chain.includes(object)) {
    throw new ProgrammingError(`circular reference detected while preparing "${typeName(object)}" for query (parameter ${at.name})`);
  }
  if (depth >= MAX_ADAPTER_DEPTH) {
    throw new ProgrammingError(
      `cannot adapt parameter ${at.name}: toPostgres keeps returning values that need adapting (last: ${typeName(object)})`,
    );
  }
  const prepareValue = (inner: unknown): string | null => adaptInner(inner, at, depth + 1);
  return adaptOne(object.toPostgres(prepareValue), at, depth + 1, [...chain, object]);
}

/** The value's parameter text (or bytes, or null); its OID left in `at.oid`. */
function adaptOne(value: unknown, at: Adaptation, depth: number, chain: readonly object[] = NO_CHAIN): ParamValue {
  if (value === null || value === undefined) {
    at.oid = 0;
    return null;
  }
  const adapter = at.registry.lookup(value);
  if (adapter !== undefined) {
    if (depth >= MAX_ADAPTER_DEPTH) {
      throw new ProgrammingError(
        `cannot adapt parameter ${at.name}: the adapters keep returning values that need adapting (last: ${typeName(value)})`,
      );
    }
    return adaptOne(adapter(value), at, depth + 1);
  }
  switch (typeof value) {
    case 'string':
      at.oid = 0;
      return checkText(value, at);
    case 'number':
      at.oid = at.cast === ParamCast.mixed && Number.isSafeInteger(value) && !Object.is(value, -0) ? (isInt4(value) ? Oid.int4 : Oid.int8) : 0;
      return numberText(value);
    case 'bigint':
      at.oid = isInt8(value) ? Oid.int8 : Oid.numeric;
      return value.toString();
    case 'boolean':
      // 'true' rather than 't': json and jsonb read it too
      at.oid = at.cast === ParamCast.mixed ? Oid.bool : 0;
      return value ? 'true' : 'false';
    case 'function':
    case 'symbol':
      throw new ProgrammingError(`cannot adapt parameter ${at.name}: a value of type ${typeof value} cannot be sent to PostgreSQL`);
    default:
      break;
  }
  const object = value as object;
  if (object instanceof AdaptedValue) {
    const v = object.value;
    at.oid = object.oid;
    return typeof v === 'string' ? checkText(v, at) : v;
  }
  if (object instanceof Geometry) {
    at.oid = object.oid;
    return geometryParamText(object.geometry, at.name);
  }
  if (isToPostgres(object)) {
    // the library's own value classes: Interval, Range, Multirange, Composite, records, ...
    const inner = (item: unknown): PostgresText | null => {
      const text = adaptInner(item, at, depth + 1);
      return text === null ? null : { text, oid: at.oid };
    };
    const own = object[TO_POSTGRES](inner);
    at.oid = own.oid;
    return checkText(own.text, at);
  }
  if (object instanceof Date) {
    if (Number.isNaN(object.getTime())) throw new ProgrammingError(`cannot adapt parameter ${at.name}: invalid Date`);
    // Untyped: a timestamptz gets the instant; a timestamp the wall-clock time it is read
    // back as, in UTC (the default) or in local time (setTimestampType('local')).
    at.oid = 0;
    return at.localTimestamps ? formatTimestampLocal(object) : formatTimestamptz(object);
  }
  // bytes travel in binary format: no hex encoding on the way
  if (ArrayBuffer.isView(object)) {
    at.oid = Oid.bytea;
    return toBuffer(object);
  }
  if (object instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && object instanceof SharedArrayBuffer)) {
    at.oid = Oid.bytea;
    return Buffer.from(new Uint8Array(object));
  }
  if (Array.isArray(object)) {
    // a JSON array read from a column goes back as JSON, unless the statement makes it an
    // array; any array goes as JSON where the statement makes it json ($1::jsonb)
    const cast = at.cast;
    if (cast === ParamCast.json || (cast === ParamCast.none && isJsonArray(object))) {
      at.oid = 0;
      return toJson(object, at);
    }
    return adaptArray(object, at, depth);
  }
  if (object instanceof Json) {
    at.oid = 0;
    return toJson(object.value, at);
  }
  // node-postgres's protocol, where node-postgres looks for it: after bytes, dates and arrays
  if (hasToPostgresMethod(object)) return adaptToPostgresMethod(object, at, depth, chain);
  if (at.cast === ParamCast.geometry && isPlainObject(object)) {
    // $1::geometry: GeoJSON, written as the EWKB that geometry and geography both read
    at.oid = 0;
    return geometryParamText(object, at.name);
  }
  if (isPlainObject(object)) {
    // untyped: json and jsonb both read it (a json parameter would not compare with jsonb)
    at.oid = 0;
    return toJson(object, at);
  }
  const name = typeName(object);
  throw new ProgrammingError(
    `cannot adapt parameter ${at.name} of type ${name}: register an adapter for it with types.setAdapter(${name}, fn), or wrap it in Json to send it as json`,
  );
}

// Element types of a JS array, unified into the array's element type. Only typed elements
// (bigint, values an adapter or a class typed) make a typed array.
const NUMBER_RANK: ReadonlyMap<number, number> = new Map([
  [Oid.int4, 1],
  [Oid.int8, 2],
  [Oid.float8, 3],
  [Oid.numeric, 4],
]);

class ElementTypes {
  oid = -1; // -1: no element seen yet
  /** a bigint was among the elements: float8 could not hold it exactly */
  sawBigint = false;
  /** every element is a Box (and there is one): box[] separates its elements with ';' */
  boxes = 0;
  others = 0;

  add(oid: number): void {
    if (this.oid === oid || this.oid === 0) return;
    if (this.oid === -1) {
      this.oid = oid;
      return;
    }
    const a = NUMBER_RANK.get(this.oid);
    const b = NUMBER_RANK.get(oid);
    if (a !== undefined && b !== undefined) {
      this.oid = a > b ? this.oid : oid;
    } else {
      // types that do not mix: send the literal untyped and let the server decide
      this.oid = 0;
    }
  }

  result(): number {
    if (this.oid === Oid.float8 && this.sawBigint) return Oid.numeric;
    return this.oid;
  }
}

interface Shape {
  /** the lengths along each dimension, from the first array seen at each depth */
  dims: number[];
  /** the depth at which elements (not sub-arrays) sit, -1 until one is seen */
  leafLevel: number;
  leaves: number;
}

/** Whether an element is a sub-array (a dimension), not a value that happens to be an array. */
function isSubArray(item: unknown): item is unknown[] {
  return Array.isArray(item) && !isToPostgres(item) && !isJsonArray(item);
}

function adaptArray(array: readonly unknown[], at: Adaptation, depth: number): ParamValue {
  const flat = adaptFlatArray(array, at);
  if (flat !== undefined) return flat;
  const types = new ElementTypes();
  const shape: Shape = { dims: [], leafLevel: -1, leaves: 0 };
  const wire = at.wire;
  const texts = adaptElements(array, at, depth, types, shape, 0);
  if (shape.leaves === 0) {
    // '{{}}' is not a valid literal: an array with no elements at all is just '{}', which
    // untyped would also be the json object {}. Alone, it goes in binary, which only an
    // array type reads.
    at.oid = 0;
    return wire ? emptyBinaryArray() : '{}';
  }
  const elementOid = types.result();
  at.oid = elementOid > 0 ? (arrayOidOf(elementOid) ?? 0) : 0;
  const boxes = (types.boxes > 0 && types.others === 0) || (wire && at.cast === ParamCast.boxArray);
  return serializeArray(texts, identityText, boxes ? ';' : ',');
}

/**
 * One-dimensional arrays of numbers, of strings or of booleans (with NULLs), the usual bulk
 * parameters (`unnest($1::int4[], $2::text[])`), in one pass without an object per element.
 * Anything else, or a user adapter for the element's kind, takes the general path, which
 * gives the same text. Untyped, unless the statement casts the parameter to an array of
 * int4, int8, float8 or bool that the values fit: then they go in binary, with that type.
 */
function adaptFlatArray(array: readonly unknown[], at: Adaptation): ParamValue | undefined {
  let kind: 'number' | 'string' | 'boolean' | undefined;
  let allInt4 = true;
  let allSafeIntegers = true;
  let nulls = 0;
  let sawNegativeZero = false;
  let sample: unknown;
  for (let i = 0; i < array.length; i++) {
    const item = array[i];
    if (item === null || item === undefined) {
      nulls++;
      continue;
    }
    const type = typeof item;
    if (kind === undefined) {
      if (type !== 'number' && type !== 'string' && type !== 'boolean') return undefined;
      kind = type;
      sample = item;
    } else if (type !== kind) {
      return undefined;
    }
    if (type === 'number') {
      const number = item as number;
      if (!Number.isSafeInteger(number) || Object.is(number, -0)) {
        if (Object.is(number, -0)) sawNegativeZero = true;
        allInt4 = false;
        allSafeIntegers = false;
      } else if (number > 2147483647 || number < -2147483648) {
        allInt4 = false;
      }
    } else if (type === 'string' && ((item as string).includes('\u0000') || !(item as string).isWellFormed())) {
      return undefined; // the general path names the parameter in its error
    }
  }
  if (kind === undefined || at.registry.lookup(sample) !== undefined) return undefined;
  if (at.wire && at.cast > 0) {
    const binary = binaryElementOid(at.cast, kind, allInt4, allSafeIntegers);
    if (binary !== undefined) {
      at.oid = at.cast;
      return binaryArray(array, binary, nulls);
    }
  }
  at.oid = 0;
  // strings bound for box[] (`$1::box[]`): its literal separates elements with ';'
  const delimiter = at.wire && at.cast === ParamCast.boxArray && kind === 'string' ? ';' : ',';
  if (nulls === 0 && delimiter === ',') {
    const joined = joinedLiteral(array, kind, sawNegativeZero);
    if (joined !== undefined) return joined;
  }
  const texts = new Array<string | null>(array.length);
  for (let i = 0; i < array.length; i++) {
    const item = array[i];
    if (item === null || item === undefined) texts[i] = null;
    else if (kind === 'string') texts[i] = item as string;
    else if (kind === 'boolean') texts[i] = item ? 'true' : 'false';
    else texts[i] = numberText(item as number);
  }
  // numbers and booleans never need quotes in an array literal: no scan of their text
  return kind === 'string' ? serializeArray(texts, identityText, delimiter) : `{${texts.map((text) => text ?? 'NULL').join(',')}}`;
}

/** The binary element type for values of `kind` where the statement casts to `arrayOid`, if they fit it. */
function binaryElementOid(arrayOid: number, kind: 'number' | 'string' | 'boolean', allInt4: boolean, allSafeIntegers: boolean): BinaryElementOid | undefined {
  if (kind === 'boolean') return arrayOid === BINARY_ARRAY_OIDS.bool ? Oid.bool : undefined;
  if (kind !== 'number') return undefined;
  // a value the cast's type cannot hold stays text, and the server refuses it: never rounded
  if (arrayOid === BINARY_ARRAY_OIDS.int4) return allInt4 ? Oid.int4 : undefined;
  if (arrayOid === BINARY_ARRAY_OIDS.int8) return allSafeIntegers ? Oid.int8 : undefined;
  if (arrayOid === BINARY_ARRAY_OIDS.float8) return Oid.float8;
  return undefined;
}

/** The array types whose elements binary-array.ts writes. */
export const BINARY_ARRAY_OIDS = Object.freeze({ int4: 1007, int8: 1016, float8: 1022, bool: 1000 });

const QUOTE_OR_BACKSLASH = /["\\]/;

/**
 * The literal of an array without NULLs made by Array.prototype.join, which builds the text
 * in one native pass instead of an element at a time: numbers and booleans join as String()
 * writes them (but -0), and strings, when none holds a quote or a backslash, join with
 * every element quoted, which reads back the same whatever the element (empty, NULL,
 * blanks, braces). Undefined when the elements need the general path.
 */
function joinedLiteral(array: readonly unknown[], kind: 'number' | 'string' | 'boolean', sawNegativeZero: boolean): string | undefined {
  if (kind === 'number') return sawNegativeZero ? undefined : `{${array.join(',')}}`;
  if (kind === 'boolean') return `{${array.join(',')}}`;
  if (QUOTE_OR_BACKSLASH.test(array.join(','))) return undefined;
  return `{"${array.join('","')}"}`;
}

function identityText(value: unknown): string | null {
  return value as string | null;
}

function adaptElements(
  array: readonly unknown[],
  at: Adaptation,
  depth: number,
  types: ElementTypes,
  shape: Shape,
  level: number,
): unknown[] {
  if (level >= 6) {
    // PostgreSQL's MAXDIM
    throw new ProgrammingError(`cannot adapt parameter ${at.name}: PostgreSQL arrays have at most 6 dimensions`);
  }
  if (shape.leafLevel !== -1 && level > shape.leafLevel) throw ragged(at);
  if (shape.dims.length === level) shape.dims.push(array.length);
  else if (shape.dims[level] !== array.length) throw ragged(at);
  const out = new Array<unknown>(array.length);
  let nested: boolean | undefined;
  for (let i = 0; i < array.length; i++) {
    const item = array[i];
    const isArray = isSubArray(item);
    if (nested === undefined) nested = isArray;
    else if (nested !== isArray) throw ragged(at);
    if (isArray) {
      out[i] = adaptElements(item, at, depth, types, shape, level + 1);
      continue;
    }
    if (shape.leafLevel === -1) shape.leafLevel = level;
    else if (shape.leafLevel !== level) throw ragged(at);
    shape.leaves++;
    if (item === null || item === undefined) {
      out[i] = null;
      continue;
    }
    if (typeof item === 'bigint') types.sawBigint = true;
    if (item instanceof Box) types.boxes++;
    else types.others++;
    out[i] = adaptInner(item, at, depth);
    types.add(at.oid);
  }
  return out;
}

function ragged(at: Adaptation): ProgrammingError {
  return new ProgrammingError(
    `cannot adapt parameter ${at.name}: a multi-dimensional array must be rectangular, with sub-arrays of matching lengths and no scalars beside them`,
  );
}

/**
 * The value as it will go out, refused when PostgreSQL could not take it whole: a value of
 * more than 1 GB (text counted as UTF-8) is refused by the server, or worse, once sent.
 */
function checkSize(value: ParamValue, position: number): ParamValue {
  if (value === null) return value;
  // UTF-8 takes at most 3 bytes per UTF-16 unit: only long texts need measuring
  const bytes = typeof value === 'string' ? (value.length > MAX_FIELD_BYTES / 3 ? Buffer.byteLength(value, 'utf8') : 0) : value.length;
  if (bytes > MAX_FIELD_BYTES) {
    throw new DataError(
      `parameter $${position} is ${bytes} bytes${typeof value === 'string' ? ' of UTF-8' : ''}: PostgreSQL takes at most ${MAX_FIELD_BYTES} bytes (1 GB less one byte) in a value`,
    );
  }
  return value;
}

/** One value as parameter text and type OID. `position` (1-based) names it in errors. */
export function adaptValue(
  value: unknown,
  registry: AdapterRegistry = globalAdapters,
  position = 1,
  options: AdaptOptions = {},
): { value: ParamValue; oid: number } {
  const at = new Adaptation(registry, options.typecasters);
  at.position = position;
  at.wire = options.wire === true;
  at.cast = options.casts?.[position - 1] ?? ParamCast.none;
  const adapted = checkSize(adaptOne(value, at, 0), position);
  return { value: adapted, oid: at.oid };
}

/**
 * Parameters for the native layer: their values and the type OIDs to declare (0: the server
 * infers). With `wire`, the values are bound to a statement as they are (MAX_PARAMETERS at
 * most), and may take the binary format; without it every value but bytes is text.
 */
export function adaptParams(values: readonly unknown[], registry: AdapterRegistry = globalAdapters, options: AdaptOptions = {}): AdaptedParams {
  const n = values.length;
  const wire = options.wire === true;
  // libpq refuses the statement, too late to fail it alone: every bound statement comes here first
  if (wire && n > MAX_PARAMETERS) {
    throw new ProgrammingError(`a statement takes at most ${MAX_PARAMETERS} parameters, not ${n}: send the values as arrays (unnest) or in several statements`);
  }
  const out: ParamValue[] = new Array<ParamValue>(n);
  const typeOids: number[] = new Array<number>(n);
  const casts = options.casts ?? null;
  const at = new Adaptation(registry, options.typecasters);
  for (let i = 0; i < n; i++) {
    at.position = i + 1;
    at.wire = wire;
    at.cast = casts !== null && i < casts.length ? casts[i] : ParamCast.none;
    out[i] = checkSize(adaptOne(values[i], at, 0), i + 1);
    typeOids[i] = at.oid;
  }
  return { values: out, typeOids };
}
