// PostgreSQL → JS: which function turns a column's text into a JS value, per type OID.
//
// Registries form a chain as in psycopg 3: a connection's registry has the global one as
// its parent, and a typecaster set on the connection overrides the global one for that
// connection only. Under the global registry sits the built-in layer: the JS parsers of
// lib/types, and the array casters of every built-in array type.
//
// For the types the C++ layer decodes itself (NativeDecoder), the connection uploads a
// decoder table and C++ hands over finished values; a typecaster the user sets for one of
// those OIDs takes the OID out of the table, so that C++ hands over the text instead.
import { NATIVE_FINAL, NativeDecoder } from '../native';
import { ProgrammingError } from '../errors';
import { BUILTIN_TYPES, oidByName } from '../types/oids';
import { parseArray } from '../types/array';
import { parseBool } from '../types/bool';
import { parseBytea } from '../types/bytea';
import { parseDate, parseTimestamp, parseTimestamptz } from '../types/datetime';
import { parseCircle, parseBox, parseLine, parseLseg, parsePath, parsePoint, parsePolygon } from '../types/geometric';
import { parseInterval } from '../types/interval';
import { parseJson } from '../types/json';
import { BUILTIN_MULTIRANGES, BUILTIN_RANGES, parseMultirange, parseRange } from '../types/range';
import { parseBigInt, parseDouble, parseInteger } from '../types/numeric';

/** Turns the text of a non-NULL value into a JS value. */
export type Typecaster = (text: string) => unknown;

function identity(text: string): string {
  return text;
}

/** @internal The JS twin of each native decoder: same input, same output as the C++ code. */
export const fallbackDecoders: Readonly<Record<NativeDecoder, Typecaster>> = Object.freeze({
  [NativeDecoder.Text]: identity,
  [NativeDecoder.Int]: parseInteger,
  [NativeDecoder.Float]: parseDouble,
  [NativeDecoder.Bool]: parseBool,
  [NativeDecoder.BigInt]: parseBigInt,
  [NativeDecoder.Bytea]: parseBytea,
  [NativeDecoder.TimestampTz]: parseTimestamptz,
  [NativeDecoder.Timestamp]: parseTimestamp,
  [NativeDecoder.Date]: parseDate,
  // the same instant; node-postgres's ways at the edges are pqnode/pg's own parser's
  [NativeDecoder.PgTimestampTz]: parseTimestamptz,
});

/** @internal The JS twin of a native decoder. */
export function fallbackDecoder(kind: NativeDecoder): Typecaster {
  return fallbackDecoders[kind];
}

/** @internal The built-in OIDs the C++ layer can decode, and how. */
export const NATIVE_DECODERS: ReadonlyMap<number, NativeDecoder> = new Map<number, NativeDecoder>([
  [16, NativeDecoder.Bool],
  [17, NativeDecoder.Bytea],
  [20, NativeDecoder.BigInt],
  [21, NativeDecoder.Int],
  [23, NativeDecoder.Int],
  [26, NativeDecoder.Int],
  [700, NativeDecoder.Float],
  [701, NativeDecoder.Float],
  [1082, NativeDecoder.Date],
  [1114, NativeDecoder.Timestamp],
  [1184, NativeDecoder.TimestampTz],
]);

/** Makes a typecaster from the typecasters of other types, as the registry resolves them. */
export type CasterBuilder = (casterOf: (oid: number) => Typecaster | undefined) => Typecaster;

/**
 * A typecaster made of others (arrays, ranges, composites, domains): built when a query
 * needs it, so that a typecaster set later for an element type reaches it too.
 */
export interface Derived {
  readonly build: CasterBuilder;
}

function arrayOf(elementOid: number, delimiter: string): Derived {
  return { build: (casterOf) => arrayCaster(casterOf(elementOid) ?? null, delimiter) };
}

/** A range whose ends go through the typecaster of `subtypeOid`. */
export function rangeOf(subtypeOid: number): Derived {
  return {
    build: (casterOf) => {
      const parseBound = casterOf(subtypeOid);
      return (text: string) => parseRange(text, parseBound);
    },
  };
}

/** A multirange whose ranges go through the typecaster of `rangeOid`. */
export function multirangeOf(rangeOid: number): Derived {
  return {
    build: (casterOf) => {
      const parseOne = casterOf(rangeOid) ?? ((text: string) => parseRange(text));
      return (text: string) => parseMultirange(text, parseOne);
    },
  };
}

// The built-in layer. Library modules for further types (interval, ranges, ...) add their
// casters here with setBuiltinTypecaster: unlike a user's typecaster, a built-in one does
// not take an OID out of the native decoder table.
const builtinCasters = new Map<number, Typecaster>();
const builtinDerived = new Map<number, Derived>();
let builtinVersion = 0;

for (const [oid, kind] of NATIVE_DECODERS) builtinCasters.set(oid, fallbackDecoders[kind]);
builtinCasters.set(114, parseJson);
builtinCasters.set(3802, parseJson);
builtinCasters.set(1186, parseInterval);
builtinCasters.set(600, parsePoint);
builtinCasters.set(628, parseLine);
builtinCasters.set(601, parseLseg);
builtinCasters.set(603, parseBox);
builtinCasters.set(602, parsePath);
builtinCasters.set(604, parsePolygon);
builtinCasters.set(718, parseCircle);
for (const type of BUILTIN_TYPES) {
  if (type.arrayOid !== 0) builtinDerived.set(type.arrayOid, arrayOf(type.oid, type.delimiter));
}
for (const [rangeOid, subtypeOid] of BUILTIN_RANGES) builtinDerived.set(rangeOid, rangeOf(subtypeOid));
for (const [multirangeOid, rangeOid] of BUILTIN_MULTIRANGES) builtinDerived.set(multirangeOid, multirangeOf(rangeOid));

/** Set the library's default typecaster for an OID (below every registry). */
export function setBuiltinTypecaster(oid: number, fn: Typecaster): void {
  builtinCasters.set(oid, fn);
  builtinVersion++;
}

/** Declare, in the built-in layer, that `arrayOid` is an array of `elementOid`. */
export function setBuiltinArray(arrayOid: number, elementOid: number, delimiter = ','): void {
  builtinDerived.set(arrayOid, arrayOf(elementOid, delimiter));
  builtinVersion++;
}

/** Set the library's default typecaster for an OID as one made of other types' typecasters. */
export function setBuiltinDerived(oid: number, build: CasterBuilder): void {
  builtinDerived.set(oid, { build });
  builtinCasters.delete(oid);
  builtinVersion++;
}

/** The OID for an OID or a built-in type name ('int4', 'integer[]', 'timestamp with time zone'). */
export function resolveOid(oidOrName: number | string): number {
  if (typeof oidOrName === 'number') {
    if (!Number.isInteger(oidOrName) || oidOrName <= 0 || oidOrName > 0xffffffff) {
      throw new ProgrammingError(`invalid type OID: ${oidOrName}`);
    }
    return oidOrName;
  }
  const oid = oidByName(oidOrName);
  if (oid === undefined) {
    throw new ProgrammingError(`unknown type name ${JSON.stringify(oidOrName)}: pass its OID, or fetch its type info first`);
  }
  return oid;
}

/** @internal per OID, the native decoder of its values */
export interface NativeDecoderTable {
  oids: number[];
  decoders: number[];
}

interface Resolved {
  version: number;
  /** effective caster per OID, null for none (the text stays a string) */
  casters: Map<number, Typecaster | null>;
  /** what JS still has to run after C++, per OID */
  after: Map<number, Typecaster | null>;
  /** castersFor() of each fields list seen */
  byFields: WeakMap<object, readonly (Typecaster | undefined)[]>;
  table?: NativeDecoderTable;
}

/** how deep types may nest (an array of a composite holding a range of a domain ...) */
const MAX_DERIVED_DEPTH = 16;

const NO_CASTERS: readonly (Typecaster | undefined)[] = Object.freeze([]);
const EMPTY_CASTERS: ReadonlyMap<number, Typecaster> = new Map();
const EMPTY_DERIVED: ReadonlyMap<number, Derived> = new Map();

export class TypecasterRegistry {
  readonly parent: TypecasterRegistry | undefined;
  // Replaced, never mutated, on every change: a map handed out or being walked stays whole.
  private casters: ReadonlyMap<number, Typecaster> = EMPTY_CASTERS;
  private derived: ReadonlyMap<number, Derived> = EMPTY_DERIVED;
  private changes = 0;
  private resolved: Resolved | undefined;
  /** set by nativeOnly(): the decoders of the native table, every other OID left as text */
  private exactNative: ReadonlyMap<number, NativeDecoder> | undefined;

  constructor(parent?: TypecasterRegistry) {
    this.parent = parent;
  }

  /**
   * Grows on every change to this registry, to any parent, or to the built-in layer: a
   * connection compares it with the value it last saw to know when to re-upload its table.
   */
  get version(): number {
    return this.changes + (this.parent !== undefined ? this.parent.version : builtinVersion);
  }

  /**
   * The registry as it is now, unaffected by later changes here or in a parent: a query
   * decodes its results with the state it was sent with. The maps are never mutated, only
   * replaced, so the snapshot shares them.
   */
  snapshot(): TypecasterRegistry {
    const copy = new TypecasterRegistry(this.parent?.snapshot());
    copy.casters = this.casters;
    copy.derived = this.derived;
    copy.changes = this.changes;
    copy.exactNative = this.exactNative;
    return copy;
  }

  /**
   * @internal A registry for a facade that parses values by rules of its own: the native layer decodes
   * the OIDs of `decoders` with theirs, each value final (the facade's parser for the type
   * would make the very same value), and hands every other value over as its text, for the
   * facade. No typecaster of any registry runs over its results.
   */
  static nativeOnly(decoders: ReadonlyMap<number, NativeDecoder>): TypecasterRegistry {
    const registry = new TypecasterRegistry();
    registry.exactNative = new Map(decoders);
    return registry;
  }

  /** Whether this registry itself (not a parent) sets anything: otherwise its parent answers the same. */
  get hasOwnEntries(): boolean {
    return this.casters.size > 0 || this.derived.size > 0 || this.exactNative !== undefined;
  }

  /** Use `fn` for values of type `oid` (an OID or a built-in type name; NULL never reaches `fn`). */
  set(oid: number | string, fn: Typecaster): this {
    if (typeof fn !== 'function') throw new ProgrammingError('a typecaster must be a function (text: string) => unknown');
    const key = resolveOid(oid);
    const next = new Map(this.casters);
    next.set(key, fn);
    this.casters = next;
    if (this.derived.has(key)) {
      // the latest word on an OID wins: drop an array declaration made here before
      const derived = new Map(this.derived);
      derived.delete(key);
      this.derived = derived;
    }
    this.changes++;
    return this;
  }

  /**
   * Read values of type `arrayOid` as arrays of `elementOid`: each element goes through the
   * typecaster of `elementOid` as this registry resolves it at the time of the query.
   */
  setArray(arrayOid: number | string, elementOid: number | string, delimiter = ','): this {
    const oid = resolveOid(arrayOid);
    const element = resolveOid(elementOid);
    if (oid === element) throw new ProgrammingError(`type ${oid} cannot be an array of itself`);
    if (typeof delimiter !== 'string' || delimiter.length !== 1) throw new ProgrammingError('an array delimiter is one character');
    return this.setDerived(oid, arrayOf(element, delimiter).build);
  }

  /**
   * Use a typecaster made from other types' typecasters for `oid`: `build(casterOf)` is
   * called when a query first needs it, with `casterOf(oid)` giving the typecaster this
   * registry resolves for another OID (undefined: the text stays a string).
   */
  setDerived(oidOrName: number | string, build: CasterBuilder): this {
    if (typeof build !== 'function') throw new ProgrammingError('a typecaster builder must be a function');
    const oid = resolveOid(oidOrName);
    const next = new Map(this.derived);
    next.set(oid, { build });
    this.derived = next;
    if (this.casters.has(oid)) {
      const casters = new Map(this.casters);
      casters.delete(oid);
      this.casters = casters;
    }
    this.changes++;
    return this;
  }

  /** Remove what this registry (not a parent) set for `oid`; true when there was something. */
  delete(oid: number): boolean {
    let found = false;
    if (this.casters.has(oid)) {
      const next = new Map(this.casters);
      next.delete(oid);
      this.casters = next;
      found = true;
    }
    if (this.derived.has(oid)) {
      const next = new Map(this.derived);
      next.delete(oid);
      this.derived = next;
      found = true;
    }
    if (found) this.changes++;
    return found;
  }

  /** The typecaster in effect for `oid`, or undefined when its values stay strings. */
  get(oid: number): Typecaster | undefined {
    if (this.exactNative !== undefined) return undefined;
    return this.resolve(this.current(), oid, 0) ?? undefined;
  }

  /** Whether values of type `oid` are turned into something other than their text. */
  has(oid: number): boolean {
    return this.get(oid) !== undefined;
  }

  /** Whether a user typecaster is set for `oid` here or in a parent (the built-in layer aside). */
  hasUserTypecaster(oid: number): boolean {
    return this.userEntry(oid) !== undefined;
  }

  /** What the nearest registry in the chain (this one first) set for `oid`. */
  private userEntry(oid: number): Typecaster | Derived | undefined {
    const entry = this.casters.get(oid) ?? this.derived.get(oid);
    if (entry !== undefined) return entry;
    return this.parent !== undefined ? this.parent.userEntry(oid) : undefined;
  }

  /**
   * @internal The decoder table for the native layer: every built-in OID C++ can decode, with its
   * decoder, or with NativeDecoder.Text when a user typecaster is set for it (so that the
   * table also resets what an earlier upload had turned on). Entries whose value no JS
   * typecaster follows are marked NATIVE_FINAL: those C++ decodes, and the built-in types
   * whose text stays a string (text, varchar, numeric, uuid, ...).
   */
  nativeDecoderTable(): NativeDecoderTable {
    const state = this.current();
    if (state.table === undefined && this.exactNative !== undefined) {
      state.table = { oids: [...this.exactNative.keys()], decoders: [...this.exactNative.values()].map((kind) => kind | NATIVE_FINAL) };
    }
    if (state.table === undefined) {
      const oids: number[] = [];
      const decoders: number[] = [];
      for (const [oid, kind] of NATIVE_DECODERS) {
        oids.push(oid);
        decoders.push(this.hasUserTypecaster(oid) ? NativeDecoder.Text : kind | NATIVE_FINAL);
      }
      for (const type of BUILTIN_TYPES) {
        if (NATIVE_DECODERS.has(type.oid) || this.resolve(state, type.oid, 0) !== null) continue;
        oids.push(type.oid);
        decoders.push(NativeDecoder.Text | NATIVE_FINAL);
      }
      state.table = { oids, decoders };
    }
    return { oids: state.table.oids.slice(), decoders: state.table.decoders.slice() };
  }

  /**
   * Per column, the typecaster JS must apply to what the native layer produced with this
   * registry's decoder table: undefined when C++ already decoded the value or when the
   * value stays a string (text, numeric, uuid, unknown OIDs, ...).
   */
  castersFor(fields: readonly { typeOid: number }[]): readonly (Typecaster | undefined)[] {
    if (this.exactNative !== undefined) return NO_CASTERS;
    const state = this.current();
    // the results of one statement share their fields list: worked out once for all of them
    const known = state.byFields.get(fields);
    if (known !== undefined) return known;
    const out = new Array<Typecaster | undefined>(fields.length);
    let any = false;
    for (let i = 0; i < fields.length; i++) {
      const oid = fields[i].typeOid;
      let caster = state.after.get(oid);
      if (caster === undefined) {
        const native = NATIVE_DECODERS.has(oid) && !this.hasUserTypecaster(oid);
        caster = native ? null : this.resolve(state, oid, 0);
        state.after.set(oid, caster);
      }
      out[i] = caster ?? undefined;
      if (caster !== null) any = true;
    }
    // none to run: an empty list, which every loop over the columns' casters skips at once
    const casters = any ? out : NO_CASTERS;
    state.byFields.set(fields, casters);
    return casters;
  }

  private current(): Resolved {
    const version = this.version;
    if (this.resolved === undefined || this.resolved.version !== version) {
      this.resolved = { version, casters: new Map(), after: new Map(), byFields: new WeakMap() };
    }
    return this.resolved;
  }

  private resolve(state: Resolved, oid: number, depth: number): Typecaster | null {
    const cached = state.casters.get(oid);
    if (cached !== undefined) return cached;
    let caster: Typecaster | null = null;
    let derived: Derived | undefined;
    const entry = this.userEntry(oid);
    if (typeof entry === 'function') {
      caster = entry;
    } else if (entry !== undefined) {
      derived = entry;
    } else {
      caster = builtinCasters.get(oid) ?? null;
      if (caster === null) derived = builtinDerived.get(oid);
    }
    // a chain of declarations that loops back is cut short rather than recursing forever
    if (caster === null && derived !== undefined && depth < MAX_DERIVED_DEPTH) {
      caster = derived.build((other) => this.resolve(state, other, depth + 1) ?? undefined);
    }
    state.casters.set(oid, caster);
    return caster;
  }
}

function arrayCaster(element: Typecaster | null, delimiter: string): Typecaster {
  const parseElement = element ?? undefined;
  return (text: string) => parseArray(text, parseElement, delimiter);
}

/** The registry of the whole process; each connection's registry has it as parent. */
export const globalTypecasters = new TypecasterRegistry();
