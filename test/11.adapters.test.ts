// JS → PostgreSQL parameter adaptation: pure, no server.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataError, ProgrammingError } from '../lib/errors';
import { AdaptedValue, AdapterRegistry, adaptParams, adaptValue, globalAdapters, ParamCast, setAdapter } from '../lib/adapt/adapters';
import { Composite } from '../lib/types/composite';
import { Json, parseJson } from '../lib/types/json';
import { parseArray } from '../lib/types/array';
import { parseTimestamptz } from '../lib/types/datetime';
import { thrownBy as errorOf } from './helpers';

function one(value: unknown, registry?: AdapterRegistry): [string | Buffer | null, number] {
  const { values, typeOids } = adaptParams([value], registry);
  return [values[0], typeOids[0]];
}

describe('scalars', () => {
  it('sends null and undefined as NULL of unknown type', () => {
    expect(adaptParams([null, undefined])).toEqual({ values: [null, null], typeOids: [0, 0] });
  });

  it('sends integers untyped, for the server to read as the column needs', () => {
    expect(one(0)).toEqual(['0', 0]);
    expect(one(42)).toEqual(['42', 0]);
    expect(one(2147483647)).toEqual(['2147483647', 0]);
    expect(one(-2147483648)).toEqual(['-2147483648', 0]);
    expect(one(2147483648)).toEqual(['2147483648', 0]);
    expect(one(Number.MAX_SAFE_INTEGER)).toEqual(['9007199254740991', 0]);
    expect(one(Number.MIN_SAFE_INTEGER)).toEqual(['-9007199254740991', 0]);
  });

  it('sends -0 with its sign', () => {
    expect(one(-0)).toEqual(['-0', 0]);
  });

  it('sends non-integers, unsafe integers and specials untyped, in their shortest exact text', () => {
    expect(one(1.5)).toEqual(['1.5', 0]);
    expect(one(0.1)).toEqual(['0.1', 0]);
    expect(one(-1e-7)).toEqual(['-1e-7', 0]);
    expect(one(2 ** 53)).toEqual(['9007199254740992', 0]);
    expect(one(1e21)).toEqual(['1e+21', 0]);
    expect(one(NaN)).toEqual(['NaN', 0]);
    expect(one(Infinity)).toEqual(['Infinity', 0]);
    expect(one(-Infinity)).toEqual(['-Infinity', 0]);
    expect(one(Number.MAX_VALUE)).toEqual(['1.7976931348623157e+308', 0]);
  });

  it('sends bigint as int8 when it fits, numeric otherwise', () => {
    expect(one(0n)).toEqual(['0', 20]);
    expect(one(9223372036854775807n)).toEqual(['9223372036854775807', 20]);
    expect(one(-9223372036854775808n)).toEqual(['-9223372036854775808', 20]);
    expect(one(9223372036854775808n)).toEqual(['9223372036854775808', 1700]);
    expect(one(-9223372036854775809n)).toEqual(['-9223372036854775809', 1700]);
  });

  it('sends strings as they are, with an unknown type', () => {
    expect(one('hello')).toEqual(['hello', 0]);
    expect(one('')).toEqual(['', 0]);
    expect(one("it's é 🐘")).toEqual(["it's é 🐘", 0]);
  });

  it('refuses strings with NUL, naming the parameter', () => {
    const error = errorOf(() => adaptParams(['ok', 'a\u0000b']));
    expect(error).toBeInstanceOf(DataError);
    expect(error.message).toContain('PostgreSQL text fields cannot contain NUL (0x00) bytes');
    expect(error.message).toContain('$2');
    expect(() => adaptParams([['x', 'y\u0000']])).toThrow(/NUL.*\$1/);
  });

  it('sends booleans untyped, spelled as json reads them too', () => {
    expect(one(true)).toEqual(['true', 0]);
    expect(one(false)).toEqual(['false', 0]);
  });

  it('sends Dates untyped, as UTC text with an offset', () => {
    const date = new Date(Date.UTC(2024, 1, 29, 13, 4, 5, 123));
    const [text, oid] = one(date);
    expect(oid).toBe(0);
    expect(text).toBe('2024-02-29 13:04:05.123+00');
    expect((parseTimestamptz(text as string) as Date).getTime()).toBe(date.getTime());
    expect(one(new Date(-62167219200000))).toEqual(['0001-01-01 00:00:00+00 BC', 0]);
  });

  it('refuses an invalid Date, naming the parameter', () => {
    const error = errorOf(() => adaptParams([1, 2, new Date('nope')]));
    expect(error).toBeInstanceOf(ProgrammingError);
    expect(error.message).toContain('$3');
    expect(error.message).toContain('invalid Date');
  });

  it('sends bytes as binary bytea', () => {
    expect(one(Buffer.from([0, 1, 0xff]))).toEqual([Buffer.from([0, 1, 0xff]), 17]);
    expect(one(new Uint8Array([0xde, 0xad]))).toEqual([Buffer.from([0xde, 0xad]), 17]);
    expect(one(Buffer.alloc(0))).toEqual([Buffer.alloc(0), 17]);
    // a view sends its own bytes only, not the whole underlying buffer
    const big = new Uint8Array([1, 2, 3, 4, 5]);
    expect(one(big.subarray(1, 3))).toEqual([Buffer.from([2, 3]), 17]);
    expect(one(new DataView(big.buffer, 3, 2))).toEqual([Buffer.from([4, 5]), 17]);
    expect(one(new Uint16Array([1]))).toEqual([Buffer.from([1, 0]), 17]);
    expect(one(new Uint8Array([9, 8]).buffer)).toEqual([Buffer.from([9, 8]), 17]);
  });

  it('sends plain objects and Json as JSON text, untyped for json and jsonb alike', () => {
    expect(one({ a: 1, b: [true, null], c: 'é' })).toEqual(['{"a":1,"b":[true,null],"c":"é"}', 0]);
    expect(one(Object.assign(Object.create(null) as object, { x: 1 }))).toEqual(['{"x":1}', 0]);
    expect(one(new Json([1, 2]))).toEqual(['[1,2]', 0]);
    expect(one(new Json([]))).toEqual(['[]', 0]);
    expect(one(new Json('text'))).toEqual(['"text"', 0]);
    expect(one(new Json(null))).toEqual(['null', 0]);
    expect(one(new Json(3))).toEqual(['3', 0]);
    expect(one(new Json('nul\u0000'))).toEqual(['"nul\\u0000"', 0]);
  });

  it('sends an array read from json or jsonb as JSON, and any other array as a PostgreSQL array', () => {
    expect(one(parseJson('[1,"a",[]]'))).toEqual(['[1,"a",[]]', 0]);
    expect(one(parseJson('[]'))).toEqual(['[]', 0]);
    expect(one([1, 'a'])).toEqual(['{1,a}', 0]);
    // in an array of json values (json[]), one element
    expect(one([parseJson('[1,2]'), parseJson('{"a":[]}')])).toEqual(['{"[1,2]","{\\"a\\":[]}"}', 0]);
  });

  it('refuses circular objects, naming the parameter', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const error = errorOf(() => adaptParams([1, circular]));
    expect(error).toBeInstanceOf(ProgrammingError);
    expect(error.message).toContain('$2');
    expect(error.message).toMatch(/circular/i);
    expect(() => adaptParams([{ n: 1n }])).toThrow(/\$1/);
  });

  it('refuses functions and symbols, naming the parameter and the type', () => {
    const fn = errorOf(() => adaptParams([() => 1]));
    expect(fn).toBeInstanceOf(ProgrammingError);
    expect(fn.message).toContain('$1');
    expect(fn.message).toContain('function');
    const sym = errorOf(() => adaptParams([1, 2, 3, Symbol('s')]));
    expect(sym).toBeInstanceOf(ProgrammingError);
    expect(sym.message).toContain('$4');
    expect(sym.message).toContain('symbol');
  });

  it('refuses class instances without an adapter, naming the class', () => {
    class Money {
      constructor(readonly cents: number) {}
    }
    const error = errorOf(() => adaptParams([new Money(5)]));
    expect(error).toBeInstanceOf(ProgrammingError);
    expect(error.message).toContain('$1');
    expect(error.message).toContain('Money');
    expect(() => adaptParams([new Map()])).toThrow(/Map/);
  });

  it('adapts one value with adaptValue', () => {
    expect(adaptValue(5)).toEqual({ value: '5', oid: 0 });
    expect(adaptValue(5n)).toEqual({ value: '5', oid: 20 });
    expect(() => adaptValue(Symbol('x'), globalAdapters, 7)).toThrow(/\$7/);
  });
});

describe('arrays', () => {
  it('flat arrays of plain values adapt exactly as the general path does', () => {
    // a second dimension takes the general path; its text is the flat one in braces
    const element = fc.oneof(
      fc.integer(),
      fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
      fc.double(),
      fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 2 ** 53, 1e20),
      fc.constant(null),
    );
    const arrays = fc.oneof(
      fc.array(element, { minLength: 1 }),
      fc.array(fc.oneof(fc.string({ unit: 'grapheme' }), fc.constantFrom('', 'NULL', 'null', ' a ', 'a,b', '{x}', '"q"', 'back\\slash'), fc.constant(null)), { minLength: 1 }),
      fc.array(fc.oneof(fc.boolean(), fc.constant(null)), { minLength: 1 }),
    );
    fc.assert(
      fc.property(arrays, (array) => {
        fc.pre(array.some((item) => item !== null));
        const [flatText, flatOid] = one(array);
        const [nestedText, nestedOid] = one([array]);
        // strings may be quoted where the general path leaves them bare: the same elements read back
        expect(parseArray(nestedText as string)).toEqual([parseArray(flatText as string)]);
        if (typeof array.find((item) => item !== null) !== 'string') expect(nestedText).toBe(`{${flatText as string}}`);
        expect(flatOid).toBe(nestedOid);
      }),
      { numRuns: 300 },
    );
  });

  it('quotes every string of a flat array when none needs escaping, and escapes otherwise', () => {
    expect(one(['a', '', 'NULL', 'b c', '{x}'])).toEqual(['{"a","","NULL","b c","{x}"}', 0]);
    expect(one(['a', 'say "hi"', 'back\\slash'])).toEqual(['{a,"say \\"hi\\"","back\\\\slash"}', 0]);
    expect(one(['a', null, 'b c'])).toEqual(['{a,NULL,"b c"}', 0]);
    expect(one([1.5, -0, 2])).toEqual(['{1.5,-0,2}', 0]);
    expect(one([1, 2, 2 ** 40])).toEqual(['{1,2,1099511627776}', 0]);
  });

  it('a user adapter for the element kind still applies to flat arrays', () => {
    const registry = new AdapterRegistry(globalAdapters);
    registry.set(Number, (n) => `n${String(n)}`);
    // strings an adapter made stay untyped, as elsewhere
    expect(one([1, 2], registry)).toEqual(['{n1,n2}', 0]);
  });

  it('sends arrays of numbers untyped, for the column to type them (int2[], oid[], real[], numeric[])', () => {
    expect(one([1, 2, 3])).toEqual(['{1,2,3}', 0]);
    expect(one([1, 2147483648])).toEqual(['{1,2147483648}', 0]);
    expect(one([1, 2.5])).toEqual(['{1,2.5}', 0]);
    expect(one([1, 2 ** 40, NaN, -Infinity])).toEqual(['{1,1099511627776,NaN,-Infinity}', 0]);
    expect(one([null, 1, null])).toEqual(['{NULL,1,NULL}', 0]);
  });

  it('infers int8[] from bigints, numeric[] when they do not fit; untyped mixed with numbers', () => {
    expect(one([1n, 2n])).toEqual(['{1,2}', 1016]);
    expect(one([1n, 5])).toEqual(['{1,5}', 0]);
    expect(one([1n, 9223372036854775808n])).toEqual(['{1,9223372036854775808}', 1231]);
    expect(one([1n, 0.5])).toEqual(['{1,0.5}', 0]);
  });

  it('sends strings untyped with quoting (uuid = ANY($1), an enum[] column)', () => {
    expect(one(['a', 'b c', 'NULL', '', 'x"y', 'p\\q', '{}', 'd,e'])).toEqual([
      '{a,"b c","NULL","","x\\"y","p\\\\q","{}","d,e"}',
      0,
    ]);
    const [text] = one(['a', 'b c', 'NULL', '', null]);
    expect(parseArray(text as string)).toEqual(['a', 'b c', 'NULL', '', null]);
  });

  it('types bytea[]; arrays of booleans, Dates and JSON go untyped like their elements', () => {
    expect(one([true, false, null])).toEqual(['{true,false,NULL}', 0]);
    expect(one([new Date(0)])).toEqual(['{"1970-01-01 00:00:00+00"}', 0]);
    expect(one([Buffer.from([1, 2]), null])).toEqual(['{"\\\\x0102",NULL}', 1001]);
    // '[' needs no quotes inside the braces: only a leading '[' starts the dimensions
    expect(one([{ a: 1 }, new Json([2])])).toEqual(['{"{\\"a\\":1}",[2]}', 0]);
  });

  it('sends nested arrays as multi-dimensional arrays', () => {
    expect(one([[1, 2], [3, 4]])).toEqual(['{{1,2},{3,4}}', 0]);
    expect(one([[1, 2], [3, 4.5]])).toEqual(['{{1,2},{3,4.5}}', 0]);
    expect(one([[['a']], [['b']]])).toEqual(['{{{a}},{{b}}}', 0]);
    expect(one([[null, null], [null, 1]])).toEqual(['{{NULL,NULL},{NULL,1}}', 0]);
    expect(one([[1n], [2n]])).toEqual(['{{1},{2}}', 1016]);
  });

  it('sends empty and all-NULL arrays untyped', () => {
    expect(one([])).toEqual(['{}', 0]);
    expect(one([null])).toEqual(['{NULL}', 0]);
    expect(one([null, undefined])).toEqual(['{NULL,NULL}', 0]);
    expect(one([[], []])).toEqual(['{}', 0]);
  });

  it('sends mixed element types untyped, for the server to resolve', () => {
    expect(one([1, 'a'])).toEqual(['{1,a}', 0]);
    expect(one([true, 1])).toEqual(['{true,1}', 0]);
  });

  it('refuses ragged arrays, naming the parameter', () => {
    const error = errorOf(() => adaptParams([0, [[1, 2], [3]]]));
    expect(error).toBeInstanceOf(ProgrammingError);
    expect(error.message).toContain('$2');
    expect(() => adaptParams([[[1], 2]])).toThrow(ProgrammingError);
    expect(() => adaptParams([[1, [2]]])).toThrow(ProgrammingError);
    expect(() => adaptParams([[[1], [[2]]]])).toThrow(ProgrammingError);
    expect(() => adaptParams([[[[1]], [2]]])).toThrow(ProgrammingError);
  });

  it('names the parameter when an element cannot be adapted', () => {
    expect(() => adaptParams([1, [1, () => 2]])).toThrow(/\$2.*function/);
    expect(() => adaptParams([[new Date(NaN)]])).toThrow(/\$1/);
  });
});

/** Reads PostgreSQL's binary array format back: one dimension, as binaryArray writes it. */
function readBinaryArray(buffer: Buffer): { elementOid: number; hasNulls: boolean; values: unknown[] } {
  expect(buffer.readInt32BE(0)).toBe(1); // dimensions
  const elementOid = buffer.readUInt32BE(8);
  const length = buffer.readInt32BE(12);
  expect(buffer.readInt32BE(16)).toBe(1); // lower bound
  const values: unknown[] = [];
  let offset = 20;
  for (let i = 0; i < length; i++) {
    const size = buffer.readInt32BE(offset);
    offset += 4;
    if (size === -1) {
      values.push(null);
      continue;
    }
    if (elementOid === 16) values.push(buffer.readUInt8(offset) === 1);
    else if (elementOid === 23) values.push(buffer.readInt32BE(offset));
    else if (elementOid === 20) values.push(Number(buffer.readBigInt64BE(offset)));
    else values.push(buffer.readDoubleBE(offset));
    offset += size;
  }
  expect(offset).toBe(buffer.length);
  return { elementOid, hasNulls: buffer.readInt32BE(4) === 1, values };
}

describe('arrays bound for the wire', () => {
  /** one value bound as the statement's $1, which the statement casts as `cast` says */
  function wire(value: unknown, registry?: AdapterRegistry, cast: number = ParamCast.none): [string | Buffer | null, number] {
    const { values, typeOids } = adaptParams([value], registry, { wire: true, casts: Int32Array.of(cast) });
    return [values[0], typeOids[0]];
  }

  it('sends flat arrays of numbers and booleans in binary where the statement casts them to that type', () => {
    const cases: [unknown[], number, number][] = [
      [[1, 2, -3, 2147483647, -2147483648], 1007, 23],
      [[1, 2147483648, -(2 ** 53 - 1), 2 ** 53 - 1, -1, -(2 ** 32)], 1016, 20],
      [[1, 2], 1016, 20],
      [[1.5, -0, NaN, Infinity, -Infinity, 5e-324, Number.MAX_VALUE], 1022, 701],
      [[1, 2], 1022, 701],
      [[true, false, true], 1000, 16],
      [[null, 7, undefined], 1007, 23],
      [[false, null], 1000, 16],
    ];
    for (const [array, arrayOid, elementOid] of cases) {
      const [value, oid] = wire(array, undefined, arrayOid);
      expect(oid).toBe(arrayOid);
      expect(Buffer.isBuffer(value)).toBe(true);
      const back = readBinaryArray(value as Buffer);
      expect(back.elementOid).toBe(elementOid);
      expect(back.hasNulls).toBe(array.some((item) => item === null || item === undefined));
      back.values.forEach((item, i) => expect(Object.is(item, array[i] ?? null)).toBe(true));
      // without the cast, the same array goes as untyped text
      expect(wire(array)).toEqual(one(array));
    }
  });

  it('keeps text, untyped, where the values do not fit the type cast to: the server refuses them, never rounds', () => {
    expect(wire([1, 2.5], undefined, 1007)).toEqual(['{1,2.5}', 0]);
    expect(wire([1, 2147483648], undefined, 1007)).toEqual(['{1,2147483648}', 0]);
    expect(wire([1, 2 ** 53], undefined, 1016)).toEqual(['{1,9007199254740992}', 0]);
    expect(wire([true], undefined, 1007)).toEqual(['{true}', 0]);
    expect(wire([1], undefined, 1000)).toEqual(['{1}', 0]);
    expect(wire(['a'], undefined, 1009)).toEqual(['{"a"}', 0]);
    expect(wire([1, 2], undefined, ParamCast.otherArray)).toEqual(['{1,2}', 0]);
  });

  it('random number and boolean arrays read back as they were', () => {
    const number = fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.double(), fc.constant(null));
    fc.assert(
      fc.property(fc.oneof(fc.array(number, { minLength: 1 }), fc.array(fc.option(fc.boolean(), { nil: null }), { minLength: 1 })), (array) => {
        fc.pre(array.some((item) => item !== null));
        const cast = array.some((item) => typeof item === 'boolean') ? 1000 : 1022;
        const [value, oid] = wire(array, undefined, cast);
        expect(oid).toBe(cast);
        readBinaryArray(value as Buffer).values.forEach((item, i) => expect(Object.is(item, array[i])).toBe(true));
      }),
      { numRuns: 300 },
    );
  });

  it('sends an empty array alone in binary, untyped: the empty array of whatever array type the context needs', () => {
    for (const empty of [[], [[]], [[], []]]) {
      const [value, oid] = wire(empty);
      expect(oid).toBe(0);
      expect(Buffer.isBuffer(value)).toBe(true);
      expect((value as Buffer).readInt32BE(0)).toBe(0); // no dimensions
      expect((value as Buffer).readUInt32BE(8)).toBeGreaterThanOrEqual(10000); // an element type the server does not check
      expect((value as Buffer).length).toBe(12);
    }
    // inside text, where no binary can go, it is '{}'
    expect(one([])).toEqual(['{}', 0]);
  });

  it('sends arrays as JSON where the statement casts to json or jsonb, and JSON arrays as arrays where it casts to an array', () => {
    expect(wire([1, 'a', []], undefined, ParamCast.json)).toEqual(['[1,"a",[]]', 0]);
    expect(wire([], undefined, ParamCast.json)).toEqual(['[]', 0]);
    expect(wire(parseJson('[1,2]'), undefined, ParamCast.otherArray)).toEqual(['{1,2}', 0]);
    expect(wire(parseJson('[1,2]'), undefined, 1007)[1]).toBe(1007);
    expect(wire(parseJson('[1,2]'))).toEqual(['[1,2]', 0]);
  });

  it('keeps text where the array is not the parameter itself, and for strings', () => {
    expect(wire(['a', 'b'])).toEqual(['{"a","b"}', 0]);
    expect(wire([null])).toEqual(['{NULL}', 0]);
    expect(wire([[1, 2], [3, 4]], undefined, 1007)).toEqual(['{{1,2},{3,4}}', 0]);
    expect(wire([1, 'a'])).toEqual(['{1,a}', 0]);
    // an array as a field of a composite is text inside the record's text
    expect(wire(new Composite([[1, 2], [true], []]), undefined, 1007)).toEqual(['("{1,2}",{true},{})', 0]);
    // an element that an adapter turns into an array is text inside the outer array
    const registry = new AdapterRegistry(globalAdapters);
    class Pair {
      constructor(readonly a: number, readonly b: number) {}
    }
    registry.set(Pair, (pair) => [pair.a, pair.b]);
    expect(wire(new Pair(1, 2), registry, 1007)[0]).toBeInstanceOf(Buffer);
    expect(wire([new Pair(1, 2), new Pair(3, 4)], registry, 1007)).toEqual(['{"{1,2}","{3,4}"}', 0]);
    // a user adapter for the element kind keeps its text
    registry.set(Number, (n) => `n${String(n)}`);
    expect(wire([1, 2], registry, 1007)).toEqual(['{n1,n2}', 0]);
  });
});

describe('user adapters', () => {
  class Point {
    constructor(
      readonly x: number,
      readonly y: number,
    ) {}
  }
  class Point3 extends Point {}

  it('adapts a class and its subclasses; a string goes out untyped', () => {
    const reg = new AdapterRegistry();
    reg.set(Point, (p) => `(${p.x},${p.y})`);
    expect(one(new Point(1, 2), reg)).toEqual(['(1,2)', 0]);
    expect(one(new Point3(3, 4), reg)).toEqual(['(3,4)', 0]);
    expect(one([new Point(1, 2), null], reg)).toEqual(['{"(1,2)",NULL}', 0]);
  });

  it('lets an adapter return any adaptable value, or choose the OID', () => {
    const reg = new AdapterRegistry();
    reg.set(Point, (p) => [p.x, p.y]);
    expect(one(new Point(1, 2), reg)).toEqual(['{1,2}', 0]);
    const reg2 = new AdapterRegistry();
    reg2.set(Point, (p) => new AdaptedValue(`(${p.x},${p.y})`, 600));
    expect(one(new Point(1, 2), reg2)).toEqual(['(1,2)', 600]);
    // an array of a type with a known array OID
    expect(one([new Point(1, 2)], reg2)).toEqual(['{"(1,2)"}', 1017]);
  });

  it('overrides the built-in rules, also for primitives', () => {
    const reg = new AdapterRegistry();
    reg.set(Date, (d) => d.toISOString().slice(0, 10));
    reg.set(Number, (n) => new AdaptedValue(String(n), 1700));
    expect(one(new Date(0), reg)).toEqual(['1970-01-01', 0]);
    expect(one(5, reg)).toEqual(['5', 1700]);
    expect(one([5, 6], reg)).toEqual(['{5,6}', 1231]);
  });

  it('puts a connection registry over the global one', () => {
    const global = new AdapterRegistry();
    const conn = new AdapterRegistry(global);
    const other = new AdapterRegistry(global);
    global.set(Point, () => 'global');
    expect(one(new Point(0, 0), conn)).toEqual(['global', 0]);
    const v = conn.version;
    conn.set(Point, () => 'conn');
    expect(conn.version).toBeGreaterThan(v);
    expect(one(new Point(0, 0), conn)).toEqual(['conn', 0]);
    expect(one(new Point(0, 0), other)).toEqual(['global', 0]);
    const w = other.version;
    global.set(Point3, () => 'global3');
    expect(other.version).toBeGreaterThan(w);
    expect(one(new Point3(0, 0), other)).toEqual(['global3', 0]);
    expect(conn.delete(Point)).toBe(true);
    expect(one(new Point(0, 0), conn)).toEqual(['global', 0]);
  });

  it('stops adapters that never settle', () => {
    const reg = new AdapterRegistry();
    reg.set(Point, (p) => new Point(p.x, p.y));
    expect(() => adaptParams([new Point(1, 1)], reg)).toThrow(ProgrammingError);
  });

  it('checks what an adapter returns for NUL too', () => {
    const reg = new AdapterRegistry();
    reg.set(Point, () => 'a\u0000');
    expect(() => adaptParams([1, new Point(1, 1)], reg)).toThrow(/NUL.*\$2/);
  });

  it('has a global registry behind setAdapter', () => {
    class Tagged {
      constructor(readonly tag: string) {}
    }
    setAdapter(Tagged, (t) => t.tag);
    try {
      expect(one(new Tagged('x'))).toEqual(['x', 0]);
    } finally {
      globalAdapters.delete(Tagged);
    }
    expect(() => one(new Tagged('x'))).toThrow(ProgrammingError);
  });
});
