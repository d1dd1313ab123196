// Values go back as they came: a value pqnode read from a column goes back into a
// comparison or an insert on that column without a cast, and nothing is stored differently
// from what the caller passed. One describe per way this used to go wrong.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { errors, Json, sql, types } from '../lib';
import { rejectionOf, uniqueName, withConnection, sharedConnection, makeTable } from './helpers';

const conn = sharedConnection({ autocommit: true });
let schema: string;

beforeAll(async () => {
  schema = uniqueName('back');
  await conn().query(`create schema ${schema}`);
  await conn().query(`set search_path = ${schema}, public`);
});

afterAll(async () => {
  await conn().query(`drop schema if exists ${schema} cascade`);
});

async function value<T = unknown>(text: string, params?: unknown[]): Promise<T> {
  const result = await conn().query<unknown[]>(text, params, { rowFactory: 'tuple' });
  return result.rows[0][0] as T;
}

/** A table of one column `v` of `type` holding `literal`; the value read back from it. */
async function stored<T = unknown>(type: string, literal: string): Promise<{ table: string; read: T }> {
  const table = await makeTable(conn(), `id serial primary key, v ${type}`);
  await conn().query(`insert into ${table} (v) values (${literal})`);
  return { table, read: await value<T>(`select v from ${table}`) };
}

/** Whether `v = $1` finds the row, and what inserting the value stores, as text. */
async function sentBack(table: string, read: unknown, op = '='): Promise<{ found: number; text: string }> {
  const found = Number(await value(`select count(*) from ${table} where v ${op} $1`, [read]));
  const text = await value<string>(`insert into ${table} (v) values ($1) returning v::text`, [read]);
  return { found, text };
}

describe('JSON is never stored as something else', () => {
  it('an empty JS array into a json or jsonb column is refused, not stored as the object {}', async () => {
    const table = await makeTable(conn(), 'jb jsonb, j json');
    for (const empty of [[], [[]], [[], []]]) {
      for (const column of ['jb', 'j']) {
        expect(await rejectionOf(conn().query(`insert into ${table} (${column}) values ($1)`, [empty]))).toBeInstanceOf(errors.DatabaseError);
      }
    }
    expect(await value(`select count(*)::int from ${table}`)).toBe(0);
    // as JSON, it is the empty array
    await conn().query(`insert into ${table} (jb, j) values ($1, $2)`, [new Json([]), new Json([[]])]);
    await conn().query(`insert into ${table} (jb, j) values ($1::jsonb, $2::json)`, [[], [[]]]);
    expect((await conn().query(`select jb::text, j::text from ${table}`, undefined, { rowFactory: 'tuple' })).rows).toEqual([
      ['[]', '[[]]'],
      ['[]', '[[]]'],
    ]);
  });

  it('an empty array still is the empty array of any array type', async () => {
    await conn().query(`do $$ begin create type ${schema}.mood as enum ('sad', 'ok'); end $$`);
    const table = await makeTable(conn(), 'i int[], t text[], u uuid[], m mood[], d date[]');
    await conn().query(`insert into ${table} values ($1, $2, $3, $4, $5)`, [[], [], [[]], [], []]);
    expect((await conn().query(`select i::text, t::text, u::text, m::text, d::text from ${table}`, undefined, { rowFactory: 'tuple' })).rows).toEqual([
      ['{}', '{}', '{}', '{}', '{}'],
    ]);
    expect(await value(`select count(*)::int from ${table} where 'sad'::mood = any($1)`, [[]])).toBe(0);
    expect(await value('select cardinality($1::uuid[])', [[]])).toBe(0);
  });

  it('a jsonb [] read and written back is [], at the top or inside', async () => {
    for (const literal of ["'[]'", "'[[]]'", `'{"a": []}'`, "'[1, [], {}]'"]) {
      const { table, read } = await stored('jsonb', literal);
      const back = await sentBack(table, read);
      expect(back).toEqual({ found: 1, text: await value(`select ${literal}::jsonb::text`) });
    }
  });
});

describe('a real read goes back as a real', () => {
  it('finds its row: compared as real, not as float8 (where 1.1 is another number)', async () => {
    for (const literal of ['1.1', '0.1', '-3.4028235e38', '1e-45', "'NaN'", "'-Infinity'", '-0', '16777217', '3']) {
      const { table, read } = await stored<number>('real', literal);
      const back = await sentBack(table, read);
      expect(back, literal).toEqual({ found: 1, text: await value(`select (${literal})::real::text`) });
    }
    const { table, read } = await stored<number[]>('real[]', "'{1.1,0.3,NULL}'");
    expect(await sentBack(table, read)).toEqual({ found: 1, text: '{1.1,0.3,NULL}' });
  });
});

describe('arrays go back for the column to type them', () => {
  it('= ANY($1) with an array of strings compares with uuid, date, numeric, varchar, inet and enum columns', async () => {
    await conn().query(`do $$ begin create type ${schema}.color as enum ('red', 'green'); exception when duplicate_object then null; end $$`);
    const cases: [string, string, unknown[]][] = [
      ['uuid', "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '00000000-0000-0000-0000-000000000000']],
      ['date', "'2024-02-29'", ['2024-02-29', '2024-03-01']],
      ['numeric', '1.10', ['1.1', '2']],
      ['varchar(10)', "'a b'", ['a b', 'c']],
      ['inet', "'10.0.0.1'", ['10.0.0.1', '::1']],
      ['color', "'green'", ['green', 'red']],
      ['int2', '7', [7, 8]],
      ['oid', '4000000000', [4000000000, 1]],
    ];
    for (const [type, literal, list] of cases) {
      const { table } = await stored(type, literal);
      expect(await value(`select count(*)::int from ${table} where v = any($1)`, [list]), type).toBe(1);
    }
  });

  it('arrays pqnode read from such columns go back into them', async () => {
    await types.registerEnum(conn(), `${schema}.color`);
    const cases: [string, string][] = [
      ['uuid[]', "'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}'"],
      ['date[]', "'{2024-02-29,infinity,-infinity}'"],
      ['numeric[]', "'{1.10,NaN,-0.000}'"],
      ['varchar[]', `'{"a b",c,NULL}'`],
      ['inet[]', "'{10.0.0.1/8,::1}'"],
      ['color[]', "'{green,red}'"],
      ['int2[]', "'{1,-32768}'"],
      ['oid[]', "'{4000000000,0}'"],
      ['int2[]', "'{{1,2},{3,4}}'"],
      ['timestamptz[]', "'{2024-02-29 13:04:05.123+00,infinity}'"],
      ['interval[]', "'{1 day,-00:00:01.5}'"],
      ['int8[]', "'{9223372036854775807,NULL}'"],
    ];
    for (const [type, literal] of cases) {
      const { table, read } = await stored(type, literal);
      expect(await sentBack(table, read), type).toEqual({ found: 1, text: await value(`select ${literal}::${type}::text`) });
    }
  });
});

describe('objects and Json compare with jsonb', () => {
  it('jsonb @> $1 and jsonb = $1 with a plain object or a Json', async () => {
    const { table } = await stored('jsonb', `'{"a": 1, "b": [1, 2], "c": {"d": null}}'`);
    expect(await value(`select count(*)::int from ${table} where v @> $1`, [{ a: 1 }])).toBe(1);
    expect(await value(`select count(*)::int from ${table} where v @> $1`, [new Json({ b: [2] })])).toBe(1);
    expect(await value(`select count(*)::int from ${table} where v = $1`, [{ c: { d: null }, b: [1, 2], a: 1 }])).toBe(1);
    expect(await value(`select count(*)::int from ${table} where v = $1`, [new Json({ a: 1, b: [1, 2], c: { d: null } })])).toBe(1);
    expect(await value(`select count(*)::int from ${table} where v ? $1`, ['a'])).toBe(1);
    // and into json columns alike, keeping the text as JSON.stringify wrote it
    const json = await stored('json', `'{"z": 1}'`);
    expect(await value(`insert into ${json.table} (v) values ($1) returning v::text`, [{ b: 1, a: [true] }])).toBe('{"b":1,"a":[true]}');
  });
});

describe('±infinity dates and timestamps go back', () => {
  it('finds its row and inserts the same, for date, timestamp and timestamptz', async () => {
    for (const type of ['date', 'timestamp', 'timestamptz']) {
      for (const literal of ["'infinity'", "'-infinity'"]) {
        const { table, read } = await stored(type, literal);
        expect(Math.abs(read as number)).toBe(Infinity);
        expect(await sentBack(table, read), `${type} ${literal}`).toEqual({ found: 1, text: literal.slice(1, -1) });
      }
    }
    expect(await value("select count(*)::int from (select 'infinity'::date as d) s where d > $1", [-Infinity])).toBe(1);
  });
});

describe('JSON scalars, multiranges, composites and hstore objects go back', () => {
  it('JSON numbers, booleans, objects, arrays; a string with Json', async () => {
    for (const literal of ['5', '-1.5', '0', 'true', 'false', '{"a":"b"}', '[1,"two",null]', '[]', '{}', `"a \\"str\\""`, '"5"', '"true"', '"null"', '"[1]"']) {
      for (const type of ['json', 'jsonb']) {
        const { table, read } = await stored(type, `'${literal}'`);
        // a string is the text of the value, JSON text for a json column: a JSON string goes with Json
        const param = typeof read === 'string' ? new Json(read) : read;
        const text = await value<string>(`insert into ${table} (v) values ($1) returning v::jsonb::text`, [param]);
        expect(text, `${type} ${literal}`).toBe(await value(`select '${literal}'::jsonb::text`));
        if (type === 'jsonb') expect(await value(`select count(*)::int from ${table} where v = $1`, [param]), literal).toBe(2);
      }
    }
  });

  it('a JSON string read and sent back bare is the text of a JSON value, refused when it is not one', async () => {
    const { table, read } = await stored<string>('jsonb', `'"not json"'`);
    expect(read).toBe('not json');
    expect(await rejectionOf(conn().query(`insert into ${table} (v) values ($1)`, [read]))).toBeInstanceOf(errors.DataError);
  });

  it('multiranges read go back as multiranges (an array of Range is an array of ranges)', async () => {
    for (const [type, literal] of [
      ['int4multirange', "'{[1,3),[5,7)}'"],
      ['int4multirange', "'{}'"],
      ['nummultirange', "'{[1.5,2.25], (3,)}'"],
      ['datemultirange', "'{[2024-01-01,2024-02-01), [2024-03-01,infinity)}'"],
      ['tsmultirange', `'{["2024-01-01 10:00:00.5","2024-01-02 00:00:00")}'`],
    ] as const) {
      const { table, read } = await stored<types.Multirange>(type, literal);
      expect(read).toBeInstanceOf(types.Multirange);
      expect(Array.isArray(read)).toBe(true);
      expect(await sentBack(table, read), type).toEqual({ found: 1, text: await value(`select ${literal}::${type}::text`) });
    }
    const { table, read } = await stored<types.Multirange[]>('int4multirange[]', `'{"{[1,2)}","{}"}'`);
    expect(await sentBack(table, read)).toEqual({ found: 1, text: await value(`select '{"{[1,2)}","{}"}'::int4multirange[]::text`) });
    // a map of it is a plain array again: an array of ranges
    expect(read[0].map((range) => range)).not.toBeInstanceOf(types.Multirange);
  });

  it('a registered composite read goes back as a value of its type', async () => {
    await conn().query(`create type ${schema}.card as (id int, title text, score real, tags text[], doc jsonb)`);
    await types.registerComposite(conn(), `${schema}.card`);
    const literal = `row(7, 'a "b", c', 1.1, '{x,NULL}', '[1, {"k": []}]')::card`;
    const { table, read } = await stored<Record<string, unknown>>('card', literal);
    expect(read).toEqual({ id: 7, title: 'a "b", c', score: 1.1, tags: ['x', null], doc: [1, { k: [] }] });
    expect(await sentBack(table, read)).toEqual({ found: 1, text: await value(`select (${literal})::text`) });
    // arrays of them too
    const many = await stored<unknown[]>('card[]', `array[${literal}, null]`);
    expect(await sentBack(many.table, many.read)).toEqual({ found: 1, text: await value(`select array[${literal}, null]::text`) });
    // a field the type lacks is refused, not dropped
    const changed = Object.assign(read, { extra: 1 });
    expect(await rejectionOf(conn().query(`select $1::card`, [changed]))).toBeInstanceOf(errors.ProgrammingError);
  });
});

describe('Dates in a timestamp column keep their wall-clock time in every mode', () => {
  it('with setTimestampType("local") a Date read goes back as the same timestamp', async () => {
    // a zone away from UTC, for this test (Node applies a change of TZ at once); the
    // differential test runs whole processes in other zones
    const zone = process.env.TZ;
    process.env.TZ = 'Asia/Kolkata';
    onTestFinished(() => {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    });
    expect(new Date(2024, 0, 1).getTimezoneOffset()).toBe(-330);
    await withConnection(async (c) => {
      types.setTimestampType('local', { conn: c });
      const table = await makeTable(c, 'id int, ts timestamp, tz timestamptz', { temp: true });
      await c.query(`insert into ${table} select i, '2024-01-01'::timestamp + i * interval '7 hours 13 minutes 1.001 seconds', now() from generate_series(1, 50) i`);
      const { rows } = await c.query<{ id: number; ts: Date }>(`select id, ts from ${table}`);
      for (const row of rows) {
        const found = await c.query(`select id from ${table} where ts = $1`, [row.ts]);
        expect(found.rows, `${row.id}`).toEqual([{ id: row.id }]);
      }
      // written as the wall-clock time in the local zone, with its offset: a timestamptz gets the instant
      const when = new Date(2024, 6, 1, 12, 30, 45, 678);
      const back = await c.query<{ ts: Date; tz: Date }>('select $1::timestamp as ts, $2::timestamptz as tz', [when, when]);
      expect(back.rows[0].ts.getTime()).toBe(when.getTime());
      expect(back.rows[0].tz.getTime()).toBe(when.getTime());
    });
  });
});

describe('the parameters must fill the placeholders exactly', () => {
  it('every way a statement goes out refuses a count that does not match, before sending', async () => {
    const ways: [string, () => Promise<unknown>][] = [
      ['query', () => conn().query('select $1::int', [1, 2])],
      ['query, prepared', () => conn().query('select $1::int, $2::int', [1], { prepare: true })],
      ['stream', async () => {
        for await (const row of conn().stream('select $2::int', [1])) void row;
      }],
      ['pipeline', () => conn().pipeline((p) => p.query('select $1::int', []))],
      ['sql.query with params of its own', () => conn().query(sql.query`select ${1}::int + $2`)],
      ['executemany', () => conn().cursor().executemany('select $1::int + $2', [[1]])],
    ];
    for (const [name, run] of ways) {
      const error = await rejectionOf(run());
      expect(error, name).toBeInstanceOf(errors.ProgrammingError);
      expect(error.message, name).toMatch(/parameters? (was|were) passed/);
    }
    expect(await value('select 1')).toBe(1);
  });

  it('no values for a statement whose $n belong to a body it defines', async () => {
    await conn().query(`create function ${schema}.plus_one(int) returns int language sql return $1 + 1`, []);
    await conn().query(`prepare ${schema}_p(int) as select $1 * 2`, []);
    expect(await value(`select ${schema}.plus_one(41)`)).toBe(42);
    expect(await value(`execute ${schema}_p(21)`)).toBe(42);
    await conn().query(`deallocate ${schema}_p`);
  });
});
