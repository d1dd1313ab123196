// Client-side cursors: psycopg placeholders, fetching, description and the
// other DB-API attributes, executemany, nextset, mogrify, closing.
import { describe, expect, it } from 'vitest';
import { Cursor, errors, types, type Connection, type Field } from '../lib';
import { connectTest, makeTable, uniqueName, rejectionOf as rejection, thrownBy as thrown, sharedConnection } from './helpers';

const conn = sharedConnection({ autocommit: true });

/** A temp table of this connection with rows (id int, name text) for id 1..n. */
async function tableOf(n: number, on: Connection = conn()): Promise<string> {
  const table = await makeTable(on, 'id int primary key, name text', { prefix: 'cur', temp: true });
  if (n > 0) await on.query(`insert into ${table} select g, 'row ' || g from generate_series(1, $1::int) g`, [n]);
  return table;
}

describe('execute', () => {
  it('conn.cursor().execute() resolves with the cursor itself', async () => {
    const cur = conn().cursor();
    expect(cur).toBeInstanceOf(Cursor);
    expect(cur.connection).toBe(conn());
    const returned = await cur.execute('select 1, 2');
    expect(returned).toBe(cur);
    expect(await cur.fetchall()).toEqual([[1, 2]]);
  });

  it('conn.execute(text, params) is a new executed cursor', async () => {
    const a = await conn().execute('select %s::int + 1, %s::text', [41, 'x']);
    const b = await conn().execute('select 2');
    expect(a).toBeInstanceOf(Cursor);
    expect(a).not.toBe(b);
    expect(await a.fetchone()).toEqual([42, 'x']);
    expect(await b.fetchone()).toEqual([2]);
  });

  it('runs without params at all', async () => {
    const cur = await conn().execute("select 'plain'");
    expect(await cur.fetchall()).toEqual([['plain']]);
  });

  it('executes again on the same cursor, replacing the previous result', async () => {
    const cur = await conn().execute('select g from generate_series(1, 3) g');
    expect(await cur.fetchone()).toEqual([1]);
    await cur.execute('select %s::text', ['again']);
    expect(cur.rownumber).toBe(0);
    expect(await cur.fetchall()).toEqual([['again']]);
  });

  it('a server error rejects with the mapped class and leaves the cursor usable', async () => {
    const cur = conn().cursor();
    const error = await rejection(cur.execute(`select * from ${uniqueName('missing')}`));
    expect(error).toBeInstanceOf(errors.UndefinedTable);
    expect(error).toBeInstanceOf(errors.ProgrammingError);
    expect((error as errors.DatabaseError).sqlstate).toBe('42P01');
    await cur.execute('select 5');
    expect(await cur.fetchone()).toEqual([5]);
  });
});

describe('row factories', () => {
  it('rows are tuples (arrays) by default', async () => {
    const cur = await conn().execute('select 1 as a, %s::text as b', ['x']);
    const row = await cur.fetchone();
    expect(Array.isArray(row)).toBe(true);
    expect(row).toEqual([1, 'x']);
  });

  it("'object' on the cursor makes objects keyed by column name", async () => {
    const cur = conn().cursor<{ a: number; b: string }>({ rowFactory: 'object' });
    await cur.execute('select 1 as a, %s::text as b', ['x']);
    const row = await cur.fetchone();
    expect(Array.isArray(row)).toBe(false);
    expect(row).toEqual({ a: 1, b: 'x' });
  });

  it("'named' makes arrays whose columns also read by name", async () => {
    const cur = conn().cursor<unknown[] & { a: number; b: string }>({ rowFactory: 'named' });
    await cur.execute('select 1 as a, %s::text as b', ['x']);
    const rows = await cur.fetchall();
    expect(rows).toHaveLength(1);
    const row = rows[0];
    expect(Array.isArray(row)).toBe(true);
    expect(row[0]).toBe(1);
    expect(row[1]).toBe('x');
    expect(row.a).toBe(1);
    expect(row.b).toBe('x');
    expect(row.length).toBe(2);
    expect([...row]).toEqual([1, 'x']);
  });

  it('a function factory gets the fields and makes each row', async () => {
    const seen: string[][] = [];
    const factory = (fields: readonly Field[]) => {
      seen.push(fields.map((f) => f.name));
      const names = fields.map((f) => f.name);
      return (values: unknown[]) => names.map((name, i) => `${name}=${String(values[i])}`).join(';');
    };
    const cur = conn().cursor<string>({ rowFactory: factory });
    await cur.execute('select g as n, g * 10 as m from generate_series(1, 2) g');
    expect(await cur.fetchall()).toEqual(['n=1;m=10', 'n=2;m=20']);
    expect(seen[0]).toEqual(['n', 'm']);
  });

  it("setting cursor.rowFactory after creation applies to the next execute", async () => {
    const cur = conn().cursor();
    cur.rowFactory = 'object';
    await cur.execute('select 3 as c');
    expect(await cur.fetchone()).toEqual({ c: 3 });
  });

  it('an unknown rowFactory is refused', () => {
    expect(() => conn().cursor({ rowFactory: 'dict' as never })).toThrow(errors.ProgrammingError);
  });

  it('cursors inherit the connect() rowFactory; a cursor option overrides it', async () => {
    const other = await connectTest({ autocommit: true, rowFactory: 'object' });
    try {
      const inherited = await other.execute('select 1 as a, 2 as b');
      expect(await inherited.fetchone()).toEqual({ a: 1, b: 2 });
      const overridden = other.cursor({ rowFactory: 'tuple' });
      await overridden.execute('select 1 as a, 2 as b');
      expect(await overridden.fetchone()).toEqual([1, 2]);
    } finally {
      await other.close();
    }
  });

  it("a connection rowFactory of 'named' reaches conn.execute() cursors", async () => {
    const other = await connectTest({ autocommit: true, rowFactory: 'named' });
    try {
      const cur = await other.execute<unknown[] & { word: string }>('select %s::text as word', ['hi']);
      const row = await cur.fetchone();
      expect(row?.word).toBe('hi');
      expect(row?.[0]).toBe('hi');
    } finally {
      await other.close();
    }
  });
});

describe('placeholders', () => {
  it('%s takes values from an array, in order, sent as parameters', async () => {
    const cur = await conn().execute('select %s::int, %s::text, %s::int is null', [7, "it's", null]);
    expect(await cur.fetchone()).toEqual([7, "it's", true]);
    expect(cur.query).toBe('select $1::int, $2::text, $3::int is null');
  });

  it('values never become SQL', async () => {
    const evil = "x'; drop table pg_class; --";
    const cur = await conn().execute('select %s::text', [evil]);
    expect(await cur.fetchone()).toEqual([evil]);
  });

  it('%(name)s takes values from an object; a name used twice is one parameter', async () => {
    const cur = await conn().execute('select %(a)s::int + %(a)s::int, %(b)s::text, %(a)s::int', { a: 5, b: 'y', extra: 1 });
    expect(await cur.fetchone()).toEqual([10, 'y', 5]);
    expect(cur.query).toBe('select $1::int + $1::int, $2::text, $1::int');
    expect(cur.params).toEqual([5, 'y']);
  });

  it('%% is a literal % when params are given', async () => {
    const cur = await conn().execute("select 'a%%b', %s::text", ['c']);
    expect(await cur.fetchone()).toEqual(['a%b', 'c']);
    const empty = await conn().execute("select 'a%%b'", []);
    expect(await empty.fetchone()).toEqual(['a%b']);
    const named = await conn().execute("select 'x' like 'x%%' and %(v)s::bool", { v: true });
    expect(await named.fetchone()).toEqual([true]);
  });

  it('without params the text is left alone, % included', async () => {
    const single = await conn().execute("select 'a%b'");
    expect(await single.fetchone()).toEqual(['a%b']);
    const doubled = await conn().execute("select 'a%%b'");
    expect(await doubled.fetchone()).toEqual(['a%%b']);
    const looksLikePlaceholder = await conn().execute("select '%s'");
    expect(await looksLikePlaceholder.fetchone()).toEqual(['%s']);
  });

  describe('errors before anything is sent', () => {
    it.each([
      ['too few positional', 'select %s, %s', [1]],
      ['too many positional', 'select %s', [1, 2]],
      ['params for a query without placeholders', 'select 1', [1]],
      ['a missing name', 'select %(a)s, %(b)s', { a: 1 }],
      ['an inherited name', 'select %(toString)s', {}],
      ['mixed styles', 'select %s, %(a)s', [1]],
      ['mixed styles, named first', 'select %(a)s, %s', { a: 1 }],
      ['an array for named placeholders', 'select %(a)s', [1]],
      ['an object for positional placeholders', 'select %s', { a: 1 }],
      ['an unknown placeholder', 'select %d', [1]],
      ['a trailing %', 'select 1 %', []],
      ['an unclosed %(', 'select %(a', { a: 1 }],
    ] as const)('%s → ProgrammingError, connection untouched', async (_label, text, params) => {
      const other = await connectTest();
      try {
        const cur = other.cursor();
        const error = await rejection(cur.execute(text, params as never));
        expect(error).toBeInstanceOf(errors.ProgrammingError);
        expect((error as errors.DatabaseError).sqlstate).toBeUndefined();
        // nothing went out: not even the BEGIN of the implicit transaction
        expect(other.info.transactionStatus).toBe('idle');
        expect(cur.query).toBeNull();
        await cur.execute('select %s::int', [1]);
        expect(await cur.fetchone()).toEqual([1]);
        expect(other.info.transactionStatus).toBe('intrans');
      } finally {
        await other.close();
      }
    });

    it('conn.execute() with a wrong count rejects with ProgrammingError', async () => {
      await expect(conn().execute('select %s', [])).rejects.toBeInstanceOf(errors.ProgrammingError);
      const cur = await conn().execute('select 1');
      expect(await cur.fetchone()).toEqual([1]);
    });
  });
});

describe('fetching', () => {
  it('fetchone() walks the rows, then gives null, and keeps giving null', async () => {
    const cur = await conn().execute('select g from generate_series(1, 3) g');
    expect(await cur.fetchone()).toEqual([1]);
    expect(await cur.fetchone()).toEqual([2]);
    expect(await cur.fetchone()).toEqual([3]);
    expect(await cur.fetchone()).toBeNull();
    expect(await cur.fetchone()).toBeNull();
  });

  it('fetchone() on an empty result is null at once', async () => {
    const cur = await conn().execute('select 1 where false');
    expect(await cur.fetchone()).toBeNull();
    expect(await cur.fetchall()).toEqual([]);
    expect(cur.rowcount).toBe(0);
    expect(cur.description).not.toBeNull();
  });

  it('fetchmany() uses arraysize (1 by default) and an explicit size', async () => {
    const cur = await conn().execute('select g from generate_series(1, 10) g');
    expect(cur.arraysize).toBe(1);
    expect(await cur.fetchmany()).toEqual([[1]]);
    expect(await cur.fetchmany(3)).toEqual([[2], [3], [4]]);
    cur.arraysize = 4;
    expect(await cur.fetchmany()).toEqual([[5], [6], [7], [8]]);
    expect(await cur.fetchmany(5)).toEqual([[9], [10]]);
    expect(await cur.fetchmany(5)).toEqual([]);
    expect(await cur.fetchmany()).toEqual([]);
  });

  it('fetchmany(0) returns nothing and a bad size is refused', async () => {
    const cur = await conn().execute('select g from generate_series(1, 3) g');
    expect(await cur.fetchmany(0)).toEqual([]);
    await expect(cur.fetchmany(-1)).rejects.toBeInstanceOf(errors.ProgrammingError);
    await expect(cur.fetchmany(1.5)).rejects.toBeInstanceOf(errors.ProgrammingError);
    expect(await cur.fetchall()).toEqual([[1], [2], [3]]);
  });

  it('fetchall() returns the rows not yet fetched', async () => {
    const cur = await conn().execute('select g from generate_series(1, 5) g');
    expect(await cur.fetchone()).toEqual([1]);
    expect(await cur.fetchmany(2)).toEqual([[2], [3]]);
    expect(await cur.fetchall()).toEqual([[4], [5]]);
    expect(await cur.fetchall()).toEqual([]);
    expect(await cur.fetchone()).toBeNull();
  });

  it('for await iterates over the remaining rows', async () => {
    const cur = await conn().execute('select g, g * g from generate_series(1, 5) g');
    expect(await cur.fetchone()).toEqual([1, 1]);
    const seen: unknown[] = [];
    for await (const row of cur) seen.push(row);
    expect(seen).toEqual([
      [2, 4],
      [3, 9],
      [4, 16],
      [5, 25],
    ]);
    expect(await cur.fetchone()).toBeNull();
  });

  it('for await over a fresh cursor sees every row, with the cursor rowFactory', async () => {
    const table = await tableOf(20);
    const cur = conn().cursor<{ id: number; name: string }>({ rowFactory: 'object' });
    await cur.execute(`select id, name from ${table} order by id`);
    const ids: number[] = [];
    for await (const row of cur) {
      expect(row.name).toBe(`row ${row.id}`);
      ids.push(row.id);
    }
    expect(ids).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('fetching after a statement that returns no rows → ProgrammingError', async () => {
    const table = uniqueName('noresult');
    const cur = await conn().execute(`create temp table ${table} (a int)`);
    await expect(cur.fetchone()).rejects.toBeInstanceOf(errors.ProgrammingError);
    await expect(cur.fetchmany(2)).rejects.toBeInstanceOf(errors.ProgrammingError);
    await expect(cur.fetchall()).rejects.toBeInstanceOf(errors.ProgrammingError);
    await cur.execute(`insert into ${table} values (1)`);
    await expect(cur.fetchone()).rejects.toBeInstanceOf(errors.ProgrammingError);
    const error = await rejection(cur.fetchall());
    expect(error).toBeInstanceOf(errors.ProgrammingError);
    expect((error as errors.DatabaseError).sqlstate).toBeUndefined();
  });

  it('fetching before any execute → ProgrammingError that says nothing was executed', async () => {
    const cur = conn().cursor();
    await expect(cur.fetchone()).rejects.toBeInstanceOf(errors.ProgrammingError);
    await expect(cur.fetchall()).rejects.toBeInstanceOf(errors.ProgrammingError);
    const error = await rejection(cur.fetchone());
    expect(error.message).toBe('no result available: nothing was executed on this cursor yet');
    expect(thrown(() => cur.scroll(0)).message).toBe(error.message);
  });

  it('fetching while execute() has not finished (a forgotten await) says so', async () => {
    const cur = conn().cursor();
    const executing = cur.execute('select 1');
    const error = await rejection(cur.fetchone());
    expect(error).toBeInstanceOf(errors.ProgrammingError);
    expect(error.message).toBe('no result available yet: execute() has not finished (is it awaited?)');
    await executing;
    expect(await cur.fetchone()).toEqual([1]);

    // the rows of the previous statement are not given for those of the next one
    const again = cur.execute('select 2');
    await expect(cur.fetchall()).rejects.toThrow(/has not finished/);
    await again;
    expect(await cur.fetchall()).toEqual([[2]]);
  });

  it('fetching after a failed execute says the statement failed, not the rows before it', async () => {
    const cur = await conn().execute('select 1');
    await rejection(cur.execute('select 1/0'));
    const error = await rejection(cur.fetchone());
    expect(error).toBeInstanceOf(errors.ProgrammingError);
    expect(error.message).toBe('no result available: the last statement failed');
    expect(cur.description).toBeNull();
    expect(cur.rowcount).toBe(-1);
  });

  it('fetching after a statement without rows says so', async () => {
    const cur = await conn().execute('set application_name to default');
    expect((await rejection(cur.fetchone())).message).toBe('no results to fetch: the last statement returned no rows');
  });

  it('INSERT ... RETURNING can be fetched', async () => {
    const table = await tableOf(0);
    const cur = await conn().execute(`insert into ${table} values (%s, %s), (%s, %s) returning id, name`, [1, 'a', 2, 'b']);
    expect(cur.rowcount).toBe(2);
    expect(cur.statusmessage).toBe('INSERT 0 2');
    expect(await cur.fetchall()).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
  });
});

describe('description', () => {
  it('describes each column: name, typeCode (OID), sizes, precision and scale', async () => {
    const table = await makeTable(conn(), 'i int4, t text, n numeric(10,2), v varchar(20), b int8, f bool', { prefix: 'desc', temp: true });
    await conn().query(`insert into ${table} values (1, 'x', 12.5, 'abc', 9, true)`);
    const cur = await conn().execute(`select i, t, n, v, b, f from ${table}`);
    const d = cur.description;
    expect(d).not.toBeNull();
    expect(d!.map((c) => c.name)).toEqual(['i', 't', 'n', 'v', 'b', 'f']);
    expect(d!.map((c) => c.typeCode)).toEqual([23, 25, 1700, 1043, 20, 16]);

    const [i, t, n, v, b, f] = d!;
    expect(i.internalSize).toBe(4);
    expect(i.precision).toBeNull();
    expect(i.scale).toBeNull();
    expect(t.internalSize).toBeNull();
    expect(t.displaySize).toBeNull();
    expect(n.precision).toBe(10);
    expect(n.scale).toBe(2);
    expect(n.internalSize).toBeNull();
    expect(v.displaySize).toBe(20);
    expect(v.internalSize).toBeNull();
    expect(b.internalSize).toBe(8);
    expect(f.internalSize).toBe(1);

    expect(await cur.fetchone()).toEqual([1, 'x', '12.50', 'abc', 9n, true]);
  });

  it('reports unconstrained numeric without precision and computed columns by their alias', async () => {
    const cur = await conn().execute('select 1.5::numeric as plain, %s::text as "Mixed Case"', ['v']);
    const [plain, mixed] = cur.description!;
    expect(plain.name).toBe('plain');
    expect(plain.typeCode).toBe(1700);
    expect(plain.precision).toBeNull();
    expect(plain.scale).toBeNull();
    expect(mixed.name).toBe('Mixed Case');
  });

  it('is there for an empty SELECT, null after INSERT / DDL, null before execute', async () => {
    const cur = conn().cursor();
    expect(cur.description).toBeNull();
    await cur.execute('select 1 as one where false');
    expect(cur.description?.map((c) => c.name)).toEqual(['one']);
    const table = await tableOf(0);
    await cur.execute(`insert into ${table} values (1, 'a')`);
    expect(cur.description).toBeNull();
    await cur.execute(`select id from ${table}`);
    expect(cur.description?.[0].name).toBe('id');
    await cur.execute(`create temp table ${uniqueName('ddl')} (a int)`);
    expect(cur.description).toBeNull();
  });
});

describe('rowcount, rownumber, statusmessage, query', () => {
  it('rowcount for SELECT, INSERT of 3 rows, UPDATE, DELETE; -1 for DDL and before execute', async () => {
    const cur = conn().cursor();
    expect(cur.rowcount).toBe(-1);
    const table = uniqueName('rc');
    await cur.execute(`create temp table ${table} (a int)`);
    expect(cur.rowcount).toBe(-1);
    expect(cur.statusmessage).toBe('CREATE TABLE');

    await cur.execute(`insert into ${table} values (%s), (%s), (%s)`, [1, 2, 3]);
    expect(cur.rowcount).toBe(3);
    expect(cur.statusmessage).toBe('INSERT 0 3');

    await cur.execute(`select a from ${table}`);
    expect(cur.rowcount).toBe(3);
    expect(cur.statusmessage).toBe('SELECT 3');

    await cur.execute(`update ${table} set a = a + 10 where a >= %s`, [2]);
    expect(cur.rowcount).toBe(2);
    expect(cur.statusmessage).toBe('UPDATE 2');

    await cur.execute(`update ${table} set a = 0 where false`);
    expect(cur.rowcount).toBe(0);

    await cur.execute(`delete from ${table}`);
    expect(cur.rowcount).toBe(3);
    expect(cur.statusmessage).toBe('DELETE 3');

    await cur.execute('set application_name = pqnode_cursor_test');
    expect(cur.rowcount).toBe(-1);
    expect(cur.statusmessage).toBe('SET');
  });

  it('rownumber is null before a result and advances with every fetch', async () => {
    const cur = conn().cursor();
    expect(cur.rownumber).toBeNull();
    await cur.execute('select g from generate_series(1, 6) g');
    expect(cur.rownumber).toBe(0);
    await cur.fetchone();
    expect(cur.rownumber).toBe(1);
    await cur.fetchmany(2);
    expect(cur.rownumber).toBe(3);
    await cur.fetchall();
    expect(cur.rownumber).toBe(6);
    expect(await cur.fetchone()).toBeNull();
    expect(cur.rownumber).toBe(6);
    await cur.execute('select 1');
    expect(cur.rownumber).toBe(0);
  });

  it('query is the $n text that was sent; statusmessage the command tag', async () => {
    const cur = conn().cursor();
    expect(cur.query).toBeNull();
    expect(cur.statusmessage).toBeNull();
    await expect(cur.execute('select %s::int as a, %(x)s', [1])).rejects.toBeInstanceOf(errors.ProgrammingError);
    expect(cur.query).toBeNull();
    await cur.execute('select %s::int as a, %s::text as b', [1, 'two']);
    expect(cur.query).toBe('select $1::int as a, $2::text as b');
    expect(cur.statusmessage).toBe('SELECT 1');
    await cur.execute("select 'no params'");
    expect(cur.query).toBe("select 'no params'");
  });
});

describe('mogrify', () => {
  it('quotes the values into the text: strings escaped, NULL, numbers, booleans', () => {
    const cur = conn().cursor();
    const text = cur.mogrify('select %s, %s, %s, %s, %s, %s', ["it's", null, 42, 1.5, true, false]);
    expect(text).not.toMatch(/\$\d/);
    expect(text).toContain("'it''s'");
    expect(text).toContain('NULL');
    expect(text).toMatch(/\b42\b/);
    expect(text).toContain('1.5');
    expect(text.startsWith('select ')).toBe(true);
  });

  it('named placeholders and %% are handled as execute() handles them', () => {
    const cur = conn().cursor();
    const text = cur.mogrify("select %(a)s, %(a)s, 'x%%'", { a: 'v' });
    expect(text).toBe("select 'v', 'v', 'x%'");
    expect(cur.mogrify("select 'a%b'")).toBe("select 'a%b'");
  });

  it('sends nothing to the server', async () => {
    const other = await connectTest();
    try {
      const text = other.cursor().mogrify('select %s', [1]);
      expect(text).toMatch(/1/);
      expect(other.info.transactionStatus).toBe('idle');
    } finally {
      await other.close();
    }
  });

  it('refuses bad params as execute() does', () => {
    const cur = conn().cursor();
    expect(() => cur.mogrify('select %s, %s', [1])).toThrow(errors.ProgrammingError);
    expect(() => cur.mogrify('select %(a)s', {})).toThrow(errors.ProgrammingError);
  });

  it('running the mogrified text gives what the parameterised query gives', async () => {
    // each value cast: an untyped parameter alone would be read as text, a bare number is a number
    const text = 'select %s as s, %s as q, %s::int as n, %s::int as i, %s::float8 as f, %s::bool as t, %s::bool as b, %s as bs, %s::int as neg';
    const params = ["it's", 'back\\slash "dq"', null, 42, -1.25, true, false, 'multi\nline', -7];
    const cur = conn().cursor();
    const mogrified = cur.mogrify(text, params);
    const viaParams = await conn().execute(text, params);
    const viaText = await conn().execute(mogrified);
    const a = await viaParams.fetchone();
    const b = await viaText.fetchone();
    expect(b).toEqual(a);
    expect(b).toEqual(["it's", 'back\\slash "dq"', null, 42, -1.25, true, false, 'multi\nline', -7]);
    expect(viaText.description!.map((c) => c.typeCode)).toEqual(viaParams.description!.map((c) => c.typeCode));
  });

  it('round-trips bigint, bytea, Date and arrays', async () => {
    const text = 'select %s as big, %s as bytes, %s::timestamptz as ts, %s::int[] as arr, %s::jsonb as doc';
    const when = new Date('2024-02-29T12:34:56.789Z');
    const params = [2n ** 62n, Buffer.from([0, 1, 0xfe, 0x27]), when, [1, 2, null], { a: [1, 'x'] }];
    const mogrified = conn().cursor().mogrify(text, params);
    const viaText = await conn().execute(mogrified);
    const viaParams = await conn().execute(text, params);
    const row = await viaText.fetchone();
    expect(row).toEqual(await viaParams.fetchone());
    expect(row).toEqual([2n ** 62n, Buffer.from([0, 1, 0xfe, 0x27]), when, [1, 2, null], { a: [1, 'x'] }]);
  });

  it('looks like what psycopg2 prints: numbers bare, strings quoted, NULL, true/false, typed values cast', () => {
    const cur = conn().cursor();
    expect(cur.mogrify('select %s, %s', [1, 1.5])).toBe('select 1, 1.5');
    expect(cur.mogrify('select %s, %s, %s, %s', [-3, 2n ** 70n, true, null])).toBe('select  -3, 1180591620717411303424, true, NULL');
    expect(cur.mogrify('select 1 -%s', [-1])).toBe('select 1 - -1');
    expect(cur.mogrify('select %s, %s, %s', ["it's", Buffer.from([1, 2]), new types.Interval(0, 1, 0)])).toBe("select 'it''s',  E'\\\\x0102'::bytea, 'P1D'::interval");
    // what goes untyped as a parameter is written untyped: the context reads it as it would the parameter
    expect(cur.mogrify('select %s, %s, %s', [[1, 2], ['a', 'b c'], { k: 'v' }])).toBe(`select '{1,2}', '{"a","b c"}', '{"k":"v"}'`);
    expect(cur.mogrify('select %s, %s, %s', [NaN, -Infinity, -0])).toBe("select 'NaN', '-Infinity', '-0'");
    expect(cur.mogrify('select %s', [new Date('2024-02-29T12:34:56.789Z')])).toBe("select '2024-02-29 12:34:56.789+00'");
  });
});

describe('executemany', () => {
  it('inserts 100 rows; rowcount is the total; the rows are there', async () => {
    const table = await tableOf(0);
    const cur = conn().cursor();
    const seq = Array.from({ length: 100 }, (_, i) => [i + 1, `name ${i + 1}`]);
    const returned = await cur.executemany(`insert into ${table} (id, name) values (%s, %s)`, seq);
    expect(returned).toBeUndefined();
    expect(cur.rowcount).toBe(100);
    const check = await conn().query<{ count: bigint; sum: bigint }>(`select count(*), sum(id) from ${table}`);
    expect(check.rows[0]).toEqual({ count: 100n, sum: 5050n });
    const sample = await conn().query(`select name from ${table} where id = 57`);
    expect(sample.rows).toEqual([{ name: 'name 57' }]);
  });

  it('takes named parameter sets and any iterable', async () => {
    const table = await tableOf(0);
    function* sets() {
      for (let i = 1; i <= 5; i++) yield { id: i, name: `n${i}` };
    }
    const cur = conn().cursor();
    await cur.executemany(`insert into ${table} (id, name) values (%(id)s, %(name)s)`, sets());
    expect(cur.rowcount).toBe(5);
    const rows = await conn().query(`select id, name from ${table} order by id`, [], { rowFactory: 'tuple' });
    expect(rows.rows).toEqual([
      [1, 'n1'],
      [2, 'n2'],
      [3, 'n3'],
      [4, 'n4'],
      [5, 'n5'],
    ]);
  });

  it('UPDATE with executemany sums the affected rows', async () => {
    const table = await tableOf(10);
    const cur = conn().cursor();
    await cur.executemany(`update ${table} set name = 'x' where id <= %s`, [[2], [5]]);
    expect(cur.rowcount).toBe(7);
  });

  it('one failing parameter set rejects with the server error; the connection stays usable', async () => {
    const table = await tableOf(0);
    const cur = conn().cursor();
    const seq = [
      [1, 'a'],
      [2, 'b'],
      [1, 'duplicate'],
      [3, 'c'],
    ];
    const error = await rejection(cur.executemany(`insert into ${table} (id, name) values (%s, %s)`, seq));
    expect(error).toBeInstanceOf(errors.UniqueViolation);
    expect(error).toBeInstanceOf(errors.IntegrityError);
    expect((error as errors.DatabaseError).sqlstate).toBe('23505');
    await cur.execute('select 1');
    expect(await cur.fetchone()).toEqual([1]);
  });

  it('in a transaction, a failing set leaves nothing after rollback', async () => {
    const other = await connectTest();
    try {
      const table = await tableOf(0, other);
      await other.commit();
      const cur = other.cursor();
      const error = await rejection(
        cur.executemany(`insert into ${table} (id, name) values (%s::int, %s)`, [
          [1, 'a'],
          ['not a number', 'b'],
          [3, 'c'],
        ]),
      );
      expect(error).toBeInstanceOf(errors.InvalidTextRepresentation);
      expect(other.info.transactionStatus).toBe('inerror');
      await other.rollback();
      const count = await other.query(`select count(*)::int as n from ${table}`);
      expect(count.rows).toEqual([{ n: 0 }]);
    } finally {
      await other.close();
    }
  });

  it('a bad placeholder count in any set rejects with ProgrammingError', async () => {
    const table = await tableOf(0);
    const cur = conn().cursor();
    await expect(cur.executemany(`insert into ${table} (id, name) values (%s, %s)`, [[1, 'a'], [2]])).rejects.toBeInstanceOf(
      errors.ProgrammingError,
    );
  });

  it('a bad parameter set after one the server rejects leaves no unhandled rejection behind', async () => {
    const table = await tableOf(0);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const cur = conn().cursor();
      const error = await rejection(
        cur.executemany(`insert into ${table} (id, name) values (%s::int, %s)`, [['not a number', 'a'], [2]]),
      );
      expect(error).toBeInstanceOf(errors.ProgrammingError);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(unhandled).toEqual([]);
      await cur.execute('select 1');
      expect(await cur.fetchone()).toEqual([1]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('an empty sequence does nothing', async () => {
    const table = await tableOf(0);
    const cur = conn().cursor();
    await cur.executemany(`insert into ${table} (id, name) values (%s, %s)`, []);
    const count = await conn().query(`select count(*)::int as n from ${table}`);
    expect(count.rows).toEqual([{ n: 0 }]);
  });
});

describe('nextset', () => {
  it('walks the results of a multi-statement query sent without params', async () => {
    const cur = await conn().execute("select 1 as a; select 2 as b, 'x' as c; select g from generate_series(1, 3) g");
    expect(cur.description!.map((c) => c.name)).toEqual(['a']);
    expect(await cur.fetchall()).toEqual([[1]]);
    expect(cur.nextset()).toBe(true);
    expect(cur.description!.map((c) => c.name)).toEqual(['b', 'c']);
    expect(cur.rownumber).toBe(0);
    expect(await cur.fetchone()).toEqual([2, 'x']);
    expect(cur.nextset()).toBe(true);
    expect(cur.rowcount).toBe(3);
    expect(await cur.fetchall()).toEqual([[1], [2], [3]]);
    expect(cur.nextset()).toBe(false);
    expect(cur.nextset()).toBe(false);
  });

  it('sets description and rowcount for command results in the sequence', async () => {
    const table = uniqueName('multi');
    const cur = await conn().execute(
      `create temp table ${table} (a int); insert into ${table} values (1), (2); select count(*)::int from ${table}`,
    );
    expect(cur.description).toBeNull();
    expect(cur.statusmessage).toBe('CREATE TABLE');
    expect(cur.nextset()).toBe(true);
    expect(cur.description).toBeNull();
    expect(cur.rowcount).toBe(2);
    expect(cur.statusmessage).toBe('INSERT 0 2');
    expect(cur.nextset()).toBe(true);
    expect(await cur.fetchall()).toEqual([[2]]);
    expect(cur.nextset()).toBe(false);
  });

  it('is false for a single statement', async () => {
    const cur = await conn().execute('select 1');
    expect(cur.nextset()).toBe(false);
    expect(await cur.fetchall()).toEqual([[1]]);
  });

  it('an error in a later statement of the batch rejects the execute', async () => {
    const cur = conn().cursor();
    const error = await rejection(cur.execute('select 1; select 1/0; select 3'));
    expect(error).toBeInstanceOf(errors.DivisionByZero);
    await cur.execute('select 4');
    expect(await cur.fetchone()).toEqual([4]);
  });
});

describe('closing', () => {
  it('a closed cursor refuses execute and fetch with InterfaceError', async () => {
    const cur = await conn().execute('select g from generate_series(1, 3) g');
    expect(cur.closed).toBe(false);
    await cur.close();
    expect(cur.closed).toBe(true);
    await expect(cur.execute('select 1')).rejects.toBeInstanceOf(errors.InterfaceError);
    await expect(cur.executemany('select %s', [[1]])).rejects.toBeInstanceOf(errors.InterfaceError);
    await expect(cur.fetchone()).rejects.toBeInstanceOf(errors.InterfaceError);
    await expect(cur.fetchall()).rejects.toBeInstanceOf(errors.InterfaceError);
    expect(() => cur.nextset()).toThrow(errors.InterfaceError);
    expect(() => cur.mogrify('select %s', [1])).toThrow(errors.InterfaceError);
    await cur.close();
    const fresh = await conn().execute('select 1');
    expect(await fresh.fetchone()).toEqual([1]);
  });

  it('await using closes the cursor', async () => {
    let kept: Cursor | undefined;
    {
      await using cur = await conn().execute('select 1');
      kept = cur;
      expect(kept.closed).toBe(false);
    }
    expect(kept.closed).toBe(true);
  });

  it('a cursor on a closed connection → InterfaceError', async () => {
    const other = await connectTest();
    const cur = other.cursor();
    const executed = await other.execute('select 1');
    await other.close();
    const error = thrown(() => other.cursor());
    expect(error).toBeInstanceOf(errors.InterfaceError);
    await expect(other.execute('select 1')).rejects.toBeInstanceOf(errors.InterfaceError);
    await expect(cur.execute('select 1')).rejects.toBeInstanceOf(errors.InterfaceError);
    await expect(executed.execute('select 1')).rejects.toBeInstanceOf(errors.InterfaceError);
  });

  it('a statement in flight when the connection closes rejects with InterfaceError', async () => {
    const other = await connectTest();
    const cur = other.cursor();
    const pending = cur.execute('select pg_sleep(5)');
    await new Promise((resolve) => setTimeout(resolve, 20));
    await other.close();
    await expect(pending).rejects.toBeInstanceOf(errors.InterfaceError);
  });
});
