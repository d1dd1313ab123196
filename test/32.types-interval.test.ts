import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { errors, types } from '../lib';
import { parseInterval } from '../lib/types/interval';
import { connectTest, rejectionOf, thrownBy, sharedConnection, singleValueOn } from './helpers';

const { Interval } = types;
const HOUR = 3_600_000_000;

const conn = sharedConnection({ autocommit: true });

const one = singleValueOn(conn);

function parts(value: unknown): [number, number, number] {
  expect(value).toBeInstanceOf(Interval);
  const interval = value as InstanceType<typeof Interval>;
  return [interval.months, interval.days, interval.microseconds];
}

describe('interval from the server', () => {
  const cases: [string, [number, number, number]][] = [
    ['0', [0, 0, 0]],
    ['1 year 2 months 3 days 04:05:06.789', [14, 3, 4 * HOUR + 5 * 60e6 + 6.789e6]],
    ['-1 year -2 mons +3 days -04:05:06', [-14, 3, -(4 * HOUR + 5 * 60e6 + 6e6)]],
    ['-1 year 2 mons', [-10, 0, 0]],
    ['1 day -1 second', [0, 1, -1e6]],
    ['-0.000001 seconds', [0, 0, -1]],
    ['0.000001 seconds', [0, 0, 1]],
    ['100 hours', [0, 0, 100 * HOUR]],
    ['2000000 hours 59 minutes 59.999999 seconds', [0, 0, 2_000_000 * HOUR + 59 * 60e6 + 59_999_999]],
    ['178956970 years 7 months', [2147483647, 0, 0]],
    ['-178956970 years -8 months', [-2147483648, 0, 0]],
    ['2147483647 days', [0, 2147483647, 0]],
    ['-2147483648 days', [0, -2147483648, 0]],
    ['1 mon', [1, 0, 0]],
    ['12 months', [12, 0, 0]],
    ['7 days', [0, 7, 0]],
  ];

  it('reads every field of the default (postgres) style, signs and limits included', async () => {
    const texts = cases.map(([text]) => text);
    const result = await one<unknown[]>('select $1::interval[]', [texts]);
    result.forEach((value, i) => expect(parts(value), cases[i][0]).toEqual(cases[i][1]));
  });

  it("toString() writes what the server writes", async () => {
    const texts = cases.map(([text]) => text);
    const rows = (await conn().query<unknown[]>('select v, v::text from unnest($1::interval[]) v', [texts], { rowFactory: 'tuple' })).rows;
    for (const [value, serverText] of rows) expect(String(value)).toBe(serverText);
  });

  it('reads every IntervalStyle, and parameters are read right under each', async () => {
    const c = await connectTest({ autocommit: true });
    try {
      // as Interval values: the text '-1 year 2 mons' would mean minus both under sql_standard
      const values = cases.map(([, [months, days, micros]]) => new Interval(months, days, micros));
      for (const style of ['iso_8601', 'sql_standard', 'postgres_verbose', 'postgres']) {
        await c.query(`set intervalstyle = '${style}'`);
        const rows = (await c.query<unknown[]>('select v, v::text from unnest($1::interval[]) v', [values], { rowFactory: 'tuple' })).rows;
        rows.forEach(([value, serverText], i) => expect(parts(value), `${style}: ${String(serverText)}`).toEqual(cases[i][1]));
        const value = new Interval(-14, 3, 5e6);
        expect(await one('select $1::interval = $2::interval', [value, 'P-1Y-2M3DT5S'], c), style).toBe(true);
      }
    } finally {
      await c.close();
    }
  });

  it('random intervals read back equal in every IntervalStyle', async () => {
    const c = await connectTest({ autocommit: true });
    try {
      const interval = fc
        .tuple(fc.integer({ min: -2147483648, max: 2147483647 }), fc.integer({ min: -2147483648, max: 2147483647 }), fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }))
        .map(([months, days, micros]) => new Interval(months, days, micros));
      const small = fc
        .tuple(fc.integer({ min: -30, max: 30 }), fc.integer({ min: -40, max: 40 }), fc.integer({ min: -1e11, max: 1e11 }))
        .map(([months, days, micros]) => new Interval(months, days, micros));
      for (const style of ['sql_standard', 'postgres_verbose', 'iso_8601']) {
        await c.query(`set intervalstyle = '${style}'`);
        await fc.assert(
          fc.asyncProperty(fc.array(fc.oneof(interval, small), { minLength: 1, maxLength: 20 }), async (values) => {
            const back = await one<unknown[]>('select $1::interval[]', [values], c);
            back.forEach((value, i) => expect(parts(value)).toEqual(parts(values[i])));
          }),
          { numRuns: 15 },
        );
      }
    } finally {
      await c.close();
    }
  });

  it('a time part past 2^53 microseconds is a DataError, not a rounded value', async () => {
    const error = await rejectionOf(conn().query("select '2562047788 hours'::interval"));
    expect(error).toBeInstanceOf(errors.DataError);
    expect(error.message).toContain('2^53');
    expect(await one('select 1')).toBe(1);
  });

  it('NULL, and arrays with NULLs', async () => {
    expect(await one('select null::interval')).toBeNull();
    const values = await one<unknown[]>("select array['1 day'::interval, null, '-1 mon']");
    expect(values[1]).toBeNull();
    expect(parts(values[0])).toEqual([0, 1, 0]);
    expect(parts(values[2])).toEqual([-1, 0, 0]);
  });
});

describe('interval as a parameter', () => {
  it('comes back equal, typed interval without a cast', async () => {
    const value = new Interval(-25, 40, -(26 * HOUR + 1));
    const back = await one('select $1', [value]);
    expect(parts(back)).toEqual([-25, 40, -(26 * HOUR + 1)]);
    expect((back as InstanceType<typeof Interval>).equals(value)).toBe(true);
    expect(await one('select pg_typeof($1)::text', [value])).toBe('interval');
  });

  it('works in date arithmetic across a leap day', async () => {
    expect(await one("select ('2024-02-28'::date + $1)::date::text", [new Interval(0, 1, 0)])).toBe('2024-02-29');
    expect(await one("select ('2024-01-31'::date + $1)::date::text", [new Interval(1, 0, 0)])).toBe('2024-02-29');
  });

  it('Interval.from adds up parts', async () => {
    const value = Interval.from({ years: 1, months: 1, weeks: 1, days: 1, hours: 1, minutes: 1, seconds: 1, milliseconds: 1, microseconds: 1 });
    expect(parts(value)).toEqual([13, 8, HOUR + 60e6 + 1e6 + 1000 + 1]);
    expect(await one('select $1::text', [value])).toBe('1 year 1 mon 8 days 01:01:01.001001');
  });

  it('arrays of intervals go in typed', async () => {
    const values = [new Interval(1, 0, 0), null, new Interval(0, 0, -1)];
    expect(await one('select pg_typeof($1)::text', [values])).toBe('interval[]');
    const back = await one<unknown[]>('select $1', [values]);
    expect(back[1]).toBeNull();
    expect(parts(back[2])).toEqual([0, 0, -1]);
  });

  it('bad fields are refused with DataError', () => {
    expect(thrownBy(() => new Interval(1.5))).toBeInstanceOf(errors.DataError);
    expect(thrownBy(() => new Interval(0, 2 ** 31))).toBeInstanceOf(errors.DataError);
    expect(thrownBy(() => new Interval(0, 0, 2 ** 53))).toBeInstanceOf(errors.DataError);
    expect(thrownBy(() => new Interval(0, 0, NaN))).toBeInstanceOf(errors.DataError);
    expect(thrownBy(() => parseInterval('soon'))).toBeInstanceOf(errors.DataError);
    expect(thrownBy(() => parseInterval(''))).toBeInstanceOf(errors.DataError);
    expect(thrownBy(() => parseInterval('P'))).toBeInstanceOf(errors.DataError);
    for (const bad of ['1 fortnight', '@ 1 yr', '@ 1.5 days', '1-2-3', '1 2 3 4', '1:2:3', 'P1X', '1 day ']) {
      expect(thrownBy(() => parseInterval(bad)), bad).toBeInstanceOf(errors.DataError);
    }
  });

  it('random intervals go in and come back equal, and print as the server prints them', async () => {
    const interval = fc
      .tuple(
        fc.integer({ min: -2147483648, max: 2147483647 }),
        fc.integer({ min: -2147483648, max: 2147483647 }),
        fc.oneof(fc.integer({ min: -1e12, max: 1e12 }), fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 })),
      )
      .map(([months, days, micros]) => new Interval(months, days, micros));
    await fc.assert(
      fc.asyncProperty(fc.array(interval, { minLength: 1, maxLength: 20 }), async (values) => {
        const rows = (await conn().query<unknown[]>('select v, v::text from unnest($1::interval[]) v', [values], { rowFactory: 'tuple' })).rows;
        rows.forEach(([back, serverText], i) => {
          expect(parts(back)).toEqual(parts(values[i]));
          expect(values[i].toString()).toBe(serverText);
        });
      }),
      { numRuns: 40 },
    );
  });
});
