// The sql module: composing statements from pieces (names quoted, literals quoted
// client-side, placeholders) and the sql.query tagged template with $n parameters.
import { describe, expect, it } from 'vitest';
import { errors, sql, types } from '../lib';
import { connectTest, uniqueName, thrownBy as thrown, sharedConnection, makeTable } from './helpers';
import { coreOf } from '../lib/core/interface';

const conn = sharedConnection({ autocommit: true });

describe('SQL and format()', () => {
  it('fills {} fields in order, and works with or without new', () => {
    const q = sql.SQL('select {} from {}').format(sql.Identifier('a'), new sql.Identifier('t'));
    expect(q).toBeInstanceOf(sql.Composed);
    expect(q.asString()).toBe('select "a" from "t"');
    expect(new sql.SQL('x')).toBeInstanceOf(sql.SQL);
    expect(sql.SQL('x')).toBeInstanceOf(sql.SQL);
  });

  it('fills {0} fields by position, reusing them', () => {
    const q = sql.SQL('{0} = {1} or {0} is null').format(sql.Identifier('c'), sql.Literal(3));
    expect(q.asString()).toBe('"c" = 3 or "c" is null');
  });

  it('fills {name} fields from an object given last, beside positional ones', () => {
    const q = sql.SQL('select {} from {table} where {col} = {}').format(sql.Literal('x'), sql.Literal(2), {
      table: sql.Identifier('s', 't'),
      col: sql.Identifier('id'),
    });
    expect(q.asString()).toBe(`select 'x' from "s"."t" where "id" = 2`);
  });

  it('{{ and }} are braces; values that are not pieces become literals', () => {
    expect(sql.SQL("select '{{}}', {}").format("it's").asString()).toBe(`select '{}', 'it''s'`);
  });

  it('bad format texts and missing arguments are ProgrammingErrors', () => {
    expect(thrown(() => sql.SQL('{} {0}').format(sql.SQL('a'), sql.SQL('b')))).toBeInstanceOf(errors.ProgrammingError);
    expect(thrown(() => sql.SQL('{0} {}').format(sql.SQL('a'), sql.SQL('b')))).toBeInstanceOf(errors.ProgrammingError);
    expect(thrown(() => sql.SQL('{} {}').format(sql.SQL('a')))).toBeInstanceOf(errors.ProgrammingError);
    expect(thrown(() => sql.SQL('{x}').format({ y: sql.SQL('a') }))).toBeInstanceOf(errors.ProgrammingError);
    expect(thrown(() => sql.SQL('{x}').format(sql.SQL('a')))).toBeInstanceOf(errors.ProgrammingError);
    expect(thrown(() => sql.SQL('{x:>3}').format({ x: 1 }))).toBeInstanceOf(errors.ProgrammingError);
    expect(thrown(() => sql.SQL('{x!r}').format({ x: 1 }))).toBeInstanceOf(errors.ProgrammingError);
    expect(thrown(() => sql.SQL('a } b').format())).toBeInstanceOf(errors.ProgrammingError);
    expect(thrown(() => sql.SQL('a { b').format())).toBeInstanceOf(errors.ProgrammingError);
    expect(thrown(() => sql.SQL(42 as unknown as string))).toBeInstanceOf(errors.ProgrammingError);
  });

  it('join() puts the text between pieces', () => {
    const cols = sql.SQL(', ').join(['a', 'b', 'c'].map((name) => sql.Identifier(name)));
    expect(cols.asString()).toBe('"a", "b", "c"');
    const composed = sql.Composed([sql.Literal(1), sql.Literal(2)]).join(' + ');
    expect(composed.asString()).toBe('1 + 2');
    expect(sql.SQL(', ').join([]).asString()).toBe('');
    expect(thrown(() => sql.SQL(',').join('abc' as unknown as string[]))).toBeInstanceOf(errors.ProgrammingError);
  });

  it('concat() and Composed build sequences', () => {
    const q = sql.SQL('select ').concat(sql.Identifier('x')).concat(sql.Composed([sql.SQL(' from '), sql.Identifier('t')]));
    expect(q.seq).toHaveLength(4);
    expect(q.asString()).toBe('select "x" from "t"');
  });
});

describe('Identifier and quoteIdent', () => {
  it('quotes as PQescapeIdentifier does, multi-part names dotted', () => {
    expect(sql.Identifier('Weird "name"').asString()).toBe('"Weird ""name"""');
    expect(sql.Identifier('public', 'my table', 'col').asString()).toBe('"public"."my table"."col"');
    expect(sql.quoteIdent('a"b')).toBe(coreOf(conn()).escapeIdentifier('a"b'));
  });

  it('refuses no names, non-strings and NUL characters', () => {
    expect(thrown(() => sql.Identifier())).toBeInstanceOf(errors.ProgrammingError);
    expect(thrown(() => sql.Identifier(1 as unknown as string))).toBeInstanceOf(errors.ProgrammingError);
    expect(thrown(() => sql.Identifier('a\u0000b'))).toBeInstanceOf(errors.ProgrammingError);
  });

  it('a table with a hostile name can be created, filled and read', async () => {
    const name = `${uniqueName('t')} "; drop table x; --`;
    const table = sql.Identifier(name);
    await conn().query(sql.SQL('create temp table {} ({} int)').format(table, sql.Identifier('the "col"')));
    await conn().query(sql.SQL('insert into {} values ($1)').format(table), [7]);
    const result = await conn().query(sql.SQL('select {} as v from {}').format(sql.Identifier('the "col"'), table));
    expect(result.rows).toEqual([{ v: 7 }]);
  });
});

describe('Literal', () => {
  it('renders values as psycopg does: numbers bare, strings quoted, NULL, booleans', () => {
    expect(sql.Literal(42).asString()).toBe('42');
    expect(sql.Literal(-5).asString()).toBe(' -5');
    expect(sql.Literal(10n ** 20n).asString()).toBe('100000000000000000000');
    expect(sql.Literal("O'Reilly").asString()).toBe("'O''Reilly'");
    expect(sql.Literal(null).asString()).toBe('NULL');
    expect(sql.Literal(undefined).asString()).toBe('NULL');
    expect(sql.Literal(true).asString()).toBe('true');
    expect(sql.Literal(false).asString()).toBe('false');
    expect(sql.Literal(1.5).asString()).toBe("'1.5'::float8");
    expect(sql.Literal(NaN).asString()).toBe("'NaN'::float8");
    expect(sql.Literal(new Date('2020-01-02T03:04:05.678Z')).asString()).toMatch(/^'2020-01-02 03:04:05\.678\+00(:00)?'::timestamptz$/);
    // arrays and JSON go untyped, as parameters do: the column (uuid[], an enum[], jsonb) types them
    expect(sql.Literal([1, 2, null]).asString()).toBe("'{1,2,NULL}'");
    expect(sql.Literal(['a', 'b c']).asString()).toBe(`'{"a","b c"}'`);
    expect(sql.Literal([1n, 2n]).asString()).toBe("'{1,2}'::int8[]");
    expect(sql.Literal(Buffer.from([0, 255])).asString()).toBe("'\\x00ff'::bytea");
    expect(sql.Literal({ a: 1 }).asString()).toBe(`'{"a":1}'`);
  });

  it('what it renders reads back as the value itself', async () => {
    const values: unknown[] = [42, -5, 2.5, -0.125, "it's \\ a \"test\"", null, true, false, Buffer.from('hi'), 2n ** 62n];
    const text = sql.SQL('select {}').format(sql.SQL(', ').join(values.map((v) => sql.Literal(v))));
    const result = await conn().query(text, undefined, { rowFactory: 'tuple' });
    expect(result.rows[0]).toEqual(values);
    const date = new Date('2021-06-07T08:09:10.123Z');
    const dated = await conn().query(sql.SQL('select {} as d').format(sql.Literal(date)));
    expect(dated.rows[0].d).toEqual(date);
    // untyped ones, where the context types them
    const typed = await conn().query(
      sql.SQL('select {}::int[] as a, {}::text[] as b, {}::jsonb as c, {}::json as d').format([1, 2, null], ['a', "b'c", null], { k: [1, 'x'] }, { k: [] }),
    );
    expect(typed.rows[0]).toEqual({ a: [1, 2, null], b: ['a', "b'c", null], c: { k: [1, 'x'] }, d: { k: [] } });
  });

  it('a minus after a minus does not start a comment', async () => {
    const result = await conn().query(sql.SQL('select 1 -{} as v').format(sql.Literal(-1)));
    expect(result.rows).toEqual([{ v: 2 }]);
  });

  it('follows the connection: standard_conforming_strings off gives E strings', async () => {
    const other = await connectTest({ autocommit: true });
    try {
      const literal = sql.Literal('back\\slash');
      expect(literal.asString(other)).toBe("'back\\slash'");
      await other.query('set standard_conforming_strings = off');
      expect(literal.asString(other)).toBe(" E'back\\\\slash'");
      const result = await other.query(sql.SQL('select {} as v').format(literal));
      expect(result.rows[0].v).toBe('back\\slash');
    } finally {
      await other.close();
    }
  });

  it("uses the connection's adapters, and refuses what cannot be adapted", async () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    }
    const other = await connectTest({ autocommit: true });
    try {
      types.setAdapter(Point, (p) => `(${p.x},${p.y})`, { conn: other });
      expect(sql.Literal(new Point(1, 2)).asString(other)).toBe("'(1,2)'");
      expect(thrown(() => sql.Literal(new Point(1, 2)).asString())).toBeInstanceOf(errors.ProgrammingError);
      const result = await other.query(sql.SQL('select {}::point as p').format(sql.Literal(new Point(1, 2))));
      expect(result.rows[0].p).toEqual({ x: 1, y: 2 });
    } finally {
      await other.close();
    }
    expect(thrown(() => sql.Literal('a\u0000b').asString())).toBeInstanceOf(errors.Error);
  });
});

describe('Placeholder', () => {
  it('renders %s and %(name)s for cursors', async () => {
    expect(sql.Placeholder().asString()).toBe('%s');
    expect(sql.Placeholder('id').asString()).toBe('%(id)s');
    const q = sql.SQL('select {}::int + {}::int').format(sql.Placeholder(), sql.Placeholder());
    const cur = await conn().execute(q, [1, 2]);
    expect(await cur.fetchone()).toEqual([3]);
    const names = ['a', 'b'];
    const named = sql.SQL('select {}').format(sql.SQL(', ').join(names.map((n) => sql.SQL('{}::text as {}').format(sql.Placeholder(n), sql.Identifier(n)))));
    const cur2 = await conn().cursor({ rowFactory: 'object' }).execute(named, { a: 'x', b: 'y' });
    expect(await cur2.fetchone()).toEqual({ a: 'x', b: 'y' });
  });

  it('refuses bad names', () => {
    expect(thrown(() => sql.Placeholder(''))).toBeInstanceOf(errors.ProgrammingError);
    expect(thrown(() => sql.Placeholder('a)b'))).toBeInstanceOf(errors.ProgrammingError);
  });

  it('a wrong count of parameters is refused before anything is sent', async () => {
    const q = sql.SQL('select {}').format(sql.Placeholder());
    await expect(conn().execute(q, [1, 2])).rejects.toBeInstanceOf(errors.ProgrammingError);
  });
});

describe('sql.query tagged template', () => {
  it('values become $n parameters, pieces are inlined', async () => {
    const table = await makeTable(conn(), 'id int, name text', { prefix: 'tq', temp: true });
    await conn().query(`insert into ${table} values (1, 'one'), (2, 'two')`);
    const id = 2;
    const q = sql.query`select name from ${sql.Identifier(table)} where id = ${id} and name <> ${"x'y"}`;
    expect(q.text).toBe(`select name from "${table}" where id = $1 and name <> $2`);
    expect(q.values).toEqual([2, "x'y"]);
    const result = await conn().query(q);
    expect(result.rows).toEqual([{ name: 'two' }]);
    const cur = await conn().execute(q);
    expect(await cur.fetchall()).toEqual([['two']]);
    const cur2 = await conn().cursor().execute(q);
    expect(cur2.query).toBe(q.text);
  });

  it('nested queries are renumbered', async () => {
    const where = sql.query`id > ${1} and id < ${10}`;
    // numbers go untyped: generate_series(unknown, unknown) would be ambiguous without the casts
    const q = sql.query`select count(*)::int as n from generate_series(${0}::int, ${20}::int) id where ${where} and id <> ${5}`;
    expect(q.text).toBe('select count(*)::int as n from generate_series($1::int, $2::int) id where id > $3 and id < $4 and id <> $5');
    expect((await conn().query(q)).rows).toEqual([{ n: 7 }]);
  });

  it('values are never spliced into the text', async () => {
    const hostile = "'; select pg_sleep(10); --";
    const result = await conn().query(sql.query`select ${hostile}::text as v`);
    expect(result.rows).toEqual([{ v: hostile }]);
  });

  it('refuses extra params, placeholders inside it, and being called as a function', async () => {
    await expect(conn().query(sql.query`select ${1}`, [2])).rejects.toBeInstanceOf(errors.ProgrammingError);
    await expect(conn().execute(sql.query`select ${1}`, [2])).rejects.toBeInstanceOf(errors.ProgrammingError);
    expect(thrown(() => sql.query`select ${sql.Placeholder()}`.text)).toBeInstanceOf(errors.ProgrammingError);
    expect(thrown(() => (sql.query as unknown as (s: string) => unknown)('select 1'))).toBeInstanceOf(errors.ProgrammingError);
    expect(thrown(() => (sql.query as unknown as (s: string[]) => unknown)(['x']))).toBeInstanceOf(errors.ProgrammingError);
  });
});

describe('composed objects where queries are taken', () => {
  it('conn.query with native $n params, copyTo and copyFrom', async () => {
    const result = await conn().query(sql.SQL('select $1::int * {} as v').format(sql.Literal(3)), [5]);
    expect(result.rows).toEqual([{ v: 15 }]);
    const table = uniqueName('tc');
    await conn().query(sql.SQL('create temp table {} (v int)').format(sql.Identifier(table)));
    expect(await conn().copyFrom(sql.SQL('copy {} from stdin').format(sql.Identifier(table)), '1\n2\n')).toBe(2);
    const chunks: Buffer[] = [];
    for await (const chunk of conn().copyTo(sql.SQL('copy {} to stdout').format(sql.Identifier(table)))) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('1\n2\n');
  });

  it('mogrify takes them too', () => {
    const cur = conn().cursor();
    expect(cur.mogrify(sql.SQL('select {}, %s').format(sql.Identifier('a')), ['x'])).toBe(`select "a", 'x'`);
  });
});
