// The differential round trip, run in a process of its own so that its time zone (TZ) is the
// process's from the start. For every type family of a corpus: each value is stored by the
// server from an SQL literal, read through pqnode, compared with the server's own text of
// it, then sent back as a parameter WITHOUT a cast, to find its row (`v = $1`) and to be
// inserted (`insert ... values ($1)`), where the server's text of what was stored must be
// the text of the original. The same for arrays of the type (with a NULL, and in two
// dimensions), under several session TimeZones and both timestamp choices ('utc', 'local').
//
// Prints one JSON report on stdout: { timeZone, checked, failures, skipped }.
import { isDeepStrictEqual } from 'node:util';
import { connect, Json, types, type Connection } from '../../lib';
import { localWallClock } from '../../lib/types/date-format';

interface Family {
  /** the column's type */
  type: string;
  /** SQL literals of the values, cast to the type when stored */
  values: string[];
  /** the operator that finds a row by its value; null when the type has none */
  op?: string | null;
  /** the server's canonical text of `v` (default v::text) */
  text?: string;
  /** the same for an array of the type */
  arrayText?: string;
  /** SQL of a scalar to compare the JS value with (default: the text) */
  expected?: string;
  /** the operator for arrays of the type (default: op); null when there is none */
  arrayOp?: string | null;
  /** whether the value read agrees with `expected`; undefined: no comparison that makes sense */
  agrees?: (value: unknown, expected: string | null) => boolean | undefined;
  /** how the value goes back (default: as it was read) */
  send?: (value: unknown) => unknown;
  /** no array column of the type */
  noArrays?: boolean;
  /** the family depends on the session TimeZone and the timestamp choice: run under each */
  timestamps?: boolean;
}

function float(text: string): number {
  if (text === 'NaN') return NaN;
  if (text === 'Infinity') return Infinity;
  if (text === '-Infinity') return -Infinity;
  return Number(text);
}

const sameNumber = (value: unknown, text: string | null) => text !== null && Object.is(value, float(text));
const sameText = (value: unknown, text: string | null) => value === text;
const sameBigint = (value: unknown, text: string | null) => text !== null && value === BigInt(text);
const sameJson = (value: unknown, text: string | null) => text !== null && isDeepStrictEqual(value, JSON.parse(text));
const sameBytes = (value: unknown, text: string | null) => Buffer.isBuffer(value) && `\\x${value.toString('hex')}` === text;
const sameBool = (value: unknown, text: string | null) => value === (text === 'true');
const sameDate = (value: unknown, text: string | null) =>
  text === 'infinity' ? value === Infinity : text === '-infinity' ? value === -Infinity : value === text;
const sameInterval = (value: unknown, text: string | null) => value instanceof types.Interval && value.toString() === text;
const sameRange = (value: unknown, text: string | null) => text !== null && String(value).toLowerCase() === text.toLowerCase();
const sameMultirange = (value: unknown, text: string | null) =>
  value instanceof types.Multirange && text !== null && `{${value.map(String).join(',')}}`.toLowerCase() === text.toLowerCase();

/** A tiny deterministic generator: the same corpus in every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function randomTimestamps(count: number): string[] {
  const next = random(20240229);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    // 1900 to 2100, to the millisecond
    const ms = Math.floor(-2208988800000 + next() * 6311433600000);
    out.push(`'${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')}'`);
  }
  return out;
}

const JSON_VALUES = [
  `'{"a": 1, "b": [1, 2, {"c": null}], "d": "é \\" \\\\ 😀"}'`,
  `'{"b": 1, "a": 2}'`,
  "'[]'",
  "'{}'",
  "'[[]]'",
  `'[1, "a", null, [], {}, [[2]]]'`,
  "'5'",
  "'-1.5e-7'",
  "'0'",
  "'true'",
  "'false'",
  `'"str"'`,
  `'"5"'`,
  `'""'`,
  `'"[1]"'`,
];

/** A JSON string goes back wrapped: a JS string is the text of the value (see the README). */
const jsonSend = (value: unknown) => (typeof value === 'string' ? new Json(value) : value);

function families(schema: string, hstore: boolean): Family[] {
  const list: Family[] = [
    { type: 'int2', values: ['-32768', '32767', '0', '-1'], agrees: sameNumber },
    { type: 'int4', values: ['-2147483648', '2147483647', '0', '42'], agrees: sameNumber },
    { type: 'int8', values: ['-9223372036854775808', '9223372036854775807', '0', '9007199254740993'], agrees: sameBigint },
    { type: 'oid', values: ['0', '4294967295', '123'], agrees: sameNumber },
    {
      type: 'float4',
      values: ['1.1', '-0', "'NaN'", "'Infinity'", "'-Infinity'", '3.4028235e38', '1e-45', '0.1', '16777217', '3', '-2.5e-10'],
      agrees: sameNumber,
    },
    {
      type: 'float8',
      values: ['0.1', '-0', "'NaN'", "'Infinity'", "'-Infinity'", '1.7976931348623157e308', '5e-324', '1e21', '9007199254740994', '-1.5', '1'],
      agrees: sameNumber,
    },
    {
      type: 'numeric',
      values: ['0', '1.10', '-123456789012345678901234567890.123456789', "'NaN'", "'Infinity'", "'-Infinity'", '1e-20', '-0.000'],
      agrees: sameText,
    },
    { type: 'money', values: ["'12.50'", "'-0.01'", "'1000000'"], agrees: sameText },
    {
      type: 'text',
      values: ["''", "'plain'", `'quote '' double " backslash \\ tab \t newline \n'`, "'NULL'", "' a '", "'{}'", "'😀 漢字 é'", "'a,b'"],
      agrees: sameText,
    },
    { type: 'varchar(20)', values: ["''", "'a b'", "'{x}'"], agrees: sameText },
    // char pads to its length: its output has the blanks, its text (v::text) not
    { type: 'char(5)', values: ["'ab'", "''", "'abcde'"], expected: "format('%s', v)", agrees: sameText },
    { type: 'name', values: ["'a name'", "'Mixed'"], agrees: sameText },
    { type: '"char"', values: ["'x'", "'\\'"], agrees: sameText },
    { type: 'bytea', values: ["'\\x'", "'\\x00ff'", "'\\x5c27225c'"], agrees: sameBytes },
    { type: 'bool', values: ['true', 'false'], agrees: sameBool },
    {
      type: 'json',
      values: JSON_VALUES,
      op: null,
      // json keeps the text as written: compared as jsonb, element by element in arrays
      text: 'v::jsonb::text',
      arrayText: "array_dims(v) || ' ' || (select array_agg(e::jsonb order by o) from unnest(v) with ordinality as u(e, o))::text",
      agrees: sameJson,
      send: jsonSend,
    },
    { type: 'jsonb', values: JSON_VALUES, agrees: sameJson, send: jsonSend },
    { type: 'uuid', values: ["'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "'00000000-0000-0000-0000-000000000000'"], agrees: sameText },
    { type: 'date', values: ["'2024-02-29'", "'0001-01-01'", "'0044-03-15 BC'", "'5874897-12-31'", "'infinity'", "'-infinity'"], agrees: sameDate },
    {
      type: 'timestamp',
      values: [
        "'2024-02-29 13:04:05.123'",
        "'1900-01-01 00:00:00'",
        "'1800-06-01 12:00:00'",
        "'0044-03-15 12:00:00 BC'",
        "'2024-11-03 01:30:00'",
        "'2024-03-10 02:30:00'",
        "'infinity'",
        "'-infinity'",
        ...randomTimestamps(200),
      ],
      expected: "(extract(epoch from v) * 1000)::float8::text",
      timestamps: true,
    },
    {
      type: 'timestamptz',
      values: ["'2024-02-29 13:04:05.123+05:30'", "'1900-01-01 00:00:00+00'", "'0044-03-15 12:00:00+00 BC'", "'infinity'", "'-infinity'", ...randomTimestamps(20)],
      expected: "(extract(epoch from v) * 1000)::float8::text",
      agrees: (value, text) =>
        text === null ? undefined : value instanceof Date ? value.getTime() === float(text) : Object.is(value, float(text)),
      timestamps: true,
    },
    { type: 'time', values: ["'00:00:00'", "'13:04:05.123456'", "'24:00:00'"], agrees: sameText },
    { type: 'timetz', values: ["'13:04:05+05:30'", "'00:00:00-12'", "'23:59:59.999999+14'"], agrees: sameText },
    {
      type: 'interval',
      values: ["'1 year 2 mons 3 days 04:05:06.789'", "'-1 days +02:00'", "'0'", "'1 mon -1 days'", "'-178000000 years'", "'00:00:00.000001'"],
      agrees: sameInterval,
    },
    { type: 'int4range', values: ["'[1,5)'", "'empty'", "'(,3]'", "'[2,)'", "'(,)'"], agrees: sameRange },
    { type: 'int8range', values: ["'[-9223372036854775808,0)'", "'empty'"], agrees: (value, text) => sameRange(value, text) },
    { type: 'numrange', values: ["'[1.5,2.25]'", "'(,0.1)'", "'[1.10,1.10]'"], agrees: sameRange },
    { type: 'daterange', values: ["'[2024-01-01,2024-02-01)'", "'[2024-03-01,infinity)'", "'[-infinity,2024-01-01)'"] },
    { type: 'tsrange', values: [`'["2024-01-01 10:00:00.5","2024-01-02 00:00:00")'`, `'[,"2024-01-01 00:00:00")'`], timestamps: true },
    { type: 'tstzrange', values: [`'["2024-01-01 10:00:00.5+00","2024-01-02 00:00:00+05:45")'`, "'empty'"], timestamps: true },
    { type: 'int4multirange', values: ["'{[1,3),[5,7)}'", "'{}'", "'{(,0]}'"], agrees: sameMultirange },
    { type: 'nummultirange', values: ["'{[1.5,2.25], (3,)}'"], agrees: sameMultirange },
    { type: 'datemultirange', values: ["'{[2024-01-01,2024-02-01), [2024-03-01,infinity)}'"] },
    { type: 'tsmultirange', values: [`'{["2024-01-01 10:00:00.5","2024-01-02 00:00:00")}'`], timestamps: true },
    // inet's output leaves out the /32 of a host, its text (v::text) not
    { type: 'inet', values: ["'192.168.0.1'", "'10.0.0.0/8'", "'::1'", "'2001:db8::1/64'"], expected: "format('%s', v)", agrees: sameText },
    { type: 'cidr', values: ["'10.0.0.0/8'", "'2001:db8::/32'"], agrees: sameText },
    { type: 'macaddr', values: ["'08:00:2b:01:02:03'"], agrees: sameText },
    { type: 'macaddr8', values: ["'08:00:2b:01:02:03:04:05'"], agrees: sameText },
    { type: `${schema}.mood`, values: ["'sad'", "'ok'", "'happy'"], agrees: sameText },
    { type: `${schema}.card`, values: [`row(7, 'a "b", c', 1.1, '{x,NULL}', '[1, {"k": []}]', '2024-01-01 10:00:00.5', '{[1,2)}')`, 'row(null, null, null, null, null, null, null)'], timestamps: true },
    { type: 'bit(4)', values: ["'1010'", "'0000'"], agrees: sameText },
    { type: 'varbit', values: ["'101'", "''"], agrees: sameText },
    { type: 'xml', values: ["'<a>b &amp; c</a>'", "'text'"], op: null, agrees: sameText },
    { type: 'tsvector', values: ["'a:1 b:2B'", "''"], agrees: sameText },
    { type: 'pg_lsn', values: ["'16/B374D848'"], agrees: sameText },
    // the geometric types: ~= (same as) where there is one, and no equality for their arrays
    { type: 'point', values: ["'(1.5,-2)'", "'(NaN,-Infinity)'", "'(1e300,5e-324)'"], op: '~=', arrayOp: null },
    { type: 'line', values: ["'{1,-1,0}'"], arrayOp: null },
    { type: 'lseg', values: ["'[(1,2),(3,4)]'"], arrayOp: null },
    { type: 'box', values: ["'(3,4),(1,2)'", "'(0,0),(0,0)'"], op: '~=', arrayOp: null },
    { type: 'path', values: ["'[(0,0),(1,1),(2,0)]'", "'((0,0),(1,1))'"], op: null },
    { type: 'polygon', values: ["'((0,0),(1,1),(1,0))'"], op: '~=', arrayOp: null },
    { type: 'circle', values: ["'<(1,2),3.5>'"], op: '~=', arrayOp: null },
  ];
  if (hstore) {
    // its operators live in its schema
    list.push({ type: `${schema}.hstore`, values: [`'a=>1, "b c"=>NULL, "q\\"d"=>"back\\\\slash", ""=>""'`, "''"], op: `operator(${schema}.=)`, arrayOp: '=' });
  }
  return list;
}

interface Report {
  timeZone: string | undefined;
  checked: number;
  failures: string[];
  skipped: string[];
}

/**
 * Check the values of a family (or, with `arrays`, arrays of them) in one temp table.
 * Returns the indexes of the values skipped: wall-clock times that no Date holds in local
 * time, left out of the arrays too.
 */
async function checkFamily(
  conn: Connection,
  family: Family,
  where: string,
  report: Report,
  arrays: boolean,
  local = false,
  leaveOut: ReadonlySet<number> = new Set(),
): Promise<Set<number>> {
  const skipped = new Set<number>();
  const table = `rt_${report.checked}_${Math.floor(Math.random() * 1e9)}`;
  const type = arrays ? `${family.type}[]` : family.type;
  const scalarOp = family.op === undefined ? '=' : family.op;
  const op = arrays && family.arrayOp !== undefined ? family.arrayOp : scalarOp;
  const text = (arrays ? family.arrayText : family.text) ?? 'v::text';
  await conn.query(`create temp table ${table} (id int, v ${type})`);
  try {
    if (arrays) {
      const items = family.values.filter((_, i) => !leaveOut.has(i)).map((literal) => `(${literal})::${family.type}`);
      await conn.query(`insert into ${table} values (1, array[${items.join(', ')}, null]), (2, '{}')`);
      if (items.length >= 3) await conn.query(`insert into ${table} values (3, array[array[${items[0]}, ${items[1]}], array[${items[2]}, null]])`);
    } else {
      for (let i = 0; i < family.values.length; i++) await conn.query(`insert into ${table} values (${i + 1}, (${family.values[i]})::${type})`);
    }
    const expected = !arrays && family.expected !== undefined ? family.expected : text;
    const dims = arrays ? 'array_ndims(v)' : '0';
    const { rows } = await conn.query<{ id: number; v: unknown; txt: string | null; expected: string | null; dims: number | null }>(
      `select id, v, ${text} as txt, ${expected} as expected, ${dims} as dims from ${table} where v is not null order by id`,
    );
    for (const row of rows) {
      const label = `${where} ${type} #${row.id} ${row.txt}`;
      report.checked++;
      // the value read, against the server's own text of it
      let agrees: boolean | undefined;
      if (!arrays && family.type === 'timestamp') {
        // the wall-clock time, read as UTC or in local time, against the server's epoch of it
        const wallClock = row.v instanceof Date ? (local ? localWallClock(row.v) : row.v.getTime()) : row.v;
        agrees = Object.is(wallClock, float(row.expected ?? ''));
        if (!agrees && local && typeof wallClock === 'number' && Math.abs(wallClock - float(row.expected ?? '')) <= 3_600_000) {
          // a wall-clock time the local zone skips (a DST gap): no Date is that time in local time
          report.skipped.push(`${label}: not a time of the local zone`);
          skipped.add(row.id - 1);
          continue;
        }
      } else if (!arrays) {
        agrees = family.agrees?.(row.v, row.expected);
      }
      if (agrees === false) report.failures.push(`${label}: read as ${describe(row.v)}, the server says ${row.expected}`);
      const send = family.send;
      const param = send === undefined ? row.v : mapLeaves(row.v, send, row.dims ?? 0);
      // back without a cast: it finds its row...
      if (op !== null) {
        try {
          const found = await conn.query<{ id: number }>(`select id from ${table} where v ${op} $1`, [param]);
          if (!found.rows.some((r) => r.id === row.id)) report.failures.push(`${label}: v ${op} $1 does not find its row with ${describe(param)}`);
        } catch (error) {
          report.failures.push(`${label}: v ${op} $1 fails: ${(error as Error).message}`);
        }
      }
      // ...and is stored as it was
      try {
        const back = await conn.query<{ txt: string }>(`insert into ${table} (id, v) values (-1, $1) returning ${text} as txt`, [param]);
        if (back.rows[0].txt !== row.txt) report.failures.push(`${label}: inserted back as ${back.rows[0].txt}`);
      } catch (error) {
        report.failures.push(`${label}: insert fails: ${(error as Error).message}`);
      }
      await conn.query(`delete from ${table} where id = -1`);
    }
  } finally {
    await conn.query(`drop table ${table}`);
  }
  return skipped;
}

/** `fn` applied to the value, or to each element of an array of `dims` dimensions. */
function mapLeaves(value: unknown, fn: (item: unknown) => unknown, dims: number): unknown {
  return dims > 0 ? (value as unknown[]).map((item) => mapLeaves(item, fn, dims - 1)) : fn(value);
}

function describe(value: unknown): string {
  if (value instanceof Date) return `Date ${Number.isNaN(value.getTime()) ? 'invalid' : value.toISOString()}`;
  if (typeof value === 'bigint') return `${value}n`;
  if (Buffer.isBuffer(value)) return `Buffer ${value.toString('hex')}`;
  try {
    return `${value?.constructor?.name ?? typeof value} ${JSON.stringify(value)}`;
  } catch {
    return String(value);
  }
}

async function main(): Promise<void> {
  const dsn = process.env.DSN;
  if (dsn === undefined) throw new Error('DSN is not set');
  const report: Report = { timeZone: process.env.TZ, checked: 0, failures: [], skipped: [] };
  const conn = await connect(dsn, { autocommit: true });
  const schema = `rt_${process.pid}`;
  try {
    await conn.query(`create schema ${schema}`);
    // DateStyle, IntervalStyle: the server's defaults (ISO, postgres)
    await conn.query(`create type ${schema}.mood as enum ('sad', 'ok', 'happy')`);
    await conn.query(`create type ${schema}.card as (id int, title text, score real, tags text[], doc jsonb, at timestamp, r int4multirange)`);
    const hstore = (await conn.query("select 1 from pg_available_extensions where name = 'hstore'")).rows.length > 0;
    if (hstore) await conn.query(`create extension if not exists hstore with schema ${schema}`);
    await types.registerEnum(conn, `${schema}.mood`);
    await types.registerComposite(conn, `${schema}.card`);
    if (hstore) await types.registerHstore(conn, `${schema}.hstore`);
    for (const sessionZone of ['UTC', 'America/Sao_Paulo', 'Asia/Kathmandu']) {
      await conn.query(`set timezone = '${sessionZone}'`);
      for (const mode of ['utc', 'local'] as const) {
        types.setTimestampType(mode, { conn });
        for (const family of families(schema, hstore)) {
          // only the families with timestamps read differently in 'local' or in another TimeZone
          if ((mode === 'local' || sessionZone !== 'UTC') && family.timestamps !== true) continue;
          const where = `[TZ=${process.env.TZ} TimeZone=${sessionZone} ${mode}]`;
          const skipped = await checkFamily(conn, family, where, report, false, mode === 'local');
          if (family.noArrays !== true) await checkFamily(conn, family, where, report, true, mode === 'local', skipped);
        }
      }
    }
    if (hstore) {
      // hstore read as objects goes back as hstore too
      await types.registerHstore(conn, `${schema}.hstore`, { as: 'object' });
      await checkFamily(conn, families(schema, true).find((family) => family.type.endsWith('hstore')) as Family, '[hstore as objects]', report, false);
    }
  } finally {
    await conn.query(`drop schema if exists ${schema} cascade`);
    await conn.close();
  }
  process.stdout.write(JSON.stringify(report));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
