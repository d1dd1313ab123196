// pqnode/pg against node-postgres itself (the `pg` package, a dev dependency): the same
// statements on the same server, rows compared value by value. Columns pqnode/pg decodes in
// C++ (numbers, booleans, bytea, timestamptz, and the text of types node-postgres leaves as
// text) must come out as node-postgres's parsers make them, edge values included, in every
// row shape, whatever the session's TimeZone and DateStyle, and any parser set must win.
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import pqpg from '../lib/pg';
import { testDsn } from './helpers';

const require = createRequire(__filename);

interface AnyClient {
  connect(): Promise<unknown>;
  end(): Promise<unknown>;
  query(config: unknown, values?: unknown[]): Promise<{ rows: unknown[]; fields: { name: string; dataTypeID: number }[] }>;
  setTypeParser(oid: number, parse: (text: string) => unknown): void;
}
interface PgModule {
  Client: new (config: unknown) => AnyClient;
  defaults: { parseInt8: boolean };
  types: { setTypeParser(oid: number, parse: (text: string) => unknown): void; getTypeParser(oid: number): (text: string) => unknown };
}

const theirPg = require('pg') as PgModule;
const ourPg = pqpg as unknown as PgModule;

let ours: AnyClient;
let theirs: AnyClient;

beforeAll(async () => {
  ours = new ourPg.Client(testDsn());
  theirs = new theirPg.Client(testDsn());
  await Promise.all([ours.connect(), theirs.connect()]);
});

afterAll(async () => {
  await Promise.all([ours.end(), theirs.end()]);
});

/** A value as something toEqual compares exactly: Dates by their time (NaN for an Invalid Date), -0 apart from 0. */
function comparable(value: unknown): unknown {
  if (value instanceof Date) return { date: String(value.getTime()) };
  if (Buffer.isBuffer(value)) return { bytes: value.toString('hex') };
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : Number.isNaN(value) ? 'NaN' : value;
  if (Array.isArray(value)) return value.map(comparable);
  if (value !== null && typeof value === 'object') return Object.entries(value).map(([key, item]) => [key, comparable(item)]);
  return value;
}

/** Run on both; their rows (key order included) must be the same. Returns ours. */
async function same(config: string | Record<string, unknown>, values?: unknown[]): Promise<unknown[]> {
  const [mine, reference] = await Promise.all([ours.query(config, values), theirs.query(config, values)]);
  expect(comparable(mine.rows)).toEqual(comparable(reference.rows));
  expect(mine.fields.map((field) => [field.name, field.dataTypeID])).toEqual(reference.fields.map((field) => [field.name, field.dataTypeID]));
  return mine.rows;
}

/** Run on both sessions. */
async function both(sql: string): Promise<void> {
  await Promise.all([ours.query(sql), theirs.query(sql)]);
}

/** One column of these literals, cast to `type`, one row each (NULL included), and all in one row. */
async function sameValues(type: string, literals: readonly string[]): Promise<void> {
  const list = [...literals.map((literal) => `'${literal}'`), 'NULL'];
  const rows = list.map((literal) => `SELECT ${literal}::${type} AS v`).join(' UNION ALL ');
  await same(rows);
  await same({ text: rows, rowMode: 'array' });
  await same(`SELECT ${list.map((literal, i) => `${literal}::${type} AS c${i}`).join(', ')}`);
}

const TIMESTAMPTZ = [
  'infinity',
  '-infinity',
  '2020-02-03 04:05:06.789123+00',
  '2020-02-03 04:05:06.1+00',
  '2020-02-03 04:05:06.999999+00',
  '2020-02-03 04:05:06.000001+00',
  '1970-01-01 00:00:00+00',
  '1969-12-31 23:59:59.5+00',
  '1899-12-31 23:59:59+00',
  '1900-02-28 12:00:00+00',
  '0100-01-01 00:00:00+00',
  '0099-12-31 23:59:59.999+00',
  '0050-06-15 10:20:30+00',
  '0004-02-29 12:00:00+00',
  '0001-01-01 00:00:00+00',
  '0001-01-01 00:00:00+00 BC',
  '0001-02-29 06:00:00+00 BC',
  '0001-12-31 23:59:59+00 BC',
  '0044-03-15 12:00:00+00 BC',
  '4713-01-01 00:00:00+00 BC',
  '275760-09-13 00:00:00+00',
  '275760-09-13 00:00:00.001+00',
  '275760-09-12 23:30:00+00',
  '294276-12-31 23:59:59.999999+00',
  '2024-03-31 02:30:00+00',
  '2024-10-27 01:30:00+00',
];

describe('pqnode/pg reads values as node-postgres does', () => {
  it('reads timestamptz alike in zones with odd offsets, old local mean times and daylight saving', async () => {
    for (const zone of ['UTC', 'Asia/Kathmandu', 'America/St_Johns', 'Europe/Amsterdam', 'Europe/Paris', 'Pacific/Kiritimati', 'America/Los_Angeles']) {
      await both(`SET TimeZone = '${zone}'`);
      await sameValues('timestamptz', TIMESTAMPTZ);
    }
    await both('RESET TimeZone');
  });

  it('reads timestamptz alike in the other DateStyles, mixed with other columns', async () => {
    for (const style of ['SQL, DMY', 'SQL, MDY', 'German', 'Postgres, MDY', 'ISO, DMY']) {
      await both(`SET DateStyle = '${style}'`);
      await sameValues('timestamptz', TIMESTAMPTZ.slice(0, 12));
      await same("SELECT 1::int4 AS i, '2020-02-03 04:05:06+00'::timestamptz AS t, 'x'::text AS s, 'infinity'::timestamptz AS inf");
      await same("SELECT '2020-02-03 04:05:06+00'::timestamptz AS t, 'x' AS t");
    }
    await both('RESET DateStyle');
  });

  it('reads the integers, oid and int8 alike, int8 as numbers with parseInt8', async () => {
    await sameValues('int2', ['0', '-32768', '32767']);
    await sameValues('int4', ['0', '-2147483648', '2147483647']);
    await sameValues('oid', ['0', '4294967295']);
    const int8 = ['0', '-1', '9007199254740993', '9223372036854775807', '-9223372036854775808', '123456789012345678'];
    await sameValues('int8', int8);
    ourPg.defaults.parseInt8 = true;
    theirPg.defaults.parseInt8 = true;
    try {
      await sameValues('int8', int8);
    } finally {
      ourPg.defaults.parseInt8 = false;
      theirPg.defaults.parseInt8 = false;
    }
    await sameValues('int8', int8);
  });

  it('reads floats, booleans and bytea alike', async () => {
    await sameValues('float8', ['0', '-0', '0.1', '1e-310', '4.9e-324', '1.7976931348623157e308', 'NaN', 'Infinity', '-Infinity', '123456789.123456789']);
    await sameValues('float4', ['0', '-0', '1.1', '3.4028235e38', '1e-45', 'NaN', '-Infinity']);
    await sameValues('bool', ['t', 'f']);
    await sameValues('bytea', ['', '\\x00ff10', 'plain text', '\\\\']);
    await both("SET bytea_output = 'escape'");
    await sameValues('bytea', ['', '\\x00ff10', 'plain text', '\\\\']);
    await both('RESET bytea_output');
  });

  it('leaves the text of text-like types alike', async () => {
    const texts = ['', 'plain', 'ünïcødé ✓ 😀', 'with "quotes", commas {and} \\ backslashes'];
    for (const type of ['text', 'varchar', 'varchar(40)', 'char(5)', 'name', 'xml']) await sameValues(type, texts.slice(0, type === 'char(5)' ? 2 : 4));
    await sameValues('"char"', ['a', '']);
    await sameValues('numeric', ['0', '-1.50', 'NaN', '123456789012345678901234567890.123456789', 'Infinity']);
    await sameValues('uuid', ['6ba7b810-9dad-11d1-80b4-00c04fd430c8']);
    await sameValues('time', ['04:05:06.789', '24:00:00']);
    await sameValues('timetz', ['04:05:06+05:30']);
    await sameValues('inet', ['192.168.0.1/24', '::1']);
    await sameValues('cidr', ['10.0.0.0/8']);
    await sameValues('macaddr', ['08:00:2b:01:02:03']);
    await sameValues('money', ['1234.5', '-1']);
    await sameValues('jsonpath', ['$.a[*] ? (@ > 1)']);
    await sameValues('bit(3)', ['101']);
    await sameValues('varbit', ['10101']);
  });

  it('makes rows alike: duplicate names, many columns, no rows, array rows', async () => {
    await same("SELECT 1 AS a, 'x' AS b, 2 AS a, true AS b");
    await same({ text: "SELECT 1 AS a, 'x' AS b, 2 AS a", rowMode: 'array' });
    await same('SELECT 1::int4 AS a WHERE false');
    await same(`SELECT ${Array.from({ length: 60 }, (_, i) => `${i}::int4 AS c${i}, '${i}'::text AS t${i}`).join(', ')}`);
    await same(
      "SELECT i::int4 AS id, i::int8 * 1000003 AS big, 'row ' || i AS name, i / 7.0::float8 AS ratio, i % 2 = 0 AS flag, timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second' AS at, (i * 1.25)::numeric(14, 2) AS amount, null::text AS nothing, '{\"a\":1}'::jsonb AS j, '2024-01-01'::date + i AS d FROM generate_series(1, 300) AS i",
    );
    await same('SELECT $1::text AS a, $2::int4 AS b, $3::timestamptz AS c', ['x', 5, new Date(Date.UTC(2020, 0, 1))]);
  });

  it('honours parsers set process-wide, per client and per query for natively decoded types', async () => {
    const ownParsers = new Map<number, (text: string) => unknown>([
      [1184, (text) => `tz:${text}`],
      [25, (text) => `text:${text}`],
      [23, (text) => `int:${text}`],
      [20, (text) => BigInt(text)],
    ]);
    const sql = "SELECT '2020-02-03 04:05:06+00'::timestamptz AS t, 'x'::text AS s, 7::int4 AS i, 8::int8 AS b, true AS f";
    const perQuery = { getTypeParser: (oid: number) => ownParsers.get(oid) ?? theirPg.types.getTypeParser(oid) };
    const [mine] = await Promise.all([ours.query({ text: sql, types: { getTypeParser: (oid: number) => ownParsers.get(oid) ?? ourPg.types.getTypeParser(oid) } }), theirs.query({ text: sql, types: perQuery })]);
    expect(mine.rows).toEqual([{ t: 'tz:2020-02-03 04:05:06+00', s: 'text:x', i: 'int:7', b: 8n, f: true }]);

    const originals = [...ownParsers.keys()].map((oid) => ({ oid, mine: ourPg.types.getTypeParser(oid), theirs: theirPg.types.getTypeParser(oid) }));
    for (const [oid, parse] of ownParsers) {
      ourPg.types.setTypeParser(oid, parse);
      theirPg.types.setTypeParser(oid, parse);
    }
    try {
      expect((await same(sql))[0]).toEqual({ t: 'tz:2020-02-03 04:05:06+00', s: 'text:x', i: 'int:7', b: 8n, f: true });
      ours.setTypeParser(1184, (text) => `client:${text}`);
      theirs.setTypeParser(1184, (text) => `client:${text}`);
      expect((await same(sql))[0]).toMatchObject({ t: 'client:2020-02-03 04:05:06+00' });
    } finally {
      for (const { oid, mine: parse } of originals) ourPg.types.setTypeParser(oid, parse);
      for (const { oid, theirs: parse } of originals) theirPg.types.setTypeParser(oid, parse);
    }
    // a client parser stays the client's; the defaults are back for the rest
    const fresh = await same(sql.replace('7::int4', '9::int4'));
    expect(fresh[0]).toMatchObject({ i: 9, s: 'x', b: '8' });
  });
});
