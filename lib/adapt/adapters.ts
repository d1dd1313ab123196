// JS → PostgreSQL: every parameter becomes text plus the OID of the type it stands for, or
// 0 to let the server infer the type from the context, as it does for a quoted literal.
// Bytes go in the binary format (a Buffer), and so do flat arrays of numbers or booleans
// bound for the wire (see binary-array.ts); where the value ends up inside other text (an
// element, a composite field, a literal quoted into a statement) it is text.
//
// User adapters are looked up by class, walking the value's prototype chain, as psycopg
// looks dumpers up along a class's MRO. Registries form a chain: global → connection.
import { DataError, ProgrammingError } from '../errors';
import { serializeArray } from '../types/array';
import { formatBool } from '../types/bool';
import { formatBytea } from '../types/bytea';
import { formatTimestamptz } from '../types/datetime';
import { Json } from '../types/json';
import { formatFloat, isInt4, isInt8 } from '../types/numeric';
import { arrayOidOf, Oid } from '../types/oids';
import { checkWellFormed } from '../utf8';
import { binaryArray, type BinaryElementOid } from './binary-array';
import { hasToPostgresMethod, isToPostgres, TO_POSTGRES, type PostgresText, type ToPostgresMethod } from './to-postgres';

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

interface Adapted {
  value: ParamValue;
  oid: number;
}

/** Context of the parameter being adapted: its name for the error messages, where it goes. */
class Slot {
  constructor(
    readonly position: number,
    readonly registry: AdapterRegistry,
    /** the value is the parameter itself, sent as it is: it may take the binary format */
    readonly wire = false,
  ) {}

  get name(): string {
    return `$${this.position}`;
  }

  /** The same parameter, for a value that ends up inside a text. */
  inText(): Slot {
    return this.wire ? new Slot(this.position, this.registry, false) : this;
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

function toBuffer(view: ArrayBufferView): Buffer {
  return Buffer.isBuffer(view) ? view : Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

function checkText(text: string, slot: Slot): string {
  if (text.indexOf('\u0000') !== -1) {
    throw new DataError(`PostgreSQL text fields cannot contain NUL (0x00) bytes (parameter ${slot.name})`);
  }
  return checkWellFormed(text, `parameter ${slot.name}`);
}

/**
 * A lone surrogate as JSON.stringify writes it, \ud800 to \udfff, and not after a backslash
 * of the text's own (written \\); the only other \u escapes it writes are below U+0020.
 */
const LONE_SURROGATE_ESCAPE = /(?<!\\)(?:\\\\)*\\ud[89a-f][0-9a-f]{2}/;

function toJson(value: unknown, slot: Slot): string | null {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ProgrammingError(`cannot adapt parameter ${slot.name} to json: ${reason}`, { cause: error });
  }
  // JSON.stringify(undefined) and of a function give undefined: there is nothing to send.
  // No NUL check: JSON.stringify writes U+0000 as the escape \u0000.
  if (text === undefined) return null;
  // A lone surrogate, in a value or a key, comes out escaped: json would keep the escape and
  // jsonb refuse it, while the value meant cannot be stored at all.
  if (text.indexOf('\\ud') !== -1 && LONE_SURROGATE_ESCAPE.test(text)) {
    throw new DataError(`parameter ${slot.name} holds a lone surrogate (half of a UTF-16 pair, U+D800 to U+DFFF, alone) in its JSON, which has no UTF-8 form`);
  }
  return text;
}

function adaptNumber(value: number): Adapted {
  // -0 is an integer to JS, but only a float keeps its sign
  if (Object.is(value, -0)) return { value: '-0', oid: Oid.float8 };
  if (isInt4(value)) return { value: String(value), oid: Oid.int4 };
  if (Number.isSafeInteger(value)) return { value: String(value), oid: Oid.int8 };
  return { value: formatFloat(value), oid: Oid.float8 };
}

/** A value as text inside another's: null for NULL, bytes in bytea's hex form. */
function textOf(adapted: Adapted): string | null {
  const value = adapted.value;
  return value === null || typeof value === 'string' ? value : formatBytea(value);
}

/**
 * node-postgres's toPostgres(prepareValue): the object goes out as what the method returns,
 * adapted in its turn. `chain` holds the objects whose toPostgres led here: one of them
 * again would loop for ever. prepareValue gives a value's text, as it would go inside
 * another's (bytes as bytea's \x hex).
 */
function adaptToPostgresMethod(object: ToPostgresMethod, slot: Slot, depth: number, chain: readonly object[]): Adapted {
  if (chain.includes(object)) {
    throw new ProgrammingError(`circular reference detected while preparing "${typeName(object)}" for query (parameter ${slot.name})`);
  }
  if (depth >= MAX_ADAPTER_DEPTH) {
    throw new ProgrammingError(
      `cannot adapt parameter ${slot.name}: toPostgres keeps returning values that need adapting (last: ${typeName(object)})`,
    );
  }
  const fieldSlot = slot.inText();
  const prepareValue = (inner: unknown): string | null => textOf(adaptOne(inner, fieldSlot, depth + 1));
  return adaptOne(object.toPostgres(prepareValue), slot, depth + 1, [...chain, object]);
}

function adaptOne(value: unknown, slot: Slot, depth: number, chain: readonly object[] = NO_CHAIN): Adapted {
  if (value === null || value === undefined) return { value: null, oid: 0 };
  const adapter = slot.registry.lookup(value);
  if (adapter !== undefined) {
    if (depth >= MAX_ADAPTER_DEPTH) {
      throw new ProgrammingError(
        `cannot adapt parameter ${slot.name}: the adapters keep returning values that need adapting (last: ${typeName(value)})`,
      );
    }
    return adaptOne(adapter(value), slot, depth + 1);
  }
  switch (typeof value) {
    case 'string':
      return { value: checkText(value, slot), oid: 0 };
    case 'number':
      return adaptNumber(value);
    case 'bigint':
      return { value: value.toString(), oid: isInt8(value) ? Oid.int8 : Oid.numeric };
    case 'boolean':
      return { value: formatBool(value), oid: Oid.bool };
    case 'function':
    case 'symbol':
      throw new ProgrammingError(`cannot adapt parameter ${slot.name}: a value of type ${typeof value} cannot be sent to PostgreSQL`);
    default:
      break;
  }
  const object = value as object;
  if (object instanceof AdaptedValue) {
    const v = object.value;
    return { value: typeof v === 'string' ? checkText(v, slot) : v, oid: object.oid };
  }
  if (isToPostgres(object)) {
    // the library's own value classes: Interval, Range, Composite, ...
    const fieldSlot = slot.inText();
    const inner = (item: unknown): PostgresText | null => {
      const adapted = adaptOne(item, fieldSlot, depth + 1);
      const text = textOf(adapted);
      return text === null ? null : { text, oid: adapted.oid };
    };
    const own = object[TO_POSTGRES](inner);
    return { value: checkText(own.text, slot), oid: own.oid };
  }
  if (object instanceof Date) {
    if (Number.isNaN(object.getTime())) throw new ProgrammingError(`cannot adapt parameter ${slot.name}: invalid Date`);
    // Sent untyped: the server reads the UTC text as the column needs it. A timestamptz
    // gets the instant; a timestamp gets the UTC wall-clock time, which reads back as the
    // same Date (timestamps are read as UTC), whatever the session's time zone.
    return { value: formatTimestamptz(object), oid: 0 };
  }
  // bytes travel in binary format: no hex encoding on the way
  if (ArrayBuffer.isView(object)) return { value: toBuffer(object), oid: Oid.bytea };
  if (object instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && object instanceof SharedArrayBuffer)) {
    return { value: Buffer.from(new Uint8Array(object)), oid: Oid.bytea };
  }
  if (Array.isArray(object)) return adaptArray(object, slot, depth);
  if (object instanceof Json) return { value: toJson(object.value, slot), oid: Oid.json };
  // node-postgres's protocol, where node-postgres looks for it: after bytes, dates and arrays
  if (hasToPostgresMethod(object)) return adaptToPostgresMethod(object, slot, depth, chain);
  if (isPlainObject(object)) return { value: toJson(object, slot), oid: Oid.json };
  const name = typeName(object);
  throw new ProgrammingError(
    `cannot adapt parameter ${slot.name} of type ${name}: register an adapter for it with types.setAdapter(${name}, fn), or wrap it in Json to send it as json`,
  );
}

// Element types of a JS array, unified into the array's element type.
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

function adaptArray(array: readonly unknown[], slot: Slot, depth: number): Adapted {
  const flat = adaptFlatArray(array, slot);
  if (flat !== undefined) return flat;
  const types = new ElementTypes();
  const shape: Shape = { dims: [], leafLevel: -1, leaves: 0 };
  const texts = adaptElements(array, slot.inText(), depth, types, shape, 0);
  if (shape.leaves === 0) {
    // '{{}}' is not a valid literal: an array with no elements at all is just '{}'
    return { value: '{}', oid: 0 };
  }
  const elementOid = types.result();
  const arrayOid = elementOid > 0 ? (arrayOidOf(elementOid) ?? 0) : 0;
  return { value: serializeArray(texts, identityText), oid: arrayOid };
}

/**
 * One-dimensional arrays of numbers, of strings or of booleans (with NULLs), the usual bulk
 * parameters (`unnest($1::int[], $2::text[])`), in one pass without an object per element.
 * Anything else, or a user adapter for the element's kind, takes the general path, which
 * gives the same text and type. Numbers and booleans bound for the wire go in binary.
 */
function adaptFlatArray(array: readonly unknown[], slot: Slot): Adapted | undefined {
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
      } else if (!isInt4(number)) {
        allInt4 = false;
      }
    } else if (type === 'string' && ((item as string).includes('\u0000') || !(item as string).isWellFormed())) {
      return undefined; // the general path names the parameter in its error
    }
  }
  if (kind === undefined || slot.registry.lookup(sample) !== undefined) return undefined;
  const elementOid = kind === 'string' ? Oid.text : kind === 'boolean' ? Oid.bool : allInt4 ? Oid.int4 : allSafeIntegers ? Oid.int8 : Oid.float8;
  const arrayOid = arrayOidOf(elementOid) ?? 0;
  if (slot.wire && kind !== 'string' && arrayOid !== 0) {
    return { value: binaryArray(array, elementOid as BinaryElementOid, nulls), oid: arrayOid };
  }
  if (nulls === 0) {
    const joined = joinedLiteral(array, kind, sawNegativeZero);
    if (joined !== undefined) return { value: joined, oid: arrayOid };
  }
  const texts = new Array<string | null>(array.length);
  for (let i = 0; i < array.length; i++) {
    const item = array[i];
    if (item === null || item === undefined) texts[i] = null;
    else if (kind === 'string') texts[i] = item as string;
    else if (kind === 'boolean') texts[i] = item ? 't' : 'f';
    else texts[i] = allSafeIntegers ? String(item) : formatFloat(item as number);
  }
  // numbers and booleans never need quotes in an array literal: no scan of their text
  const literal = kind === 'string' ? serializeArray(texts, identityText) : `{${texts.map((text) => text ?? 'NULL').join(',')}}`;
  return { value: literal, oid: arrayOid };
}

const QUOTE_OR_BACKSLASH = /["\\]/;

/**
 * The literal of an array without NULLs made by Array.prototype.join, which builds the text
 * in one native pass instead of an element at a time: numbers join as String() writes them
 * (formatFloat's text, but for -0), and strings, when none holds a quote or a backslash,
 * join with every element quoted, which reads back the same whatever the element (empty,
 * NULL, blanks, braces). Undefined when the elements need the general path.
 */
function joinedLiteral(array: readonly unknown[], kind: 'number' | 'string' | 'boolean', sawNegativeZero: boolean): string | undefined {
  if (kind === 'number') return sawNegativeZero ? undefined : `{${array.join(',')}}`;
  if (kind === 'boolean') return undefined; // t and f: half the bytes of true and false
  if (QUOTE_OR_BACKSLASH.test(array.join(','))) return undefined;
  return `{"${array.join('","')}"}`;
}

function identityText(value: unknown): string | null {
  return value as string | null;
}

function adaptElements(
  array: readonly unknown[],
  slot: Slot,
  depth: number,
  types: ElementTypes,
  shape: Shape,
  level: number,
): unknown[] {
  if (level >= 6) {
    // PostgreSQL's MAXDIM
    throw new ProgrammingError(`cannot adapt parameter ${slot.name}: PostgreSQL arrays have at most 6 dimensions`);
  }
  if (shape.leafLevel !== -1 && level > shape.leafLevel) throw ragged(slot);
  if (shape.dims.length === level) shape.dims.push(array.length);
  else if (shape.dims[level] !== array.length) throw ragged(slot);
  const out = new Array<unknown>(array.length);
  let nested: boolean | undefined;
  for (let i = 0; i < array.length; i++) {
    const item = array[i];
    const isArray = Array.isArray(item);
    if (nested === undefined) nested = isArray;
    else if (nested !== isArray) throw ragged(slot);
    if (isArray) {
      out[i] = adaptElements(item as unknown[], slot, depth, types, shape, level + 1);
      continue;
    }
    if (shape.leafLevel === -1) shape.leafLevel = level;
    else if (shape.leafLevel !== level) throw ragged(slot);
    shape.leaves++;
    if (item === null || item === undefined) {
      out[i] = null;
      continue;
    }
    const adapted = adaptOne(item, slot, depth);
    // a string is unknown on its own but text inside an array, unless an adapter made it
    const oid = typeof item === 'string' && adapted.oid === 0 ? Oid.text : adapted.oid;
    if (typeof item === 'bigint') types.sawBigint = true;
    if (adapted.value === null) {
      out[i] = null;
    } else {
      out[i] = typeof adapted.value === 'string' ? adapted.value : formatBytea(adapted.value);
    }
    types.add(oid);
  }
  return out;
}

function ragged(slot: Slot): ProgrammingError {
  return new ProgrammingError(
    `cannot adapt parameter ${slot.name}: a multi-dimensional array must be rectangular, with sub-arrays of matching lengths and no scalars beside them`,
  );
}

/**
 * The value as it will go out, refused when PostgreSQL could not take it whole: a value of
 * more than 1 GB (text counted as UTF-8) is refused by the server, or worse, once sent.
 */
function checkSize(adapted: Adapted, position: number): Adapted {
  const value = adapted.value;
  if (value === null) return adapted;
  // UTF-8 takes at most 3 bytes per UTF-16 unit: only long texts need measuring
  const bytes = typeof value === 'string' ? (value.length > MAX_FIELD_BYTES / 3 ? Buffer.byteLength(value, 'utf8') : 0) : value.length;
  if (bytes > MAX_FIELD_BYTES) {
    throw new DataError(
      `parameter $${position} is ${bytes} bytes${typeof value === 'string' ? ' of UTF-8' : ''}: PostgreSQL takes at most ${MAX_FIELD_BYTES} bytes (1 GB less one byte) in a value`,
    );
  }
  return adapted;
}

/** One value as parameter text and type OID. `position` (1-based) names it in errors. */
export function adaptValue(value: unknown, registry: AdapterRegistry = globalAdapters, position = 1): { value: ParamValue; oid: number } {
  return checkSize(adaptOne(value, new Slot(position, registry), 0), position);
}

/**
 * Parameters for the native layer: their values and the type OIDs to declare (0: the server
 * infers). With `wire`, the values are bound to a statement as they are (MAX_PARAMETERS at
 * most), and flat arrays of numbers or booleans come in the binary format; without it every
 * value but bytes is text.
 */
export function adaptParams(values: readonly unknown[], registry: AdapterRegistry = globalAdapters, wire = false): AdaptedParams {
  const n = values.length;
  // libpq refuses the statement, too late to fail it alone: every bound statement comes here first
  if (wire && n > MAX_PARAMETERS) {
    throw new ProgrammingError(`a statement takes at most ${MAX_PARAMETERS} parameters, not ${n}: send the values as arrays (unnest) or in several statements`);
  }
  const out: ParamValue[] = new Array<ParamValue>(n);
  const typeOids: number[] = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const adapted = checkSize(adaptOne(values[i], new Slot(i + 1, registry, wire), 0), i + 1);
    out[i] = adapted.value;
    typeOids[i] = adapted.oid;
  }
  return { values: out, typeOids };
}
