// node-postgres's type parsing through pqnode/pg: the defaults (int8 and numeric as strings,
// dates as local Dates, arrays, json, bytea, intervals), parseInt8, and parsers set
// process-wide, per client and per query.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import pg, { Client, types } from '../lib/pg';
import { testDsn } from './helpers';

let c: Client;

beforeAll(async () => {
  c = new Client(testDsn());
  await c.connect();
});

afterAll(async () => {
  await c.end();
});

async function value(sql: string, params?: unknown[]): Promise<unknown> {
  const { rows } = await c.query({ text: sql, values: params, rowMode: 'array' });
  return (rows[0] as unknown as unknown[])[0];
}

describe('default parsers', () => {
  it('reads numbers as node-postgres does', async () => {
    expect(await value('SELECT 1::int2')).toBe(1);
    expect(await value('SELECT 2147483647::int4')).toBe(2147483647);
    expect(await value('SELECT 9007199254740993::int8')).toBe('9007199254740993');
    expect(await value('SELECT 1.50::numeric')).toBe('1.50');
    expect(await value('SELECT 1.5::float4')).toBe(1.5);
    expect(await value("SELECT 'NaN'::float8")).toBeNaN();
    expect(await value("SELECT '-Infinity'::float8")).toBe(-Infinity);
    expect(await value('SELECT 4294967295::oid')).toBe(4294967295);
    expect(await value("SELECT '$1.50'::money")).toBe('$1.50');
  });

  it('reads booleans, text, uuid, bytea and json', async () => {
    expect(await value('SELECT true')).toBe(true);
    expect(await value('SELECT false')).toBe(false);
    expect(await value("SELECT 'a'::char(3)")).toBe('a  ');
    expect(await value("SELECT '6ba7b810-9dad-11d1-80b4-00c04fd430c8'::uuid")).toBe('6ba7b810-9dad-11d1-80b4-00c04fd430c8');
    expect(await value("SELECT '\\x00ff'::bytea")).toEqual(Buffer.from([0, 255]));
    expect(await value(`SELECT '{"a":[1,2,{"b":null}]}'::json`)).toEqual({ a: [1, 2, { b: null }] });
    expect(await value(`SELECT '{"a":1}'::jsonb`)).toEqual({ a: 1 });
  });

  it('reads dates and timestamps as local Dates, timestamptz at its instant, ±infinity as ±Infinity', async () => {
    expect(await value("SELECT '2020-02-03'::date")).toEqual(new Date(2020, 1, 3));
    expect(await value("SELECT '2020-02-03 04:05:06.789'::timestamp")).toEqual(new Date(2020, 1, 3, 4, 5, 6, 789));
    expect(await value("SELECT '2020-02-03 04:05:06.789+02'::timestamptz")).toEqual(new Date(Date.UTC(2020, 1, 3, 2, 5, 6, 789)));
    expect(await value("SELECT 'infinity'::timestamptz")).toBe(Infinity);
    expect(await value("SELECT '-infinity'::date")).toBe(-Infinity);
    const bc = (await value("SELECT '0002-01-01 BC'::date")) as Date;
    expect(bc.getFullYear()).toBe(-1);
    expect(await value("SELECT '04:05:06'::time")).toBe('04:05:06');
  });

  it('reads intervals as node-postgres interval objects that go back in', async () => {
    const interval = (await value("SELECT '1 year 2 months 3 days 04:05:06.789'::interval")) as pg.PostgresInterval;
    expect(interval).toBeInstanceOf(pg.PostgresInterval);
    expect({ ...interval }).toEqual({ years: 1, months: 2, days: 3, hours: 4, minutes: 5, seconds: 6, milliseconds: 789 });
    expect(interval.toPostgres()).toBe('6.789 seconds 5 minutes 4 hours 3 days 2 months 1 years');
    expect(interval.toISOString()).toBe('P1Y2M3DT4H5M6.789S');
    expect(await value('SELECT $1::interval = $2::interval', [interval, '1 year 2 mons 3 days 04:05:06.789'])).toBe(true);
    const negative = (await value("SELECT '-01:02:03'::interval")) as pg.PostgresInterval;
    expect({ ...negative }).toEqual({ hours: -1, minutes: -2, seconds: -3 });
    expect({ ...((await value("SELECT '0'::interval")) as object) }).toEqual({});
  });

  it('reads arrays of the built-in types, NULLs included', async () => {
    expect(await value('SELECT ARRAY[1, NULL, 3]::int4[]')).toEqual([1, null, 3]);
    expect(await value('SELECT ARRAY[1]::int8[]')).toEqual(['1']);
    expect(await value("SELECT ARRAY['a', NULL, 'b,c', '\"q\"']::text[]")).toEqual(['a', null, 'b,c', '"q"']);
    expect(await value('SELECT ARRAY[ARRAY[1.5, 2], ARRAY[3, 4]]::float8[]')).toEqual([
      [1.5, 2],
      [3, 4],
    ]);
    expect(await value('SELECT ARRAY[true, false]')).toEqual([true, false]);
    expect(await value("SELECT ARRAY['2020-01-02'::date]")).toEqual([new Date(2020, 0, 2)]);
    expect(await value(`SELECT ARRAY['{"a":1}'::jsonb]`)).toEqual([{ a: 1 }]);
    expect(await value("SELECT ARRAY['\\x01'::bytea]")).toEqual([Buffer.from([1])]);
    expect(await value('SELECT ARRAY[1.5]::numeric[]')).toEqual([1.5]);
    // types pg-types has no parser for stay text, arrays of them too
    expect(await value("SELECT ARRAY['[1,3)'::int4range]")).toBe('{"[1,3)"}');
  });

  it('reads points and circles', async () => {
    expect(await value("SELECT '(1.5,2)'::point")).toEqual({ x: 1.5, y: 2 });
    expect(await value("SELECT '<(1,2),3>'::circle")).toEqual({ x: 1, y: 2, radius: 3 });
  });
});

describe('registering parsers', () => {
  it('parses int8 as a number with defaults.parseInt8, and back', async () => {
    pg.defaults.parseInt8 = true;
    try {
      expect(await value('SELECT 42::int8')).toBe(42);
      expect(await value('SELECT ARRAY[1, 2]::int8[]')).toEqual([1, 2]);
    } finally {
      pg.defaults.parseInt8 = false;
    }
    expect(await value('SELECT 42::int8')).toBe('42');
  });

  it('uses a process-wide parser, a client parser over it, and a query parser over both', async () => {
    const original = types.getTypeParser(1700);
    types.setTypeParser(1700, (text: string) => `global:${text}`);
    try {
      expect(await value('SELECT 1.5::numeric')).toBe('global:1.5');
      const own = new Client(testDsn());
      await own.connect();
      try {
        own.setTypeParser(1700, (text: string) => `client:${text}`);
        expect(own.getTypeParser(1700)('x')).toBe('client:x');
        const fromClient = await own.query({ text: 'SELECT 2.5::numeric AS n, 3::int4 AS i', rowMode: 'array' });
        expect(fromClient.rows).toEqual([['client:2.5', 3]]);
        const perQuery = await own.query({
          text: 'SELECT 2.5::numeric AS n, 3::int4 AS i',
          types: { getTypeParser: (oid: number) => (text: string) => `query:${oid}:${text}` },
        });
        expect(perQuery.rows).toEqual([{ n: 'query:1700:2.5', i: 'query:23:3' }]);
      } finally {
        await own.end();
      }
    } finally {
      types.setTypeParser(1700, original);
    }
    expect(await value('SELECT 1.5::numeric')).toBe('1.5');
  });

  it('lets a parser override a type the native layer decodes (int4, bool, bytea)', async () => {
    const perQuery = await c.query({
      text: "SELECT 7::int4 AS i, true AS b, '\\x01'::bytea AS x",
      types: { getTypeParser: (oid: number) => (text: string) => `${oid}=${text}` },
    });
    expect(perQuery.rows).toEqual([{ i: '23=7', b: '16=t', x: '17=\\x01' }]);
    // and the next query, without it, is decoded natively again
    expect((await c.query("SELECT 7::int4 AS i, true AS b, '\\x01'::bytea AS x")).rows).toEqual([{ i: 7, b: true, x: Buffer.from([1]) }]);
  });

  it('offers the builtins and pg-types array parser', () => {
    expect(types.builtins.INT8).toBe(20);
    expect(types.builtins.TIMESTAMPTZ).toBe(1184);
    expect(types.arrayParser.create('{1,2,NULL}', (x: string) => Number(x)).parse()).toEqual([1, 2, null]);
    expect(types.getTypeParser(999999)('raw')).toBe('raw');
  });

  it('takes a TypeOverrides for a client', async () => {
    const overrides = new pg.TypeOverrides();
    overrides.setTypeParser(25, (text: string) => text.toUpperCase());
    const own = new Client({ connectionString: testDsn(), types: overrides });
    await own.connect();
    try {
      expect((await own.query("SELECT 'abc'::text AS t, 1::int4 AS i")).rows).toEqual([{ t: 'ABC', i: 1 }]);
    } finally {
      await own.end();
    }
  });
});
