import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { errors, types } from '../lib';
import { parseMultirange, parseRange } from '../lib/types/range';
import { connectTest, thrownBy, uniqueName, sharedConnection, singleValueOn } from './helpers';

const { Range } = types;
type AnyRange = InstanceType<typeof Range>;

const conn = sharedConnection({ autocommit: true });

const one = singleValueOn(conn);

function shape(value: unknown): unknown {
  expect(value).toBeInstanceOf(Range);
  const range = value as AnyRange;
  return { lower: range.lower, upper: range.upper, bounds: range.bounds, isEmpty: range.isEmpty };
}

describe('built-in ranges from the server', () => {
  it('int4range and int8range ends come back as number and bigint, normalized by the server', async () => {
    const row = (
      await conn().query<unknown[]>(
        "select '[1,5]'::int4range, '(1,5)'::int4range, '[-2147483648,2147483647)'::int4range, '[-9223372036854775808,9223372036854775807)'::int8range",
        [],
        { rowFactory: 'tuple' },
      )
    ).rows[0];
    expect(row.map(shape)).toEqual([
      { lower: 1, upper: 6, bounds: '[)', isEmpty: false },
      { lower: 2, upper: 5, bounds: '[)', isEmpty: false },
      { lower: -2147483648, upper: 2147483647, bounds: '[)', isEmpty: false },
      { lower: -(2n ** 63n), upper: 2n ** 63n - 1n, bounds: '[)', isEmpty: false },
    ]);
  });

  it('infinite ends are null, empty ranges are empty', async () => {
    const row = (
      await conn().query<unknown[]>("select '(,)'::int4range, '[3,)'::int4range, '(,3]'::int4range, 'empty'::int4range, '[5,5)'::int4range", [], {
        rowFactory: 'tuple',
      })
    ).rows[0];
    expect(row.map(shape)).toEqual([
      { lower: null, upper: null, bounds: '()', isEmpty: false },
      { lower: 3, upper: null, bounds: '[)', isEmpty: false },
      { lower: null, upper: 4, bounds: '()', isEmpty: false },
      { lower: null, upper: null, bounds: '()', isEmpty: true },
      { lower: null, upper: null, bounds: '()', isEmpty: true },
    ]);
    const unbounded = row[0] as AnyRange;
    expect([unbounded.lowerInf, unbounded.upperInf, unbounded.lowerInc, unbounded.upperInc]).toEqual([true, true, false, false]);
    expect((row[3] as AnyRange).lowerInf).toBe(false);
  });

  it('numrange ends are strings, tsrange and tstzrange Dates, daterange date strings', async () => {
    const row = (
      await conn().query<unknown[]>(
        `select '[1.50,2.25]'::numrange, '["2024-02-29 12:00","2024-03-01 00:00:00.123")'::tsrange,
          '[2024-02-29 12:00+05:30,infinity]'::tstzrange, '[2024-02-29,2024-03-01]'::daterange, '[-infinity,0001-01-01 BC)'::daterange,
          '[NaN,NaN]'::numrange`,
        [],
        { rowFactory: 'tuple' },
      )
    ).rows[0];
    expect(row.map(shape)).toEqual([
      { lower: '1.50', upper: '2.25', bounds: '[]', isEmpty: false },
      { lower: new Date('2024-02-29T12:00:00Z'), upper: new Date('2024-03-01T00:00:00.123Z'), bounds: '[)', isEmpty: false },
      { lower: new Date('2024-02-29T06:30:00Z'), upper: Infinity, bounds: '[]', isEmpty: false },
      { lower: '2024-02-29', upper: '2024-03-02', bounds: '[)', isEmpty: false },
      { lower: -Infinity, upper: '0001-01-01 BC', bounds: '[)', isEmpty: false },
      { lower: 'NaN', upper: 'NaN', bounds: '[]', isEmpty: false },
    ]);
  });

  it('multiranges come back as arrays of ranges', async () => {
    const row = (
      await conn().query<unknown[]>(
        "select '{[1,3), [5,7), [10,)}'::int4multirange, '{}'::int4multirange, '{[2024-01-01,2024-01-05)}'::datemultirange, '{(,\"2024-01-01 00:00\"]}'::tsmultirange",
        [],
        { rowFactory: 'tuple' },
      )
    ).rows[0];
    expect((row[0] as unknown[]).map(shape)).toEqual([
      { lower: 1, upper: 3, bounds: '[)', isEmpty: false },
      { lower: 5, upper: 7, bounds: '[)', isEmpty: false },
      { lower: 10, upper: null, bounds: '[)', isEmpty: false },
    ]);
    expect(row[1]).toEqual([]);
    expect((row[2] as unknown[]).map(shape)).toEqual([{ lower: '2024-01-01', upper: '2024-01-05', bounds: '[)', isEmpty: false }]);
    expect((row[3] as unknown[]).map(shape)).toEqual([{ lower: null, upper: new Date('2024-01-01T00:00:00Z'), bounds: '(]', isEmpty: false }]);
  });

  it('arrays of ranges and of multiranges, with NULLs', async () => {
    const ranges = await one<unknown[]>("select array['[1,2)'::int4range, null, 'empty']");
    expect(ranges[1]).toBeNull();
    expect(shape(ranges[0])).toEqual({ lower: 1, upper: 2, bounds: '[)', isEmpty: false });
    expect((ranges[2] as AnyRange).isEmpty).toBe(true);
    const multi = await one<unknown[][]>("select array['{[1,2),[4,5)}'::int4multirange, '{}']");
    expect(multi[0].map(shape)).toEqual([
      { lower: 1, upper: 2, bounds: '[)', isEmpty: false },
      { lower: 4, upper: 5, bounds: '[)', isEmpty: false },
    ]);
    expect(multi[1]).toEqual([]);
  });

  it('a typecaster set on the subtype reaches the range ends', async () => {
    const c = await connectTest({ autocommit: true });
    try {
      types.setNumericType('number', { conn: c });
      expect(shape(await one("select '[1.5,2.5)'::numrange", [], c))).toEqual({ lower: 1.5, upper: 2.5, bounds: '[)', isEmpty: false });
      expect(shape(await one("select '[1.5,2.5)'::numrange"))).toEqual({ lower: '1.5', upper: '2.5', bounds: '[)', isEmpty: false });
    } finally {
      await c.close();
    }
  });
});

describe('Range as a parameter', () => {
  it('goes in as the range type the context asks for', async () => {
    expect(await one('select $1::int4range::text', [new Range(1, 10)])).toBe('[1,10)');
    expect(await one('select $1::int8range::text', [new Range(1, 10, '[]')])).toBe('[1,11)');
    expect(await one('select $1::int8range::text', [new Range(1n, 2n ** 62n)])).toBe(`[1,${2n ** 62n})`);
    expect(await one('select $1::numrange::text', [new Range<unknown>(1.5, '2.25', '(]')])).toBe('(1.5,2.25]');
    expect(await one('select $1::int4range::text', [new Range(null, 5)])).toBe('(,5)');
    expect(await one('select $1::int4range::text', [new Range(5, null, '[]')])).toBe('[5,)');
    expect(await one('select $1::int4range::text', [Range.empty()])).toBe('empty');
    expect(await one("select $1::daterange::text", [new Range('2024-02-28', '2024-02-29', '[]')])).toBe('[2024-02-28,2024-03-01)');
  });

  it('Date ends keep their instant in tstzrange and their UTC wall clock in tsrange', async () => {
    const lower = new Date('2024-02-29T23:59:59.999Z');
    const range = new Range(lower, null);
    expect(shape(await one('select $1::tstzrange', [range]))).toEqual({ lower, upper: null, bounds: '[)', isEmpty: false });
    expect(shape(await one('select $1::tsrange', [range]))).toEqual({ lower, upper: null, bounds: '[)', isEmpty: false });
    const bc = new Date('-000100-06-01T00:00:00Z');
    expect(shape(await one('select $1::tstzrange', [new Range(bc, lower)]))).toEqual({ lower: bc, upper: lower, bounds: '[)', isEmpty: false });
  });

  it('string ends with commas, quotes, backslashes, brackets and blanks survive', async () => {
    const c = await connectTest({ autocommit: true });
    const type = uniqueName('textrange');
    try {
      await c.query(`create type ${type} as range (subtype = text)`);
      await types.registerRange(c, type);
      const nasty = ['a,b', 'say "hi"', 'back\\slash', '(x]', ' lead', 'tail ', '', 'ünï ☃'];
      for (const [i, lower] of nasty.entries()) {
        const upper = nasty[(i + 1) % nasty.length] + '\uffff';
        if (lower >= upper) continue;
        const back = await one(`select $1::${type}`, [new Range(lower, upper, '[]')], c);
        expect(shape(back)).toEqual({ lower, upper, bounds: '[]', isEmpty: false });
      }
    } finally {
      await c.query(`drop type if exists ${type}`);
      await c.close();
    }
  });

  it('arrays of ranges go in', async () => {
    const back = await one<unknown[]>('select $1::int4range[]', [[new Range(1, 2), null, Range.empty()]]);
    expect(shape(back[0])).toEqual({ lower: 1, upper: 2, bounds: '[)', isEmpty: false });
    expect(back[1]).toBeNull();
    expect((back[2] as AnyRange).isEmpty).toBe(true);
  });

  it('toString() writes the literal as it would be sent', () => {
    expect(String(new Range(1, 5))).toBe('[1,5)');
    expect(String(new Range(new Date(0), null, '(]'))).toBe('("1970-01-01 00:00:00+00",]');
    expect(String(new Range('a b', 'c"d'))).toBe('["a b","c\\"d")');
    expect(String(Range.empty())).toBe('empty');
  });

  it('Multirange goes in as a multirange', async () => {
    const value = new types.Multirange([new Range(5, 7), new Range(1, 3), new Range(2, 4, '[]')]);
    // the server sorts and merges: [1,3) [2,4] [5,7) is [1,7)
    expect(await one('select $1::int4multirange::text', [value])).toBe('{[1,7)}');
    expect(await one('select $1::int4multirange::text', [new types.Multirange([new Range(9, 10), new Range(1, 2)])])).toBe('{[1,2),[9,10)}');
    expect(await one('select $1::int4multirange', [new types.Multirange()])).toEqual([]);
    const back = await one<unknown[]>('select $1::tstzmultirange', [new types.Multirange([new Range(new Date(0), null)])]);
    expect(back.map(shape)).toEqual([{ lower: new Date(0), upper: null, bounds: '[)', isEmpty: false }]);
    expect(thrownBy(() => new types.Multirange([1 as unknown as AnyRange]))).toBeInstanceOf(errors.ProgrammingError);
    expect(thrownBy(() => new types.Multirange(null as unknown as AnyRange[]))).toBeInstanceOf(errors.ProgrammingError);
  });

  it('bad bounds and malformed literals are refused', () => {
    expect(thrownBy(() => new Range(1, 2, '[[' as '[)'))).toBeInstanceOf(errors.DataError);
    for (const bad of ['', '1,2', '[1,2', '[1,2)x', '["1,2)']) expect(thrownBy(() => parseRange(bad)), bad).toBeInstanceOf(errors.DataError);
    for (const bad of ['', '[1,2)', '{[1,2)']) expect(thrownBy(() => parseMultirange(bad, parseRange)), bad).toBeInstanceOf(errors.DataError);
  });

  it('a range the server refuses is its error, not a crash', async () => {
    const error = await conn().query('select $1::int4range', [new Range(5, 1)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(errors.DataError);
    expect(await one('select 1')).toBe(1);
  });

  it('random int8 and numeric ranges go in and come back equal', async () => {
    const bound = fc.option(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 2n }), { nil: null });
    await fc.assert(
      fc.asyncProperty(bound, bound, async (a, b) => {
        const [lower, upper] = a !== null && b !== null && a > b ? [b, a] : [a, b];
        const back = (await one('select $1::int8range', [new Range(lower, upper)])) as AnyRange;
        if (lower !== null && lower === upper) {
          expect(back.isEmpty).toBe(true);
        } else {
          expect(shape(back)).toEqual({ lower, upper, bounds: lower === null ? '()' : '[)', isEmpty: false });
        }
      }),
      { numRuns: 40 },
    );
    const decimal = fc.integer({ min: -1e9, max: 1e9 }).map((n) => (n / 1000).toString());
    await fc.assert(
      fc.asyncProperty(decimal, decimal, async (a, b) => {
        const [lower, upper] = Number(a) <= Number(b) ? [a, b] : [b, a];
        const back = (await one('select $1::numrange', [new Range(lower, upper, '[]')])) as AnyRange;
        expect(Number(back.lower)).toBe(Number(lower));
        expect(Number(back.upper)).toBe(Number(upper));
        expect(back.bounds).toBe('[]');
      }),
      { numRuns: 30 },
    );
  });
});
