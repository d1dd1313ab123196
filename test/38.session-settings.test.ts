// Session settings change the text the server sends for dates, times, intervals, floats and
// bytea: DateStyle, TimeZone, IntervalStyle, extra_float_digits, bytea_output. None of them
// may change the JS values a query gives. Each test reads the same values under one setting
// (set by SET, by the connection string, by a role or database default, by RESET ALL or
// DISCARD ALL, ...) and compares them with what a connection with the defaults read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, types, type Connection } from '../lib';
import { mayChangeKeptSettings } from '../lib/session-settings';
import { connectTest, testDsnWith, uniqueName, sharedConnection, makeTable } from './helpers';

// Every value in a form the server reads the same under every DateStyle (ISO input) and
// TimeZone (explicit offsets). 2024-02-05 tells DMY from MDY; 2024-11-03 05:30 and 06:30 UTC
// are both 01:30 in New York (EDT, then EST); Lord Howe moves by half an hour.
const DATETIME_COLUMNS = [
  "'2024-02-05'::date",
  "'2024-02-29'::date",
  "'0044-03-15 BC'::date",
  "'12345-06-07'::date",
  "'infinity'::date",
  "'-infinity'::date",
  "'2024-02-05 13:04:05.123456'::timestamp",
  "'0044-03-15 12:00:00 BC'::timestamp",
  "'12345-06-07 08:09:10.5'::timestamp",
  "'-infinity'::timestamp",
  "'2024-02-05 13:04:05.123456+00'::timestamptz",
  "'2024-07-01 12:00:00.5+00'::timestamptz",
  "'2024-11-03 05:30:00+00'::timestamptz",
  "'2024-11-03 06:30:00+00'::timestamptz",
  "'2024-04-06 14:45:00+00'::timestamptz",
  "'2024-04-06 15:15:00+00'::timestamptz",
  "'2024-10-26 23:30:00+00'::timestamptz",
  "'2024-10-27 00:30:00+00'::timestamptz",
  "'2024-10-27 01:30:00+00'::timestamptz",
  "'0044-03-15 12:00:00+00 BC'::timestamptz",
  "'12345-06-07 08:09:10+00'::timestamptz",
  "'1800-01-01 00:00:00+00'::timestamptz",
  "'1942-09-01 12:00:00+00'::timestamptz",
  "'infinity'::timestamptz",
  "'-infinity'::timestamptz",
  "'13:04:05.123456'::time",
  "'13:04:05.5+05:30'::timetz",
  "'00:00:00-03:30'::timetz",
];

const OTHER_COLUMNS = [
  "interval '-1 year 2 mons -3 days +04:05:06.5'",
  "interval '0'",
  "interval '-00:00:00.5'",
  "interval '1 day -00:00:01'",
  "interval '-1 day -02:00:00'",
  "interval '1 mon 2 days 03:04:05.000006'",
  "interval '-3 years -4 mons'",
  '0.1::float8 + 0.2::float8',
  "'1.7976931348623157e308'::float8",
  "'5e-324'::float8",
  "'-0.000123456789012345678'::float8",
  "'NaN'::float8",
  "'-Infinity'::float8",
  '0.1::float4 + 0.2::float4',
  "'3.4028235e38'::float4",
  "'1.4e-45'::float4",
  "'\\x00015c27225c7f80ff41'::bytea",
  "'\\x'::bytea",
];

const COMPOUND_COLUMNS = [
  "array['2024-02-05'::date, '0044-03-15 BC', 'infinity', null]",
  "array['2024-02-05 13:04:05.123456'::timestamp, '0044-03-15 12:00:00 BC', '-infinity']",
  "array['2024-02-05 13:04:05.123456+00'::timestamptz, '2024-11-03 05:30:00+00', '2024-11-03 06:30:00+00', '0044-03-15 12:00:00+00 BC', '12345-06-07 08:09:10+00', 'infinity']",
  "array[array['2024-02-05 00:00:00+00'::timestamptz], array['2024-07-01 00:00:00+00'::timestamptz]]",
  "array['13:04:05.5'::time]",
  "array['13:04:05.5-03:30'::timetz]",
  "array[interval '-1 year 2 mons -3 days +04:05:06.5', interval '0', interval '-00:00:00.5']",
  'array[0.1::float8 + 0.2::float8, 5e-324]',
  'array[0.1::float4 + 0.2::float4]',
  "array['\\x00015c27225c7f80ff41'::bytea, '\\x2c7b7d225c'::bytea, '\\x'::bytea]",
  "daterange('2024-02-05', '12345-06-07')",
  "tsrange('0044-03-15 12:00:00 BC', '2024-02-05 13:04:05.5')",
  "tstzrange('2024-11-03 05:30:00+00', '2024-11-03 06:30:00+00', '[]')",
  "tstzrange(null, 'infinity')",
  "tstzmultirange(tstzrange('2024-02-05 00:00+00', '2024-02-06 00:00+00'), tstzrange('2024-07-01 00:00+00', null))",
  "array[tstzrange('2024-02-05 00:00+00', '2024-02-06 00:00+00')]",
  'point(0.1::float8 + 0.2::float8, 1e-320)',
];

const select = (columns: string[], rows = 1) =>
  Array.from({ length: rows }, (_, row) => `select ${row} as n, ${columns.map((c, i) => `${c} as c${i}`).join(', ')}`).join(' union all ') +
  ' order by n';

/** Only types decoded in C++: their rows may leave C++ already as objects. */
const NATIVE_SQL = select([...DATETIME_COLUMNS.filter((c) => !/::time/.test(c)), ...OTHER_COLUMNS.filter((c) => !c.startsWith('interval'))]);
const NATIVE_SQL_ROWS = select([...DATETIME_COLUMNS.filter((c) => !/::time/.test(c)), ...OTHER_COLUMNS.filter((c) => !c.startsWith('interval'))], 3);
const ALL_SQL = select([...DATETIME_COLUMNS, ...OTHER_COLUMNS, ...COMPOUND_COLUMNS]);
const DATETIME_SQL = select([...DATETIME_COLUMNS, ...COMPOUND_COLUMNS.slice(0, 4)]);

/** What a query gives, every way of reading it: tuples (JS typecasters), objects (C++), one row and several. */
async function readAll(conn: Connection): Promise<unknown> {
  return {
    all: (await conn.query(ALL_SQL, [], { rowFactory: 'tuple' })).rows,
    native: (await conn.query(NATIVE_SQL)).rows,
    nativeRows: (await conn.query(NATIVE_SQL_ROWS)).rows,
    nativeTuples: (await conn.query(NATIVE_SQL_ROWS, [], { rowFactory: 'tuple' })).rows,
  };
}

let expected: Awaited<ReturnType<typeof readAll>>;
let expectedDatetimes: unknown[][];

beforeAll(async () => {
  const conn = await connectTest({ autocommit: true });
  try {
    // the defaults: what every other setting must give back
    await conn.query("set datestyle = 'ISO, MDY'; set timezone = 'UTC'; set intervalstyle = 'postgres'; set extra_float_digits = 1; set bytea_output = 'hex'");
    expected = await readAll(conn);
    expectedDatetimes = (await conn.query<unknown[]>(DATETIME_SQL, [], { rowFactory: 'tuple' })).rows;
  } finally {
    await conn.close();
  }
  // the reference is itself decoded: Dates, numbers, Buffers, not strings
  const row = (expected as { all: unknown[][] }).all[0];
  expect(row[1]).toBe('2024-02-05');
  expect(row[11]).toEqual(new Date(Date.UTC(2024, 1, 5, 13, 4, 5, 123)));
  expect(row[29]).toBeInstanceOf(types.Interval);
  expect(row[36]).toBe(0.30000000000000004);
  expect(row[42]).toBe(0.3); // float4: its shortest decimal form, read as a double
  expect(row[45]).toEqual(Buffer.from('00015c27225c7f80ff41', 'hex'));
});

async function readWith(setup: string, conninfo?: Record<string, string>): Promise<unknown> {
  const conn = conninfo === undefined ? await connectTest({ autocommit: true }) : await connect(testDsnWith(conninfo), { autocommit: true });
  try {
    if (setup !== '') await conn.query(setup);
    return await readAll(conn);
  } finally {
    await conn.close();
  }
}

const DATE_STYLES = ['ISO, DMY', 'SQL, DMY', 'SQL, MDY', 'German, DMY', 'German, MDY', 'Postgres, DMY', 'Postgres, MDY', 'SQL, YMD'];
const TIME_ZONES = ['UTC', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Europe/Berlin', 'Europe/Dublin', 'UTC+3', '<-03>+03'];

describe('DateStyle and TimeZone', () => {
  for (const dateStyle of DATE_STYLES) {
    it.each(TIME_ZONES)(`DateStyle ${dateStyle}, TimeZone %s`, async (zone) => {
      expect(await readWith(`set datestyle = '${dateStyle}'; set timezone = '${zone}'`)).toEqual(expected);
    });
  }
});

describe('IntervalStyle', () => {
  it.each(['postgres', 'postgres_verbose', 'sql_standard', 'iso_8601'])('%s', async (style) => {
    expect(await readWith(`set intervalstyle = '${style}'`)).toEqual(expected);
  });
});

describe('extra_float_digits', () => {
  it.each([3, 2, 1, 0, -4, -15])('%s', async (digits) => {
    expect(await readWith(`set extra_float_digits = ${digits}`)).toEqual(expected);
  });
});

describe('bytea_output', () => {
  it.each(['hex', 'escape'])('%s', async (output) => {
    expect(await readWith(`set bytea_output = '${output}'`)).toEqual(expected);
  });
});

const EVERYTHING = {
  options:
    '-c DateStyle=SQL,DMY -c TimeZone=America/New_York -c IntervalStyle=sql_standard -c extra_float_digits=-15 -c bytea_output=escape',
};

describe('all of them at once', () => {
  it('set by SET', async () => {
    const setup =
      "set datestyle = 'Postgres, DMY'; set timezone = 'Asia/Kolkata'; set intervalstyle = 'iso_8601'; set extra_float_digits = 0; set bytea_output = 'escape'";
    expect(await readWith(setup)).toEqual(expected);
  });

  it('as the session defaults the connection string sets', async () => {
    expect(await readWith('', EVERYTHING)).toEqual(expected);
  });

  it.each(['RESET ALL', 'DISCARD ALL', 'RESET extra_float_digits', 'SET SESSION AUTHORIZATION DEFAULT'])(
    'after %s brings those defaults back',
    async (statement) => {
      expect(await readWith(statement, EVERYTHING)).toEqual(expected);
    },
  );
});

describe('defaults of a role or a database', () => {
  const role = uniqueName('settings_role');
  const database = uniqueName('settings_db');
  const admin = sharedConnection({ autocommit: true });
  const defaults = [
    "datestyle = 'German'",
    "timezone = 'Australia/Lord_Howe'",
    "intervalstyle = 'postgres_verbose'",
    'extra_float_digits = -15',
    "bytea_output = 'escape'",
  ];

  beforeAll(async () => {
    await admin().query(`create role ${role} login superuser`);
    for (const setting of defaults) await admin().query(`alter role ${role} set ${setting}`);
    await admin().query(`create database ${database}`);
    for (const setting of defaults) await admin().query(`alter database ${database} set ${setting}`);
  });

  afterAll(async () => {
    await admin().query(`drop database if exists ${database}`);
    await admin().query(`drop role if exists ${role}`);
  });

  it('of the role connected as', async () => {
    expect(await readWith('', { user: role })).toEqual(expected);
  });

  it('of the role connected as, after RESET ALL and DISCARD ALL', async () => {
    expect(await readWith('RESET ALL', { user: role })).toEqual(expected);
    expect(await readWith('DISCARD ALL', { user: role })).toEqual(expected);
  });

  it('of the database connected to, and after DISCARD ALL', async () => {
    expect(await readWith('', { dbname: database })).toEqual(expected);
    expect(await readWith('DISCARD ALL', { dbname: database })).toEqual(expected);
  });

  it('after SET SESSION AUTHORIZATION to the role, and back', async () => {
    expect(await readWith(`SET SESSION AUTHORIZATION ${role}; RESET ALL`)).toEqual(expected);
    expect(await readWith(`SET SESSION AUTHORIZATION ${role}; RESET SESSION AUTHORIZATION; RESET ALL`)).toEqual(expected);
  });
});

describe('settings changed in ways a driver does not see coming', () => {
  const conn = sharedConnection({ autocommit: true });

  it('by a function with SET clauses, and by one that calls set_config()', async () => {
    const local = uniqueName('f_local');
    const lasting = uniqueName('f_lasting');
    await conn().query(
      `create function ${local}() returns timestamptz language sql set datestyle = 'SQL, DMY' set timezone = 'Asia/Kolkata' set extra_float_digits = -15 as $$ select '2024-02-05 13:04:05.123456+00'::timestamptz $$`,
    );
    await conn().query(
      `create function ${lasting}() returns void language sql as $$ select set_config('datestyle', 'Postgres, DMY', false), set_config('timezone', 'America/New_York', false), set_config('intervalstyle', 'sql_standard', false), set_config('bytea_output', 'escape', false) $$`,
    );
    try {
      expect((await conn().query<{ t: unknown }>(`select ${local}() as t`)).rows[0].t).toEqual(new Date(Date.UTC(2024, 1, 5, 13, 4, 5, 123)));
      await conn().query(`select ${lasting}()`);
      expect(conn().info.parameterStatus('DateStyle')).toBe('Postgres, DMY');
      expect(await readAll(conn())).toEqual(expected);
    } finally {
      await conn().query(`drop function ${local}(); drop function ${lasting}(); reset all`);
    }
  });

  it('earlier in the same simple-protocol query', async () => {
    const setup = "set datestyle = 'SQL, DMY'; set timezone = 'America/New_York'";
    const results = await conn().query(`${setup}; ${DATETIME_SQL}`, undefined, { rowFactory: 'tuple' });
    expect(results.rows).toEqual(expectedDatetimes);
    await conn().query('reset all');
  });

  it('by statements sent together with the query, without waiting for them', async () => {
    const [, , , , result] = await Promise.all([
      conn().query("set datestyle = 'German'"),
      conn().query("set timezone = 'Australia/Lord_Howe'"),
      conn().query('set extra_float_digits = -15'),
      conn().query("set bytea_output = 'escape'"),
      conn().query(ALL_SQL, [], { rowFactory: 'tuple' }),
    ]);
    expect(result.rows).toEqual((expected as { all: unknown[][] }).all);
    await conn().query('reset all');
  });

  it('inside an explicit pipeline', async () => {
    const rows = await conn().pipeline(async (p) => {
      void p.query("set datestyle = 'SQL, MDY'");
      void p.query('set extra_float_digits = 0');
      return (await p.query(ALL_SQL, [], { rowFactory: 'tuple' })).rows;
    });
    expect(rows).toEqual((expected as { all: unknown[][] }).all);
    await conn().query('reset all');
  });

  it.each(["set client_encoding = 'LATIN1'", "SET NAMES 'WIN1252'", "reset all; set session client_encoding to 'LATIN1'"])(
    'client_encoding changed by %s: text goes in and comes out as it is',
    async (setting) => {
      const c = await connectTest({ autocommit: true });
      try {
        const table = await makeTable(c, 's text', { prefix: 'encoding', temp: true });
        // sent together: the setting does not get between them either
        const [, inserted, echoed] = await Promise.all([
          c.query(setting),
          c.query(`insert into ${table} values ($1) returning s, length(s) as n`, ['ñé']),
          c.query("select $1::text as s, 'ñé' = $1 as same", ['ñé']),
        ]);
        expect(inserted.rows).toEqual([{ s: 'ñé', n: 2 }]);
        expect(echoed.rows).toEqual([{ s: 'ñé', same: true }]);
        expect((await c.query(`select s, length(s) as n from ${table}`)).rows).toEqual([{ s: 'ñé', n: 2 }]);
        expect(c.info.parameterStatus('client_encoding')).toBe('UTF8');
      } finally {
        await c.close();
      }
    },
  );

  it('inside a transaction that goes on', async () => {
    const tx = await connectTest();
    try {
      await tx.query("set local datestyle = 'SQL, DMY'");
      await tx.query('set local extra_float_digits = -15');
      expect(await readAll(tx)).toEqual(expected);
      await tx.rollback();
      expect(await readAll(tx)).toEqual(expected);
    } finally {
      await tx.close();
    }
  });
});

describe('the statements after which the connection sets extra_float_digits and client_encoding again', () => {
  it.each([
    'SET extra_float_digits = 0',
    '  set local EXTRA_FLOAT_DIGITS to -15',
    'RESET extra_float_digits',
    'reset all',
    'DISCARD ALL',
    "set client_encoding = 'LATIN1'",
    "SET NAMES 'WIN1252'",
    "do $$ begin perform set_config('extra_float_digits', '0', false); end $$",
    '-- a comment first\nSET extra_float_digits = 0',
    '/* a comment */ reset all',
  ])('%s', (text) => {
    expect(mayChangeKeptSettings(text, false)).toBe(true);
  });

  it('any statement of several that does', () => {
    expect(mayChangeKeptSettings('select 1; set extra_float_digits = 0; select 2', true)).toBe(true);
    expect(mayChangeKeptSettings('begin; discard all', true)).toBe(true);
    expect(mayChangeKeptSettings('select 1; select 2', true)).toBe(false);
  });

  it.each([
    'select 1',
    "SET search_path = 'names_of_things'",
    'SET SESSION AUTHORIZATION DEFAULT',
    'RESET search_path',
    'DISCARD PLANS',
    "settle extra_float_digits",
    'do_something()',
    "update t set extra_float_digits = 0",
  ])('not %s', (text) => {
    expect(mayChangeKeptSettings(text, false)).toBe(false);
  });
});

describe('every way of reading rows', () => {
  it('streams, cursors and COPY read the same values', async () => {
    const conn = await connect(testDsnWith(EVERYTHING), { autocommit: true });
    try {
      await conn.query('discard all');
      const streamed: unknown[] = [];
      for await (const row of conn.stream(ALL_SQL, undefined, { rowFactory: 'tuple' })) streamed.push(row);
      expect(streamed).toEqual((expected as { all: unknown[][] }).all);
      const cursor = await conn.execute(ALL_SQL);
      expect(await cursor.fetchall()).toEqual((expected as { all: unknown[][] }).all);
      const named = conn.cursor({ name: uniqueName('c') });
      await conn.transaction(async () => {
        await named.execute(ALL_SQL);
        expect(await named.fetchall()).toEqual((expected as { all: unknown[][] }).all);
      });
      const table = uniqueName('copied');
      await conn.query(`create temp table ${table} as ${NATIVE_SQL}`);
      const copy = await conn.copy(`copy ${table} to stdout`);
      const fields = (await conn.query(`select * from ${table} where false`)).fields;
      copy.setTypes(fields.map((field) => field.typeOid));
      const copied: unknown[][] = [];
      for await (const row of copy.rows()) copied.push(row);
      expect(copied).toEqual((expected as { nativeTuples: unknown[][] }).nativeTuples.slice(0, 1));
    } finally {
      await conn.close();
    }
  });
});
