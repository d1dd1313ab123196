import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { types } from '../lib';
import { sharedConnection, singleValueOn } from './helpers';

const conn = sharedConnection({ autocommit: true });

const one = singleValueOn(conn);

describe('arrays of every family', () => {
  it('each element goes through its type, NULLs kept, in one row', async () => {
    const row = (
      await conn().query<unknown[]>(
        `select array[1::int2, null], array[1::int8, null], array[1.5::float4, 'NaN'], array[1.10::numeric, null],
          array[true, null], array['\\x01'::bytea], array['{"a":1}'::jsonb, 'null', null], array['2024-02-29'::date, 'infinity'],
          array['2024-02-29 01:02:03.004+00'::timestamptz, '-infinity'], array['2024-02-29 01:02:03'::timestamp],
          array['01:02:03'::time], array['1 day'::interval], array['(1,2)'::point], array['[1,2)'::int4range],
          array['{[1,2)}'::int4multirange], array['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid], array['1.2.3.4'::inet],
          array[B'101'], array['12.5'::money], array['<x/>'::xml], array['0/1'::pg_lsn], array['int4'::regtype]`,
        [],
        { rowFactory: 'tuple' },
      )
    ).rows[0];
    expect(row).toEqual([
      [1, null],
      [1n, null],
      [1.5, NaN],
      ['1.10', null],
      [true, null],
      [Buffer.from([1])],
      [{ a: 1 }, null, null],
      ['2024-02-29', Infinity],
      [new Date('2024-02-29T01:02:03.004Z'), -Infinity],
      [new Date('2024-02-29T01:02:03Z')],
      ['01:02:03'],
      [new types.Interval(0, 1, 0)],
      [{ x: 1, y: 2 }],
      [new types.Range(1, 2)],
      [[new types.Range(1, 2)]],
      ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
      ['1.2.3.4'],
      ['101'],
      ['$12.50'],
      ['<x/>'],
      ['0/1'],
      ['integer'],
    ]);
  });

  it('custom lower bounds and several dimensions', async () => {
    expect(await one("select '[2:3]={1,2}'::int4[]")).toEqual([1, 2]);
    expect(await one("select '[0:1][5:6]={{a,b},{c,NULL}}'::text[]")).toEqual([
      ['a', 'b'],
      ['c', null],
    ]);
    expect(await one("select '{{\"[1,2)\",empty},{NULL,\"(,)\"}}'::int4range[]")).toEqual([
      [new types.Range(1, 2), types.Range.empty()],
      [null, new types.Range(null, null, '()')],
    ]);
    expect(await one("select '{{\"1 day\"},{\"-00:00:01\"}}'::interval[]")).toEqual([[new types.Interval(0, 1, 0)], [new types.Interval(0, 0, -1e6)]]);
    expect(await one("select array[array['(1,1),(0,0)'::box], array['(3,3),(2,2)'::box]]")).toEqual([
      [
        [
          { x: 1, y: 1 },
          { x: 0, y: 0 },
        ],
      ],
      [
        [
          { x: 3, y: 3 },
          { x: 2, y: 2 },
        ],
      ],
    ]);
  });

  it('json arrays hold strings with quotes, braces and backslashes', async () => {
    const values = [{ s: 'a"b{c}\\d,e' }, ['x', null], 'plain', 1.5, null];
    expect(await one('select $1::jsonb[]', [values.map((value) => new types.Json(value))])).toEqual(values);
  });
});

describe('row shapes', () => {
  it('timestamps become Dates in narrow and very wide rows alike, ±infinity and NULL kept', async () => {
    const columns = (count: number) =>
      Array.from({ length: count }, (_, i) =>
        i % 3 === 0 ? `'2024-02-29 12:00:00.5+00'::timestamptz c${i}` : i % 3 === 1 ? `'infinity'::timestamp c${i}` : `null::timestamptz c${i}`,
      ).join(', ');
    for (const count of [3, 300]) {
      const row = (await conn().query<unknown[]>(`select ${columns(count)}`, [], { rowFactory: 'tuple' })).rows[0];
      expect(row).toHaveLength(count);
      row.forEach((value, i) => {
        if (i % 3 === 0) expect(value).toEqual(new Date('2024-02-29T12:00:00.500Z'));
        else if (i % 3 === 1) expect(value).toBe(Infinity);
        else expect(value).toBeNull();
      });
    }
  });

  it('the extremes of a Date come back as Dates', async () => {
    const row = (
      await conn().query<unknown[]>("select '275760-09-13 00:00:00+00'::timestamptz, '4714-11-24 00:00:00+00 BC'::timestamptz, '-infinity'::timestamptz", [], {
        rowFactory: 'tuple',
      })
    ).rows[0];
    expect(row[0]).toEqual(new Date(8.64e15));
    expect(row[1]).toEqual(new Date('-004713-11-24T00:00:00Z'));
    expect(row[2]).toBe(-Infinity);
  });
});

describe('number and boolean arrays as parameters (in binary where the statement casts them)', () => {
  it('read back with their type, NULLs, -0, NaN and the int8 extremes a number holds', async () => {
    expect(await one('select $1::int4[]', [[1, null, -2147483648]])).toEqual([1, null, -2147483648]);
    expect(await one('select $1::int8[]', [[-(2 ** 53 - 1), 2 ** 53 - 1, -1, null]])).toEqual([-(2n ** 53n - 1n), 2n ** 53n - 1n, -1n, null]);
    const floats = (await one<number[]>('select $1::float8[]', [[-0, NaN, -Infinity, 0.1, null]])) as (number | null)[];
    expect(floats.map((value) => (value === null ? 'null' : Object.is(value, -0) ? '-0' : String(value)))).toEqual(['-0', 'NaN', '-Infinity', '0.1', 'null']);
    expect(await one('select $1::bool[]', [[true, null, false]])).toEqual([true, null, false]);
    // the same through the text form, where the values do not fit the cast's type: refused, not rounded
    await expect(one('select $1::int4[]', [[1, 2.5]])).rejects.toThrow(/invalid input syntax for type integer/);
    await expect(one('select $1::int4[]', [[2 ** 31]])).rejects.toThrow(/out of range/);
    // without a cast an array goes untyped: with nothing else to go by, the server reads text
    expect(await one('select $1', [[1, null]])).toBe('{1,NULL}');
  });

  it('work where the statement casts or compares them', async () => {
    expect(await one('select 3 = any($1)', [[1, 2, 3]])).toBe(true);
    expect(await one('select $1::numeric[]', [[1.5, 2]])).toEqual(['1.5', '2']);
    expect(await one('select $1::int2[]', [[1, -2]])).toEqual([1, -2]);
    expect(await one('select $1::text', [[1.5, null]])).toBe('{1.5,NULL}');
    expect(await one('select array_length($1::bool[], 1)', [new Array(10_000).fill(true)])).toBe(10_000);
    await expect(one('select $1::int2[]', [[1, 40_000]])).rejects.toThrow(/out of range/);
  });

  it('fill a table through unnest, as bulk inserts do, with prepared statements', async () => {
    await conn().query('create temp table binary_arrays (id int4, big int8, score float8, flag bool)');
    const ids = Array.from({ length: 3000 }, (_, i) => i - 1500);
    const bigs = ids.map((id) => id * 2 ** 33);
    const scores = ids.map((id) => (id % 7 === 0 ? null : id / 3));
    const flags = ids.map((id) => (id % 5 === 0 ? null : id % 2 === 0));
    const insert = 'insert into binary_arrays select * from unnest($1::int4[], $2::int8[], $3::float8[], $4::bool[])';
    for (let round = 0; round < 3; round++) await conn().query(insert, [ids, bigs, scores, flags], { prepare: true });
    const { rows } = await conn().query<{ id: number; big: bigint; score: number | null; flag: boolean | null }>(
      'select distinct * from binary_arrays order by id',
      undefined,
    );
    expect(rows.length).toBe(3000);
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (let i = 0; i < ids.length; i += 37) {
      const row = byId.get(ids[i]);
      expect(row).toEqual({ id: ids[i], big: BigInt(bigs[i]), score: scores[i], flag: flags[i] });
    }
    expect(await one('select count(*)::int from binary_arrays')).toBe(9000);
  });

  it('stay text where they are quoted into a statement', () => {
    const text = conn().cursor().mogrify('select %s, %s', [[1, 2.5], [true, null]]);
    expect(text).toBe("select '{1,2.5}', '{true,NULL}'");
  });
});

describe('random values of the main types go in and come back equal', () => {
  const runs = { numRuns: 25 };

  async function roundTrip(type: string, values: unknown[]): Promise<unknown[]> {
    return one<unknown[]>(`select $1::${type}[]`, [values]);
  }

  it('int4, int8, float8, bool', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(fc.integer(), { nil: null })), async (values) => {
        expect(await roundTrip('int4', values)).toEqual(values);
      }),
      runs,
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { nil: null })), async (values) => {
        expect(await roundTrip('int8', values)).toEqual(values);
      }),
      runs,
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(fc.maxSafeInteger(), { nil: null })), async (values) => {
        const back = await roundTrip('int8', values);
        expect(back).toEqual(values.map((value) => (value === null ? null : BigInt(value))));
      }),
      runs,
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(fc.double(), { nil: null })), async (values) => {
        const back = await roundTrip('float8', values);
        back.forEach((value, i) => expect(Object.is(value, values[i])).toBe(true));
      }),
      runs,
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(fc.boolean(), { nil: null })), async (values) => {
        expect(await roundTrip('bool', values)).toEqual(values);
      }),
      runs,
    );
  });

  it('text (any unicode but NUL), bytea and numeric', async () => {
    const text = fc.string({ unit: 'binary' }).map((s) => s.replace(/\u0000/g, ''));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(text, { nil: null })), async (values) => {
        expect(await roundTrip('text', values)).toEqual(values);
      }),
      runs,
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(fc.uint8Array(), { nil: null })), async (values) => {
        const back = await roundTrip('bytea', values.map((v) => (v === null ? null : Buffer.from(v))));
        back.forEach((value, i) => expect(value === null ? null : [...(value as Buffer)]).toEqual(values[i] === null ? null : [...(values[i] as Uint8Array)]));
      }),
      runs,
    );
    const numeric = fc.tuple(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 0, max: 20 })).map(([digits, scale]) => {
      const negative = digits < 0n;
      const text = (negative ? -digits : digits).toString().padStart(scale + 1, '0');
      const value = scale === 0 ? text : `${text.slice(0, -scale)}.${text.slice(-scale)}`;
      return negative ? `-${value}` : value;
    });
    await fc.assert(
      fc.asyncProperty(fc.array(numeric), async (values) => {
        expect(await roundTrip('numeric', values)).toEqual(values);
      }),
      runs,
    );
  });

  it('timestamptz, timestamp and date', async () => {
    const date = fc.date({ min: new Date('-004713-11-24T00:00:00Z'), max: new Date('+100000-01-01T00:00:00Z'), noInvalidDate: true });
    await fc.assert(
      fc.asyncProperty(fc.array(date), async (values) => {
        expect(await roundTrip('timestamptz', values)).toEqual(values);
        expect(await roundTrip('timestamp', values)).toEqual(values);
      }),
      runs,
    );
    const day = fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
    await fc.assert(
      fc.asyncProperty(fc.array(day), async (values) => {
        expect(await roundTrip('date', values)).toEqual(values);
      }),
      runs,
    );
  });

  it('json values and uuids', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ noUnicodeString: false }), async (value) => {
        const text = JSON.stringify(value);
        fc.pre(!text.includes('\\u0000')); // jsonb refuses NUL characters
        const clean = JSON.parse(text) as unknown; // -0 becomes 0, as in jsonb
        expect(await one('select $1::jsonb', [new types.Json(clean)])).toEqual(clean);
      }),
      runs,
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uuid()), async (values) => {
        expect(await roundTrip('uuid', values)).toEqual(values);
      }),
      runs,
    );
  });
});
