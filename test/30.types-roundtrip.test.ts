import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { errors, Json, types, type Connection } from '../lib';
import { globalAdapters } from '../lib/adapt/adapters';
import { globalTypecasters } from '../lib/adapt/typecasters';
import { parseDouble } from '../lib/types/numeric';
import { uniqueName, withConnection, sharedConnection, singleValueOn, makeTable } from './helpers';

const conn = sharedConnection({ autocommit: true });

const one = singleValueOn(conn);

/** A Date for a UTC wall-clock time, any year (Date.UTC maps years 0-99 to 1900-1999). */
function utc(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, ms = 0): Date {
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, ms));
  date.setUTCFullYear(year);
  return date;
}

describe('integers', () => {
  it('int2 and int4 limits come back as numbers, both ways', async () => {
    const result = await conn().query(
      'select (-32768)::int2 as a, 32767::int2 as b, (-2147483648)::int4 as c, 2147483647::int4 as d, 0::int2 as e, 4294967295::oid as f',
    );
    expect(result.rows[0]).toEqual({ a: -32768, b: 32767, c: -2147483648, d: 2147483647, e: 0, f: 4294967295 });
    for (const value of [-32768, 32767, 0, -1]) expect(await one('select $1::int2', [value])).toBe(value);
    for (const value of [-2147483648, 2147483647, 0, 1, -1]) {
      expect(await one('select $1::int4', [value])).toBe(value);
      // untyped, as every number: where nothing else says what it is, the server reads text
      expect(await one('select $1', [value])).toBe(String(value));
      expect((await conn().query('select $1 as v', [value])).fields[0].typeOid).toBe(25);
    }
    expect(result.fields.map((f) => f.typeOid)).toEqual([21, 21, 23, 23, 21, 26]);
  });

  it('out-of-range integers are refused by the server', async () => {
    const error = (await conn().query('select $1::int2', [32768]).catch((e: unknown) => e)) as errors.DatabaseError;
    expect(error).toBeInstanceOf(errors.NumericValueOutOfRange);
    expect(error).toBeInstanceOf(errors.DataError);
    expect(await one('select 1::int4')).toBe(1);
  });

  it('int8 limits come back as bigints, both ways', async () => {
    const min = -(2n ** 63n);
    const max = 2n ** 63n - 1n;
    const result = await conn().query("select '-9223372036854775808'::int8 as min, '9223372036854775807'::int8 as max, 0::int8 as zero");
    expect(result.rows[0]).toEqual({ min, max, zero: 0n });
    expect(typeof (result.rows[0] as { zero: unknown }).zero).toBe('bigint');
    for (const value of [min, max, 0n, -1n, 2n ** 53n + 1n]) {
      expect(await one('select $1::int8', [value])).toBe(value);
      expect(await one('select $1', [value])).toBe(value);
      expect(await one('select $1::int8::text', [value])).toBe(value.toString());
    }
  });

  it('numbers past int4 go untyped too, exact up to 2^53: an int8 context reads them as int8', async () => {
    expect(await one('select $1::int8', [2147483648])).toBe(2147483648n);
    expect(await one('select $1::int8', [Number.MAX_SAFE_INTEGER])).toBe(BigInt(Number.MAX_SAFE_INTEGER));
    expect(await one('select $1::int8', [-Number.MAX_SAFE_INTEGER])).toBe(-BigInt(Number.MAX_SAFE_INTEGER));
    expect(await one('select $1::int8 + 1', [Number.MAX_SAFE_INTEGER])).toBe(2n ** 53n);
    expect(await one('select $1 + 1::int8', [Number.MAX_SAFE_INTEGER])).toBe(2n ** 53n);
    expect(await one('select $1', [2147483648])).toBe('2147483648');
  });

  it('bigints past int8 go as numeric and come back losslessly', async () => {
    const big = 2n ** 70n;
    expect(await one('select $1', [big])).toBe(big.toString());
    expect(await one('select $1::numeric + 1', [-big])).toBe((-big + 1n).toString());
    const error = await conn().query('select $1::int8', [2n ** 63n]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(errors.NumericValueOutOfRange);
  });
});

describe('floats', () => {
  const specials = [NaN, Infinity, -Infinity, 0, 1e308, -1e308, 5e-324, -5e-324, Number.MAX_VALUE, Number.MIN_VALUE, 0.1, 1 / 3, Math.PI, 2 ** 53 + 2, 1.5e-300];

  it('float8 values come back exactly, NaN and ±Infinity included', async () => {
    for (const value of specials) {
      const back = await one<number>('select $1::float8', [value]);
      expect(Object.is(back, value), `${value} came back as ${back}`).toBe(true);
      // untyped, the server reads the parameter as text: the text reads back as the same double
      const untyped = await one<string>('select $1', [value]);
      expect(Object.is(parseDouble(untyped), value), `${value} untyped came back as ${untyped}`).toBe(true);
    }
  });

  it('float8 specials written by the server', async () => {
    const result = await conn().query(
      "select 'NaN'::float8 as a, 'Infinity'::float8 as b, '-Infinity'::float8 as c, '-0'::float8 as d, '1e308'::float8 as e, '4.9406564584124654e-324'::float8 as f, 0.1::float8 + 0.2::float8 as g",
    );
    const row = result.rows[0] as Record<string, number>;
    expect(row.a).toBeNaN();
    expect(row.b).toBe(Infinity);
    expect(row.c).toBe(-Infinity);
    expect(Object.is(row.d, -0)).toBe(true);
    expect(row.e).toBe(1e308);
    expect(row.f).toBe(5e-324);
    expect(row.g).toBe(0.1 + 0.2);
  });

  it('float4 values come back as the shortest decimal that reads back as the same float4', async () => {
    for (const value of [NaN, Infinity, -Infinity, 1.5, 0.25, -2]) {
      const back = await one<number>('select $1::float4', [value]);
      expect(Object.is(back, value), `${value} came back as ${back}`).toBe(true);
    }
    for (const value of [3.4028234663852886e38, 1.401298464324817e-45, 1.1754943508222875e-38, Math.fround(0.1), Math.fround(1 / 3)]) {
      const back = await one<number>('select $1::float4', [value]);
      expect(Math.fround(back)).toBe(value);
    }
    expect(await one('select 0.1::float4')).toBe(0.1);
    expect(await one('select 0.1::float4::float8')).toBe(Math.fround(0.1));
    const fields = (await conn().query('select 1::float4 as a, 1::float8 as b')).fields;
    expect(fields.map((f) => f.typeOid)).toEqual([700, 701]);
  });

  it('negative zero keeps its sign as a parameter', async () => {
    expect(Object.is(await one('select $1::float8', [-0]), -0)).toBe(true);
    expect(Object.is(await one('select $1::float4', [-0]), -0)).toBe(true);
    expect(await one('select $1', [-0])).toBe('-0');
    expect(await one('select $1::float8::text', [-0])).toBe('-0');
    const array = await one<number[]>('select $1::float8[]', [[-0, 0]]);
    expect(Object.is(array[0], -0)).toBe(true);
    expect(Object.is(array[1], 0)).toBe(true);
  });

  it('float arrays keep NaN and ±Infinity', async () => {
    const values = [NaN, Infinity, -Infinity, 1.5, null, 5e-324, -1e308];
    const back = await one<unknown[]>('select $1::float8[]', [values]);
    expect(back).toHaveLength(values.length);
    values.forEach((value, i) => expect(Object.is(back[i], value), `element ${i}: ${String(back[i])}`).toBe(true));
    const fromServer = await one<number[]>("select '{NaN,Infinity,-Infinity,-0,1.5}'::float4[]");
    expect(fromServer[0]).toBeNaN();
    expect(fromServer.slice(1)).toEqual([Infinity, -Infinity, -0, 1.5]);
  });
});

describe('numeric', () => {
  it('comes back as a lossless string', async () => {
    for (const text of ['12345678901234567890.123456789', 'NaN', '0', '-0.000000000000000000001', '1.500', '1e-30', '99999999999999999999999999999999999999']) {
      const back = await one<string>('select $1::numeric', [text]);
      expect(typeof back).toBe('string');
      const canonical = await one<string>('select $1::numeric::text', [text]);
      expect(back).toBe(canonical);
    }
    expect(await one('select $1::numeric', ['12345678901234567890.123456789'])).toBe('12345678901234567890.123456789');
    expect(await one('select $1::numeric', ['NaN'])).toBe('NaN');
    expect(await one('select 1.500::numeric(10, 3)')).toBe('1.500');
    expect(await one("select 'Infinity'::numeric")).toBe('Infinity');
    expect(await one("select '-Infinity'::numeric")).toBe('-Infinity');
  });

  it('numbers go in as numeric', async () => {
    expect(await one('select $1::numeric', [0.1])).toBe('0.1');
    expect(await one('select $1::numeric', [-42])).toBe('-42');
    expect(await one('select $1::numeric(20, 2)', [12.345])).toBe('12.35');
  });

  it('numeric arrays come back as arrays of strings', async () => {
    expect(await one("select '{1.10,NaN,NULL,-3}'::numeric[]")).toEqual(['1.10', 'NaN', null, '-3']);
    expect(await one('select $1::numeric[]', [[2n ** 80n, 1, null]])).toEqual([(2n ** 80n).toString(), '1', null]);
  });
});

describe('bool', () => {
  it('comes back as booleans, both ways', async () => {
    expect((await conn().query('select true as t, false as f, null::bool as n')).rows).toEqual([{ t: true, f: false, n: null }]);
    expect(await one('select $1::bool', [true])).toBe(true);
    expect(await one('select $1::bool', [false])).toBe(false);
    // untyped: with nothing else to go by, the server reads text
    expect(await one('select $1', [true])).toBe('true');
    expect(await one('select not $1', [false])).toBe(true);
    expect(await one('select $1::bool[]', [[true, false, null]])).toEqual([true, false, null]);
    expect(await one('select $1', [[true, false]])).toBe('{true,false}');
  });
});

describe('text types', () => {
  const samples = [
    '',
    'plain',
    'emoji 😀👍🏽 and flags 🇳🇵',
    '漢字かなカナ한국어',
    'e\u0301 combining (é) vs \u00e9',
    'quote \' double " backslash \\ tab \t newline \n',
    'right-to-left עברית العربية',
    '\u{10FFFF}\uFFFD',
    'x'.repeat(100_000),
  ];

  it('text and varchar round trip unicode exactly', async () => {
    for (const value of samples) {
      expect(await one('select $1::text', [value])).toBe(value);
      expect(await one('select $1::varchar', [value])).toBe(value);
      expect(await one('select $1', [value])).toBe(value);
    }
  });

  it('the server counts characters, not UTF-16 units', async () => {
    expect(await one('select length($1)', ['😀'])).toBe(1);
    expect(await one('select octet_length($1)', ['😀'])).toBe(4);
    expect(await one('select length($1)', ['e\u0301'])).toBe(2);
    expect(await one("select chr(128512) || 'é'")).toBe('😀é');
  });

  it('char(n) is blank-padded and varchar(n) cut at n characters when cast', async () => {
    expect(await one("select 'ab'::char(5)")).toBe('ab   ');
    expect(await one('select $1::char(5)', ['😀'])).toBe('😀    ');
    expect(await one("select 'abcdefgh'::varchar(3)")).toBe('abc');
    expect(await one("select '漢字かなカナ'::varchar(2)")).toBe('漢字');
    const table = await makeTable(conn(), 'c char(5), v varchar(3)', { prefix: 'chars', temp: true });
    await conn().query(`insert into ${table} values ($1, $2)`, ['ab', 'xyz']);
    expect((await conn().query(`select c, v from ${table}`)).rows).toEqual([{ c: 'ab   ', v: 'xyz' }]);
    const error = await conn().query(`insert into ${table} values ($1, $2)`, ['ab', 'wxyz']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(errors.StringDataRightTruncation);
  });

  it('name and "char" come back as strings', async () => {
    expect(await one('select $1::name', ['ünïcödé_名前'])).toBe('ünïcödé_名前');
    expect(await one("select 'x'::\"char\"")).toBe('x');
    const fields = (await conn().query("select 'a'::name as n, 'b'::char(1) as c, 'c'::varchar as v, 'd'::text as t")).fields;
    expect(fields.map((f) => f.typeOid)).toEqual([19, 1042, 1043, 25]);
  });
});

describe('bytea', () => {
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const big = randomBytes(1024 * 1024);

  function md5(data: Uint8Array): string {
    return createHash('md5').update(data).digest('hex');
  }

  async function checkBytea(c: Connection): Promise<void> {
    for (const value of [Buffer.alloc(0), Buffer.from([0]), all, big]) {
      const back = await one<Buffer>('select $1::bytea', [value], c);
      expect(Buffer.isBuffer(back)).toBe(true);
      expect(back.equals(value)).toBe(true);
      expect(await one('select md5($1::bytea)', [value], c)).toBe(md5(value));
    }
    const fromServer = await one<Buffer>("select decode('00ff5c27225c7830', 'hex')", [], c);
    expect(fromServer.equals(Buffer.from([0x00, 0xff, 0x5c, 0x27, 0x22, 0x5c, 0x78, 0x30]))).toBe(true);
    const generated = await one<Buffer>('select decode(string_agg(lpad(to_hex(i), 2, $$0$$), $$$$ order by i), $$hex$$) from generate_series(0, 255) i', [], c);
    expect(generated.equals(all)).toBe(true);
    expect((await one<Buffer>("select ''::bytea", [], c)).length).toBe(0);
    expect(await one('select null::bytea', [], c)).toBeNull();
  }

  it('Buffers round trip: empty, every byte value, 1 MB', async () => {
    await checkBytea(conn());
  });

  it('round trips with bytea_output = escape', async () => {
    await withConnection(async (c) => {
      await c.query("set bytea_output = 'escape'");
      expect(await one('show bytea_output', [], c)).toBe('escape');
      await checkBytea(c);
    });
  });

  it('Uint8Array, a view into a larger buffer, and an ArrayBuffer go in as bytea', async () => {
    const bytes = new Uint8Array([1, 2, 3, 250, 0, 255]);
    expect((await one<Buffer>('select $1::bytea', [bytes])).equals(Buffer.from(bytes))).toBe(true);
    const backing = Buffer.from('xxxxhello\u0000worldyyyy', 'latin1');
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 4, 11);
    expect((await one<Buffer>('select $1::bytea', [view])).toString('latin1')).toBe('hello\u0000world');
    const slice = backing.subarray(4, 9);
    expect((await one<Buffer>('select $1::bytea', [slice])).toString('latin1')).toBe('hello');
    const arrayBuffer = new Uint8Array([9, 8, 7]).buffer;
    expect((await one<Buffer>('select $1::bytea', [arrayBuffer])).equals(Buffer.from([9, 8, 7]))).toBe(true);
    expect(Buffer.isBuffer(await one('select $1', [bytes]))).toBe(true);
  });

  it('bytea arrays round trip, NULLs and empty values included', async () => {
    const values = [Buffer.from([0, 1, 2]), Buffer.alloc(0), null, all, Buffer.from('"{},\\', 'latin1')];
    const back = await one<(Buffer | null)[]>('select $1::bytea[]', [values]);
    expect(back).toHaveLength(values.length);
    back.forEach((item, i) => {
      const expected = values[i];
      if (expected === null) expect(item).toBeNull();
      else expect(Buffer.isBuffer(item) && item.equals(expected)).toBe(true);
    });
    const untyped = await one<Buffer[]>('select $1', [[Buffer.from([1]), Buffer.from([2, 3])]]);
    expect(untyped.map((b) => [...b])).toEqual([[1], [2, 3]]);
    const fromServer = await one<Buffer[]>("select array['\\x00ff'::bytea, ''::bytea]");
    expect(fromServer.map((b) => [...b])).toEqual([[0, 255], []]);
  });
});

describe('json and jsonb', () => {
  const documents: unknown[] = [
    { a: 1, b: 'two', c: [1, 2, { d: null }], e: { f: { g: true } } },
    {},
    { unicode: '😀 漢字 é', escapes: 'quote " backslash \\ newline \n' },
  ];

  it('objects round trip through json and jsonb', async () => {
    for (const doc of documents) {
      expect(await one('select $1::json', [doc])).toEqual(doc);
      expect(await one('select $1::jsonb', [doc])).toEqual(doc);
      // untyped, for json and jsonb alike: with nothing else to go by, the server reads text
      expect(JSON.parse(await one<string>('select $1', [doc]))).toEqual(doc);
    }
  });

  it('Json wraps arrays, strings, numbers, booleans and null', async () => {
    for (const value of [[1, 'a', null, [2]], [], 'a string', '', 42, -1.5, true, false, null]) {
      expect(await one('select $1::json', [new Json(value)])).toEqual(value);
      expect(await one('select $1::jsonb', [new Json(value)])).toEqual(value);
    }
    expect(await one('select json_typeof($1::json)', [new Json('a string')])).toBe('string');
    expect(await one('select json_typeof($1::json)', [new Json([1])])).toBe('array');
    expect(await one('select jsonb_typeof($1::jsonb)', [new Json(7)])).toBe('number');
  });

  it('json null differs from SQL NULL', async () => {
    const row = (await conn().query('select $1::jsonb is null as sqlnull, jsonb_typeof($1::jsonb) as kind', [new Json(null)])).rows[0];
    expect(row).toEqual({ sqlnull: false, kind: 'null' });
    const nullRow = (await conn().query('select $1::jsonb is null as sqlnull, jsonb_typeof($1::jsonb) as kind', [null])).rows[0];
    expect(nullRow).toEqual({ sqlnull: true, kind: null });
    expect(await one("select 'null'::json")).toBeNull();
    expect(await one('select null::json')).toBeNull();
  });

  it('json from the server is parsed; json keeps the text as written', async () => {
    expect(await one(`select '{"b": 1, "a": [true, null, "x"]}'::json`)).toEqual({ b: 1, a: [true, null, 'x'] });
    expect(await one(`select '{"a": 1, "a": 2}'::jsonb`)).toEqual({ a: 2 });
    expect(await one(`select '"\\u00e9"'::json`)).toBe('é');
    expect(await one(`select json_build_object('k', array[1, 2], 'n', null)`)).toEqual({ k: [1, 2], n: null });
    expect(await one(`select '[1, 2.5, -3e2]'::jsonb`)).toEqual([1, 2.5, -300]);
  });

  it('a NUL character survives json but is refused by jsonb', async () => {
    expect(await one('select $1::json', [new Json('a\u0000b')])).toBe('a\u0000b');
    const error = await conn().query('select $1::jsonb', [new Json('a\u0000b')]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(errors.DataError);
    expect(await one('select 1')).toBe(1);
  });

  it('json[] and jsonb[] come back as arrays of parsed values', async () => {
    expect(await one(`select array['{"a":1}'::json, '[1,2]'::json, null, '"s"'::json]`)).toEqual([{ a: 1 }, [1, 2], null, 's']);
    expect(await one(`select array['{"a":{"b":"}{,\\""}}'::jsonb]`)).toEqual([{ a: { b: '}{,"' } }]);
    const objects = [{ a: 1 }, { b: [2, '"quoted", {braced}'] }, null];
    expect(await one('select $1::jsonb[]', [objects])).toEqual(objects);
    expect(await one('select $1::json[]', [objects])).toEqual(objects);
    // an array read from jsonb[] goes back the same
    const read = await one<unknown[]>('select $1::jsonb[]', [objects]);
    expect(await one('select $1::jsonb[] = $2', [objects, read])).toBe(true);
  });
});

describe('uuid', () => {
  it('comes back as a lowercase string', async () => {
    const id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
    expect(await one('select $1::uuid', [id])).toBe(id);
    expect(await one('select $1::uuid', [id.toUpperCase()])).toBe(id);
    expect(await one('select $1::uuid', ['{a0eebc999c0b4ef8bb6d6bb9bd380a11}'])).toBe(id);
    expect(await one('select $1::uuid[]', [[id, null]])).toEqual([id, null]);
    const generated = await one<string>('select gen_random_uuid()');
    expect(generated).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const error = await conn().query('select $1::uuid', ['not-a-uuid']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(errors.InvalidTextRepresentation);
  });
});

describe('date', () => {
  const zones = ['UTC', 'Pacific/Kiritimati', 'America/Los_Angeles', 'Pacific/Pago_Pago', 'Asia/Kathmandu'];

  it("comes back as the 'YYYY-MM-DD' text in every session time zone", async () => {
    await withConnection(async (c) => {
      for (const zone of zones) {
        await c.query(`set timezone = '${zone}'`);
        expect(await one('select $1::date', ['2024-02-29'], c)).toBe('2024-02-29');
        expect(await one("select '2024-02-29'::date", [], c)).toBe('2024-02-29');
        expect(await one("select '2024-01-01'::date", [], c)).toBe('2024-01-01');
        expect(await one("select '1970-01-01'::date - 1", [], c)).toBe('1969-12-31');
        expect(await one("select '2024-02-28'::date + 1", [], c)).toBe('2024-02-29');
        expect(await one('select $1::date[]', [['2024-02-29', null, '2023-12-31']], c)).toEqual(['2024-02-29', null, '2023-12-31']);
        const table = await makeTable(c, 'd date', { prefix: 'dates', temp: true });
        await c.query(`insert into ${table} values ($1)`, ['2000-01-01']);
        expect(await one(`select d from ${table}`, [], c)).toBe('2000-01-01');
      }
    });
  });

  it('keeps far years and BC dates as the server writes them', async () => {
    expect(await one("select '0001-01-01'::date")).toBe('0001-01-01');
    expect(await one("select '9999-12-31'::date")).toBe('9999-12-31');
    expect(await one("select '10000-01-01'::date")).toBe('10000-01-01');
    expect(await one("select '0044-03-15 BC'::date")).toBe('0044-03-15 BC');
    expect(await one("select '0001-12-31 BC'::date + 1")).toBe('0001-01-01');
    expect(await one('select $1::date', ['0044-03-15 BC'])).toBe('0044-03-15 BC');
  });

  it('infinity and -infinity come back as ±Infinity', async () => {
    expect((await conn().query("select 'infinity'::date as a, '-infinity'::date as b")).rows).toEqual([{ a: Infinity, b: -Infinity }]);
    expect(await one('select $1::date', ['infinity'])).toBe(Infinity);
    expect(await one("select array['infinity'::date, '-infinity', '2024-01-02', null]")).toEqual([Infinity, -Infinity, '2024-01-02', null]);
  });
});

describe('timestamptz', () => {
  const zones = [
    "'UTC'",
    "'Asia/Kathmandu'",
    "'Pacific/Kiritimati'",
    "'America/Los_Angeles'",
    "'America/St_Johns'",
    "'Australia/Lord_Howe'",
    "'Pacific/Chatham'",
    "interval '+05:45' hour to minute",
    "interval '-09:30' hour to minute",
  ];
  const instant = utc(2024, 2, 29, 12, 34, 56, 789);

  it('comes back as the same instant whatever the session time zone', async () => {
    await withConnection(async (c) => {
      for (const zone of zones) {
        await c.query(`set time zone ${zone}`);
        const fromText = await one<Date>("select '2024-02-29 12:34:56.789+00'::timestamptz", [], c);
        expect(fromText).toBeInstanceOf(Date);
        expect(fromText.getTime()).toBe(instant.getTime());
        const offsetText = await one<Date>("select '2024-02-29 18:19:56.789+05:45'::timestamptz", [], c);
        expect(offsetText.getTime()).toBe(instant.getTime());
        const local = await one<Date>("select '2024-07-01 00:00:00'::timestamptz", [], c);
        const expected = await one<string>("select extract(epoch from '2024-07-01 00:00:00'::timestamptz)::text", [], c);
        expect(local.getTime()).toBe(Number(expected) * 1000);
        const back = await one<Date>('select $1::timestamptz', [instant], c);
        expect(back.getTime()).toBe(instant.getTime());
        // a Date goes untyped (so that timestamp columns get it right): with nothing to
        // infer a type from, the server reads it as text, the UTC text that was sent
        const untyped = await one<string>('select $1', [instant], c);
        expect(untyped).toBe('2024-02-29 12:34:56.789+00');
        expect(Number(await one<string>('select extract(epoch from $1::timestamptz)::text', [instant], c))).toBe(instant.getTime() / 1000);
      }
    });
  });

  it('historic offsets with seconds are honoured', async () => {
    await withConnection(async (c) => {
      await c.query("set timezone = 'Asia/Kolkata'");
      const date = utc(1900, 1, 1);
      // local mean time of the day: the server writes an offset with seconds
      expect(await one('select $1::timestamptz::text', [date], c)).toMatch(/^1900-01-01 05:\d\d:\d\d\+05:\d\d:\d\d$/);
      expect((await one<Date>('select $1::timestamptz', [date], c)).getTime()).toBe(date.getTime());
      expect((await one<Date>("select '1900-01-01 00:00:00+00'::timestamptz", [], c)).getTime()).toBe(date.getTime());
      expect((await one<Date>("select '1900-01-01 12:00:00'::timestamptz", [], c)).getTime()).toBe(
        Number(await one<string>("select extract(epoch from '1900-01-01 12:00:00'::timestamptz)::text", [], c)) * 1000,
      );
      await c.query("set timezone = 'Europe/Amsterdam'");
      const summer = utc(1920, 6, 1, 10, 0, 0);
      expect(await one('select $1::timestamptz::text', [summer], c)).toMatch(/\+01:19:32$/);
      expect((await one<Date>('select $1::timestamptz', [summer], c)).getTime()).toBe(summer.getTime());
    });
  });

  it('fractional seconds are kept to the millisecond', async () => {
    const base = utc(2024, 2, 29, 12, 34, 56).getTime();
    for (const [fraction, ms] of [
      ['', 0],
      ['.5', 500],
      ['.05', 50],
      ['.001', 1],
      ['.123456', 123],
      ['.999999', 999],
    ] as [string, number][]) {
      const value = await one<Date>(`select '2024-02-29 12:34:56${fraction}+00'::timestamptz`);
      expect(value.getTime(), fraction).toBe(base + ms);
    }
    for (const ms of [0, 1, 10, 100, 999, 123]) {
      const date = new Date(base + ms);
      expect((await one<Date>('select $1::timestamptz', [date])).getTime()).toBe(date.getTime());
    }
  });

  it('Dates round trip exactly across eras', async () => {
    const dates = [
      new Date(0),
      new Date(-1),
      new Date(1),
      utc(1969, 12, 31, 23, 59, 59, 999),
      utc(1, 1, 1),
      utc(99, 6, 15, 1, 2, 3, 4),
      utc(1000, 1, 1),
      utc(9999, 12, 31, 23, 59, 59, 999),
      utc(10000, 1, 1),
      utc(2038, 1, 19, 3, 14, 8),
      new Date(Date.now()),
    ];
    for (const date of dates) {
      const back = await one<Date>('select $1::timestamptz', [date]);
      expect(back.toISOString()).toBe(date.toISOString());
    }
  });

  it('BC timestamps come back with their astronomical year', async () => {
    const ides = utc(-43, 3, 15, 12);
    expect((await one<Date>("select '0044-03-15 12:00:00+00 BC'::timestamptz")).getTime()).toBe(ides.getTime());
    expect((await one<Date>('select $1::timestamptz', [ides])).getTime()).toBe(ides.getTime());
    expect(await one("select to_char($1::timestamptz at time zone 'UTC', 'YYYY-MM-DD BC')", [ides])).toBe('0044-03-15 BC');
    const yearZero = utc(0, 12, 31, 23, 59, 59, 999);
    expect((await one<Date>('select $1::timestamptz', [yearZero])).getTime()).toBe(yearZero.getTime());
    expect((await one<Date>('select $1::timestamptz + interval $$1 ms$$', [yearZero])).getTime()).toBe(utc(1, 1, 1).getTime());
  });

  it('infinity and -infinity come back as ±Infinity', async () => {
    expect((await conn().query("select 'infinity'::timestamptz as a, '-infinity'::timestamptz as b")).rows).toEqual([{ a: Infinity, b: -Infinity }]);
    expect(await one('select $1::timestamptz', ['infinity'])).toBe(Infinity);
    expect(await one("select array['infinity'::timestamptz, '-infinity', null]")).toEqual([Infinity, -Infinity, null]);
  });

  it('an invalid Date is refused before sending', async () => {
    const error = await conn().query('select $1::timestamptz', [new Date(NaN)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(errors.ProgrammingError);
    expect(await one('select 1')).toBe(1);
  });

  it('a value past the range of a JS Date is a DataError, not an Invalid Date', async () => {
    const outcome = await conn().query("select '294276-12-31 23:59:59+00'::timestamptz as t").then(
      (result) => result.rows[0],
      (error: unknown) => error,
    );
    expect(outcome).toBeInstanceOf(errors.DataError);
    expect(await one('select 1')).toBe(1);
  });

  it('timestamptz[] round trips arrays of Dates', async () => {
    const values = [instant, null, utc(1999, 12, 31, 23, 59, 59, 1), utc(-100, 1, 1)];
    const back = await one<(Date | null)[]>('select $1::timestamptz[]', [values]);
    expect(back.map((d) => (d === null ? null : d.toISOString()))).toEqual(values.map((d) => (d === null ? null : d.toISOString())));
    // untyped, as a single Date is: with no type to infer, the server keeps the text
    const untyped = await one<string>('select $1', [[instant]]);
    expect(untyped).toBe('{"2024-02-29 12:34:56.789+00"}');
  });
});

describe('timestamp without time zone', () => {
  it('is read as UTC whatever the session time zone', async () => {
    await withConnection(async (c) => {
      for (const zone of ['UTC', 'America/Los_Angeles', 'Asia/Kathmandu']) {
        await c.query(`set timezone = '${zone}'`);
        const value = await one<Date>("select '2024-02-29 12:34:56.5'::timestamp", [], c);
        expect(value).toBeInstanceOf(Date);
        expect(value.toISOString()).toBe('2024-02-29T12:34:56.500Z');
        expect((await one<Date>("select '0044-03-15 12:00:00 BC'::timestamp", [], c)).getTime()).toBe(utc(-43, 3, 15, 12).getTime());
        expect(await one("select 'infinity'::timestamp", [], c)).toBe(Infinity);
        expect(await one("select '-infinity'::timestamp", [], c)).toBe(-Infinity);
        const array = await one<Date[]>("select array['2024-01-01 00:00:00'::timestamp, null]", [], c);
        expect(array[0].toISOString()).toBe('2024-01-01T00:00:00.000Z');
        expect(array[1]).toBeNull();
      }
    });
  });

  it('a Date written to a timestamp column reads back as the same Date', async () => {
    await withConnection(async (c) => {
      const date = utc(2024, 2, 29, 12, 34, 56, 789);
      for (const zone of ['UTC', 'America/Los_Angeles', 'Asia/Kathmandu']) {
        await c.query(`set timezone = '${zone}'`);
        const table = await makeTable(c, 't timestamp', { prefix: 'ts', temp: true });
        await c.query(`insert into ${table} values ($1)`, [date]);
        const back = await one<Date>(`select t from ${table}`, [], c);
        expect(back.toISOString(), zone).toBe(date.toISOString());
      }
    });
  });
});

describe('time and timetz', () => {
  it('come back as strings, both ways', async () => {
    expect(await one("select '13:04:05.123456'::time")).toBe('13:04:05.123456');
    expect(await one("select '13:04:05'::time")).toBe('13:04:05');
    expect(await one("select '24:00:00'::time")).toBe('24:00:00');
    expect(await one("select '13:04:05+05:30'::timetz")).toBe('13:04:05+05:30');
    expect(await one("select '13:04:05.5-08'::timetz")).toBe('13:04:05.5-08');
    expect(await one('select $1::time', ['23:59:59.999999'])).toBe('23:59:59.999999');
    expect(await one('select $1::timetz', ['01:02:03+05:45'])).toBe('01:02:03+05:45');
    expect(await one("select array['01:00'::time, null]")).toEqual(['01:00:00', null]);
    const fields = (await conn().query("select '01:00'::time as a, '01:00+00'::timetz as b")).fields;
    expect(fields.map((f) => f.typeOid)).toEqual([1083, 1266]);
  });
});

describe('arrays', () => {
  it('int4[] with NULLs, both ways', async () => {
    expect(await one("select '{1,NULL,3}'::int4[]")).toEqual([1, null, 3]);
    expect(await one('select $1::int4[]', [[1, null, 3]])).toEqual([1, null, 3]);
    expect(await one('select $1::int4[]', [[null, null]])).toEqual([null, null]);
    // untyped, a column or a cast gives it its type
    expect(await one('select $1', [[1, 2, 3]])).toBe('{1,2,3}');
    expect(await one('select $1::int4[]', [[1, undefined, 3]])).toEqual([1, null, 3]);
    expect(await one('select $1::int8[]', [[1n, -(2n ** 63n), null]])).toEqual([1n, -(2n ** 63n), null]);
    expect(await one('select $1::int2[]', [[1, -32768]])).toEqual([1, -32768]);
  });

  it('multi-dimensional arrays, both ways', async () => {
    expect(await one("select '{{1,2},{3,4}}'::int[]")).toEqual([
      [1, 2],
      [3, 4],
    ]);
    const cube = [
      [
        [1, 2],
        [3, null],
      ],
      [
        [5, 6],
        [7, 8],
      ],
    ];
    expect(await one('select $1::int[]', [cube])).toEqual(cube);
    expect(await one('select array_dims($1::int[])', [cube])).toBe('[1:2][1:2][1:2]');
    expect(await one('select $1::text[]', [[['a', 'b'], ['c', null]]])).toEqual([
      ['a', 'b'],
      ['c', null],
    ]);
    expect(await one('select array_ndims($1::int[])', [[[1], [2]]])).toBe(2);
  });

  it('a ragged JS array is refused before sending', async () => {
    const error = await conn().query('select $1::int[]', [[[1, 2], [3]]]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(errors.ProgrammingError);
    expect(await one('select 1')).toBe(1);
  });

  it('text[] with quotes, commas, backslashes, braces, blanks and the string NULL', async () => {
    const values = ['a"b', 'c,d', 'e\\f', '{g}', ' h ', 'NULL', 'null', null, '', '😀', 'tab\tnew\nline', '\\"', 'a b'];
    expect(await one('select $1::text[]', [values])).toEqual(values);
    expect(await one('select $1::varchar[]', [values])).toEqual(values);
    expect(await one('select array_length($1::text[], 1)', [values])).toBe(values.length);
    expect(await one('select ($1::text[])[6] is null', [values])).toBe(false);
    expect(await one('select ($1::text[])[8] is null', [values])).toBe(true);
    const built = await one("select array['a\"b', 'c,d', 'e\\f', 'NULL', null, '', ' h ']::text[]");
    expect(built).toEqual(['a"b', 'c,d', 'e\\f', 'NULL', null, '', ' h ']);
  });

  it('lower bounds are dropped: elements come back from index 0', async () => {
    expect(await one("select '[2:3]={1,2}'::int[]")).toEqual([1, 2]);
    expect(await one("select '[0:1][5:6]={{1,2},{3,4}}'::int[]")).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it('empty arrays, both ways', async () => {
    expect(await one("select '{}'::int[]")).toEqual([]);
    expect(await one("select '{}'::text[]")).toEqual([]);
    expect(await one('select $1::int[]', [[]])).toEqual([]);
    expect(await one('select cardinality($1::int[])', [[]])).toBe(0);
    expect(await one('select $1::text[]', [[[]]])).toEqual([]);
    expect(await one("select array[]::jsonb[]")).toEqual([]);
  });

  it('arrays of every common element type come back typed', async () => {
    const row = (
      await conn().query(`select
        array[true, false, null] as bools,
        array['2024-02-29'::date, null] as dates,
        array['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid] as uuids,
        array[1.5::numeric, 2] as numerics,
        array['x'::char(2)] as chars,
        array['a'::name] as names,
        array[1::oid] as oids,
        array[1.5::float4] as floats`)
    ).rows[0];
    expect(row).toEqual({
      bools: [true, false, null],
      dates: ['2024-02-29', null],
      uuids: ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
      numerics: ['1.5', '2'],
      chars: ['x '],
      names: ['a'],
      oids: [1],
      floats: [1.5],
    });
  });

  it('JS arrays of each kind go in and come back equal', async () => {
    const date = utc(2024, 2, 29, 1, 2, 3, 4);
    // untyped, each array takes the type its context gives it
    expect(await one('select $1::int[]', [[1, 2, -3]])).toEqual([1, 2, -3]);
    expect(await one('select $1::float8[]', [[1.5, 2, null]])).toEqual([1.5, 2, null]);
    expect(await one('select $1::text[]', [['x', 'y,z', null]])).toEqual(['x', 'y,z', null]);
    expect(await one('select $1::bool[]', [[true, null, false]])).toEqual([true, null, false]);
    const dates = await one<Date[]>('select $1::timestamptz[]', [[date, date]]);
    expect(dates.map((d) => d.getTime())).toEqual([date.getTime(), date.getTime()]);
    // typed where the elements are: bytea[], int8[]
    const buffers = await one<Buffer[]>('select $1', [[Buffer.from('ab'), Buffer.from([0, 255])]]);
    expect(buffers.map((b) => b.toString('hex'))).toEqual(['6162', '00ff']);
    expect(await one('select $1::jsonb[]', [[{ a: 1 }, { b: 'c' }]])).toEqual([{ a: 1 }, { b: 'c' }]);
    expect(await one('select $1', [[1n, 2n]])).toEqual([1n, 2n]);
    expect(await one('select $1::int8[]', [[1, 2 ** 40]])).toEqual([1n, 2n ** 40n]);
  });

  it('array elements are read with the element type, not as strings', async () => {
    const result = await conn().query("select '{1,2}'::int4[] as a, '{1,2}'::int8[] as b, '{t,f}'::bool[] as c");
    expect(result.rows[0]).toEqual({ a: [1, 2], b: [1n, 2n], c: [true, false] });
    expect(result.fields.map((f) => f.typeOid)).toEqual([1007, 1016, 1000]);
  });
});

describe('NULL', () => {
  it('null and undefined parameters are NULL', async () => {
    const result = await conn().query('select $1::int is null as a, $2::text is null as b, $3::bytea is null as c, $1::int as d', [null, undefined, null]);
    expect(result.rows).toEqual([{ a: true, b: true, c: true, d: null }]);
    expect(await one('select coalesce($1::text, $$fallback$$)', [undefined])).toBe('fallback');
  });

  it('NULL of every type comes back as null', async () => {
    const result = await conn().query(
      'select null::int2 a, null::int4 b, null::int8 c, null::float8 d, null::numeric e, null::bool f, null::text g, null::bytea h, null::json i, null::jsonb j, null::uuid k, null::date l, null::timestamptz m, null::timestamp n, null::time o, null::int[] p, null::point q',
    );
    expect(Object.values(result.rows[0] as object)).toEqual(Array(17).fill(null));
  });
});

describe('types without a typecaster', () => {
  it('come back as the server text', async () => {
    const row = (
      await conn().query(`select
        '(1,2)'::point as point,
        'a=>1'::text as hstoreish,
        '192.168.0.1/24'::inet as inet,
        '10.0.0.0/8'::cidr as cidr,
        '08:00:2b:01:02:03'::macaddr as macaddr,
        'a:1 b:2'::tsvector as tsvector,
        '<a>x</a>'::xml as xml,
        '1010'::bit(4) as bits,
        '((0,0),(1,1))'::lseg as lseg,
        'int4'::regtype as regtype,
        '0/16B3748'::pg_lsn as lsn`)
    ).rows[0];
    expect(row).toEqual({
      point: { x: 1, y: 2 },
      hstoreish: 'a=>1',
      inet: '192.168.0.1/24',
      cidr: '10.0.0.0/8',
      macaddr: '08:00:2b:01:02:03',
      tsvector: "'a':1 'b':2",
      xml: '<a>x</a>',
      bits: '1010',
      lseg: [
        { x: 0, y: 0 },
        { x: 1, y: 1 },
      ],
      regtype: 'integer',
      lsn: '0/16B3748',
    });
  });

  it('arrays of them come back as arrays of strings', async () => {
    expect(await one("select array['1.2.3.4'::inet, '::1'::inet]")).toEqual(['1.2.3.4', '::1']);
    expect(await one("select array['a:1'::tsvector, null]")).toEqual(["'a':1", null]);
  });

  it('a user-defined type comes back as text', async () => {
    const type = uniqueName('mood');
    await conn().query(`create type ${type} as enum ('sad', 'ok', 'happy')`);
    try {
      expect(await one(`select 'happy'::${type}`)).toBe('happy');
      expect(await one(`select $1::${type}`, ['ok'])).toBe('ok');
    } finally {
      await conn().query(`drop type ${type}`);
    }
  });

  it('a string parameter lets the server pick the type from the context', async () => {
    expect(await one('select $1::inet', ['::ffff:1.2.3.4'])).toBe('::ffff:1.2.3.4');
    expect(await one('select $1::point', ['(3,4)'])).toEqual({ x: 3, y: 4 });
    expect(await one('select $1::int + 1', ['41'])).toBe(42);
    expect(await one('select $1::bool', ['yes'])).toBe(true);
    expect(await one('select $1::float8', ['-Infinity'])).toBe(-Infinity);
    expect(await one('select $1::int8', ['9223372036854775807'])).toBe(9223372036854775807n);
  });
});

describe('typecasters', () => {
  afterEach(() => {
    for (const oid of [23, 1700, 16, 1043, 600, 829]) globalTypecasters.delete(oid);
  });

  it('a connection typecaster applies to that connection only', async () => {
    await withConnection(async (a) => {
      await withConnection(async (b) => {
        const calls: string[] = [];
        types.setTypecaster(
          'int4',
          (text) => {
            calls.push(text);
            return `int:${text}`;
          },
          { conn: a },
        );
        expect(await one('select 42::int4', [], a)).toBe('int:42');
        expect(await one('select 42::int4', [], b)).toBe(42);
        expect(await one('select 42::int4')).toBe(42);
        expect(await one('select null::int4', [], a)).toBeNull();
        expect(calls).toEqual(['42']);
        // elements of int4[] go through the same typecaster
        expect(await one("select '{1,NULL,3}'::int4[]", [], a)).toEqual(['int:1', null, 'int:3']);
        expect(await one("select '{1,NULL,3}'::int4[]", [], b)).toEqual([1, null, 3]);
        // other integer types are untouched
        expect(await one('select 1::int2', [], a)).toBe(1);
        expect(await one('select 1::int8', [], a)).toBe(1n);
        expect(a.typecasters.delete(23)).toBe(true);
        expect(await one('select 42::int4', [], a)).toBe(42);
        expect(await one("select '{1,2}'::int4[]", [], a)).toEqual([1, 2]);
      });
    });
  });

  it('a global typecaster applies to new queries on every connection until removed', async () => {
    await withConnection(async (other) => {
      expect(await one('select 1.5::numeric')).toBe('1.5');
      types.setTypecaster('numeric', (text) => Number(text));
      expect(await one('select 1.5::numeric')).toBe(1.5);
      expect(await one('select 2.25::numeric', [], other)).toBe(2.25);
      expect(await one("select '{1.5,NULL}'::numeric[]")).toEqual([1.5, null]);
      expect(globalTypecasters.delete(1700)).toBe(true);
      expect(await one('select 1.5::numeric')).toBe('1.5');
      expect(await one('select 2.25::numeric', [], other)).toBe('2.25');
    });
  });

  it('a global typecaster on a natively decoded type reaches open connections', async () => {
    await withConnection(async (c) => {
      expect(await one('select true', [], c)).toBe(true);
      types.setTypecaster('bool', (text) => (text === 't' ? 'yes' : 'no'));
      expect(await one('select true', [], c)).toBe('yes');
      expect(await one('select false')).toBe('no');
      expect(await one("select '{t,f}'::bool[]", [], c)).toEqual(['yes', 'no']);
      globalTypecasters.delete(16);
      expect(await one('select true', [], c)).toBe(true);
      expect(await one("select '{t,f}'::bool[]", [], c)).toEqual([true, false]);
    });
  });

  it('a connection typecaster overrides the global one for that connection', async () => {
    await withConnection(async (c) => {
      types.setTypecaster('int4', (text) => `global:${text}`);
      types.setTypecaster('int4', (text) => `local:${text}`, { conn: c });
      expect(await one('select 1::int4', [], c)).toBe('local:1');
      expect(await one('select 1::int4')).toBe('global:1');
      c.typecasters.delete(23);
      expect(await one('select 1::int4', [], c)).toBe('global:1');
      globalTypecasters.delete(23);
      expect(await one('select 1::int4', [], c)).toBe(1);
    });
  });

  it('a typecaster for a type without one gets the server text', async () => {
    types.setTypecaster('macaddr', (text) => text.split(':').map((byte) => parseInt(byte, 16)));
    expect(await one("select '08:00:2b:01:02:03'::macaddr")).toEqual([8, 0, 43, 1, 2, 3]);
    expect(await one("select array['08:00:2b:01:02:ff'::macaddr, null]")).toEqual([[8, 0, 43, 1, 2, 255], null]);
  });

  it('a typecaster by OID works like one by name', async () => {
    await withConnection(async (c) => {
      types.setTypecaster(1043, (text) => text.toUpperCase(), { conn: c });
      expect(await one("select 'abc'::varchar", [], c)).toBe('ABC');
      expect(await one("select 'abc'::text", [], c)).toBe('abc');
    });
  });

  it('a typecaster that throws makes the query fail with DataError; the connection stays usable', async () => {
    await withConnection(async (c) => {
      types.setTypecaster(
        'int4',
        () => {
          throw new Error('boom');
        },
        { conn: c },
      );
      const error = await c.query('select 1::int4 as n').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(errors.DataError);
      expect((error as Error).message).toContain('boom');
      expect((error as Error).cause).toBeInstanceOf(Error);
      c.typecasters.delete(23);
      expect(await one('select 1::int4', [], c)).toBe(1);
    });
  });

  it('a typecaster set while a query is in flight only ever gets text', async () => {
    await withConnection(async (c) => {
      const seen: unknown[] = [];
      const pending = c.query<unknown[]>('select 7::int4, pg_sleep(0.05)', [], { rowFactory: 'tuple' });
      types.setTypecaster(
        'int4',
        (text) => {
          seen.push(text);
          return `cast:${text}`;
        },
        { conn: c },
      );
      const value = (await pending).rows[0][0];
      for (const item of seen) expect(typeof item).toBe('string');
      expect([7, 'cast:7']).toContain(value);
      expect(await one('select 8::int4', [], c)).toBe('cast:8');
    });
  });

  it('a typecaster removed while a query is in flight leaves no raw text behind', async () => {
    await withConnection(async (c) => {
      types.setTypecaster('int4', (text) => `cast:${text}`, { conn: c });
      const pending = c.query<unknown[]>('select 7::int4, pg_sleep(0.05)', [], { rowFactory: 'tuple' });
      c.typecasters.delete(23);
      const value = (await pending).rows[0][0];
      expect([7, 'cast:7']).toContain(value);
      expect(await one('select 8::int4', [], c)).toBe(8);
    });
  });

  it('unknown type names and bad typecasters are refused', () => {
    expect(() => types.setTypecaster('no_such_type_here', (t) => t)).toThrow(errors.ProgrammingError);
    expect(() => types.setTypecaster('int4', 'nope' as never)).toThrow(errors.ProgrammingError);
    expect(() => types.setTypecaster(-1, (t) => t)).toThrow(errors.ProgrammingError);
  });
});

describe('adapters', () => {
  class Money {
    constructor(readonly cents: bigint) {}
  }
  class Euros extends Money {}
  class Point {
    constructor(
      readonly x: number,
      readonly y: number,
    ) {}
  }

  afterEach(() => {
    globalAdapters.delete(Money);
    globalAdapters.delete(Point);
  });

  it('an instance of a registered class becomes a parameter', async () => {
    types.setAdapter(Money, (m) => `${m.cents / 100n}.${String(m.cents % 100n).padStart(2, '0')}`);
    expect(await one('select $1::numeric', [new Money(1234n)])).toBe('12.34');
    // subclasses use their parent's adapter
    expect(await one('select $1::numeric', [new Euros(5n)])).toBe('0.05');
    // a string from an adapter is of unknown type: the server casts it from the context
    expect(await one('select $1::numeric + 1', [new Money(100n)])).toBe('2.00');
    expect(await one('select $1::numeric[]', [[new Money(1n), null, new Money(250n)]])).toEqual(['0.01', null, '2.50']);
  });

  it('an adapter may return any adaptable value', async () => {
    types.setAdapter(Point, (p) => new Json({ x: p.x, y: p.y }));
    expect(await one('select $1::json', [new Point(1, 2)])).toEqual({ x: 1, y: 2 });
    expect(await one("select $1::jsonb ->> 'y'", [new Point(3, 4)])).toBe('4');
    types.setAdapter(Point, (p) => `(${p.x},${p.y})`);
    expect(await one('select $1::point::text', [new Point(5, 6)])).toBe('(5,6)');
    types.setAdapter(Point, (p) => p.x);
    expect(await one('select $1::int', [new Point(7, 8)])).toBe(7);
  });

  it('a connection adapter applies to that connection only', async () => {
    await withConnection(async (c) => {
      types.setAdapter(Point, (p) => `(${p.x},${p.y})`, { conn: c });
      expect(await one('select $1::point::text', [new Point(1, 2)], c)).toBe('(1,2)');
      const error = await conn().query('select $1::point', [new Point(1, 2)]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(errors.ProgrammingError);
    });
  });

  it('an adapter that keeps returning its own class is refused', async () => {
    types.setAdapter(Point, (p) => new Point(p.x + 1, p.y));
    const error = await conn().query('select $1', [new Point(0, 0)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(errors.ProgrammingError);
    expect(await one('select 1')).toBe(1);
  });

  it('an adapter that throws rejects the query without sending it', async () => {
    types.setAdapter(Point, () => {
      throw new RangeError('no points today');
    });
    const error = await conn().query('select $1', [new Point(0, 0)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RangeError);
    expect(await one('select 1')).toBe(1);
  });
});
