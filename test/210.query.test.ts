import { describe, expect, it } from 'vitest';
import { errors, type Connection, type Field, Result } from '../lib';
import { connectTest, uniqueName, rejectionOf, sharedConnection, makeTable } from './helpers';
import { coreOf } from '../lib/core/interface';

const THIS_FILE = '210.query.test';

const conn = sharedConnection({ autocommit: true });

async function expectUsable(c: Connection = conn()): Promise<void> {
  const result = await c.query('select $1::int + 1 as n', [41]);
  expect(result.rows).toEqual([{ n: 42 }]);
}

describe('rows', () => {
  it('are objects keyed by column name by default', async () => {
    const result = await conn().query("select 1 as a, 'x'::text as b, null::int as c");
    expect(result).toBeInstanceOf(Result);
    expect(result.rows).toEqual([{ a: 1, b: 'x', c: null }]);
    expect(Object.getPrototypeOf(result.rows[0])).toBe(Object.prototype);
    expect(Object.keys(result.rows[0] as object)).toEqual(['a', 'b', 'c']);
  });

  it('keep the server order of many rows', async () => {
    const result = await conn().query('select g as n, g * 2 as twice from generate_series(1, 1000) g order by g');
    expect(result.rows).toHaveLength(1000);
    expect(result.rowCount).toBe(1000);
    result.rows.forEach((row, i) => expect(row).toEqual({ n: i + 1, twice: 2 * (i + 1) }));
  });

  it("are arrays with rowFactory 'tuple'", async () => {
    const result = await conn().query<unknown[]>('select 1 as a, 2 as b union all select 3, 4', [], { rowFactory: 'tuple' });
    expect(result.rows).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(Array.isArray(result.rows[0])).toBe(true);
  });

  it("are arrays readable by name with rowFactory 'named'", async () => {
    const result = await conn().query<unknown[] & { a: number; b: string }>("select 1 as a, 'two' as b", [], { rowFactory: 'named' });
    const row = result.rows[0];
    expect(Array.isArray(row)).toBe(true);
    expect(row[0]).toBe(1);
    expect(row[1]).toBe('two');
    expect(row.a).toBe(1);
    expect(row.b).toBe('two');
    expect(row.length).toBe(2);
    expect([...row]).toEqual([1, 'two']);
  });

  it('named rows of different queries do not share column names', async () => {
    const first = await conn().query<unknown[] & Record<string, unknown>>('select 1 as x', [], { rowFactory: 'named' });
    const second = await conn().query<unknown[] & Record<string, unknown>>('select 2 as y', [], { rowFactory: 'named' });
    expect(first.rows[0].x).toBe(1);
    expect(second.rows[0].y).toBe(2);
    expect(second.rows[0].x).toBeUndefined();
  });

  it('are made by a function rowFactory given the fields', async () => {
    const seen: string[][] = [];
    const factory = (fields: readonly Field[]) => {
      seen.push(fields.map((f) => f.name));
      return (values: unknown[]) => new Map(fields.map((f, i) => [f.name, values[i]]));
    };
    const result = await conn().query<Map<string, unknown>>("select 7 as seven, 'x' as ex union all select 8, 'y'", [], { rowFactory: factory });
    expect(seen).toEqual([['seven', 'ex']]);
    expect(result.rows).toHaveLength(2);
    expect(result.rows[0]).toBeInstanceOf(Map);
    expect([...result.rows[0]]).toEqual([
      ['seven', 7],
      ['ex', 'x'],
    ]);
    expect(result.rows[1].get('seven')).toBe(8);
  });

  it('follow the rowFactory given to connect(), a per-query one winning', async () => {
    const tuples = await connectTest({ autocommit: true, rowFactory: 'tuple' });
    try {
      expect((await tuples.query('select 1 as a, 2 as b')).rows).toEqual([[1, 2]]);
      expect((await tuples.query('select 1 as a, 2 as b', [], { rowFactory: 'object' })).rows).toEqual([{ a: 1, b: 2 }]);
      expect((await tuples.query('select 3 as a')).rows).toEqual([[3]]);
    } finally {
      await tuples.close();
    }
    const custom = await connectTest({
      autocommit: true,
      rowFactory: (fields) => (values) => Object.fromEntries(fields.map((f, i) => [f.name.toUpperCase(), values[i]])),
    });
    try {
      expect((await custom.query('select 1 as a')).rows).toEqual([{ A: 1 }]);
    } finally {
      await custom.close();
    }
  });

  it('reject an unknown rowFactory', async () => {
    const error = await rejectionOf(conn().query('select 1', [], { rowFactory: 'dict' as never }));
    expect(error).toBeInstanceOf(errors.ProgrammingError);
    await expect(connectTest({ rowFactory: 'dict' as never })).rejects.toBeInstanceOf(errors.ProgrammingError);
    await expectUsable();
  });

  it('give the later of duplicate column names as objects, every value as tuples', async () => {
    const objects = await conn().query('select 1 as a, 2 as a, 3 as b, 4 as a');
    expect(objects.rows).toEqual([{ a: 4, b: 3 }]);
    const tuples = await conn().query('select 1 as a, 2 as a', [], { rowFactory: 'tuple' });
    expect(tuples.rows).toEqual([[1, 2]]);
    expect(tuples.fields.map((f) => f.name)).toEqual(['a', 'a']);
  });

  it('make a column named __proto__ an own property, leaving the prototype alone', async () => {
    const result = await conn().query(`select 1 as "__proto__", 2 as "constructor", 3 as "toString", 4 as "hasOwnProperty"`);
    const row = result.rows[0] as Record<string, unknown>;
    expect(Object.prototype.hasOwnProperty.call(row, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toBe(1);
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(row.constructor).toBe(2);
    expect(row.toString).toBe(3);
    expect(row.hasOwnProperty).toBe(4);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a __proto__ column holding json does not change the row prototype', async () => {
    const result = await conn().query(`select '{"polluted": true}'::json as "__proto__"`);
    const row = result.rows[0] as Record<string, unknown>;
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(row.polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keep column names with quotes, spaces, unicode and empty-looking names', async () => {
    const result = await conn().query(`select 1 as "a b", 2 as "quo""te", 3 as "ñ€😀", 4 as "1", 5 as "?column?"`);
    expect(result.rows[0]).toEqual({ 'a b': 1, 'quo"te': 2, 'ñ€😀': 3, '1': 4, '?column?': 5 });
    const anonymous = await conn().query('select 1, 2');
    expect(anonymous.fields.map((f) => f.name)).toEqual(['?column?', '?column?']);
    expect(anonymous.rows).toEqual([{ '?column?': 2 }]);
  });
});

describe('Result', () => {
  it('describes fields: name, typeOid, tableOid, columnId, typeSize, typeModifier, format', async () => {
    const table = await makeTable(conn(), 'id int4 primary key, label varchar(12), price numeric(10, 2)', { prefix: 'fields', temp: true });
    await conn().query(`insert into ${table} values (1, 'one', 1.5)`);
    const tableOid = (await conn().query<{ oid: number }>(`select '${table}'::regclass::oid as oid`)).rows[0].oid;
    expect(tableOid).toBeGreaterThan(0);
    const result = await conn().query(`select id, label, price, 1::int8 as computed from ${table}`);
    expect(result.fields.map((f) => f.name)).toEqual(['id', 'label', 'price', 'computed']);
    const [id, label, price, computed] = result.fields;
    expect(id).toMatchObject({ name: 'id', typeOid: 23, tableOid, columnId: 1, typeSize: 4, format: 0 });
    expect(label).toMatchObject({ name: 'label', typeOid: 1043, tableOid, columnId: 2, typeSize: -1, typeModifier: 12 + 4 });
    expect(price).toMatchObject({ name: 'price', typeOid: 1700, tableOid, columnId: 3, typeModifier: ((10 << 16) | 2) + 4 });
    expect(computed).toMatchObject({ name: 'computed', typeOid: 20, tableOid: 0, columnId: 0, typeSize: 8, typeModifier: -1 });
    expect(result.rows).toEqual([{ id: 1, label: 'one', price: '1.50', computed: 1n }]);
  });

  it('reports rowCount, command and statusMessage for DML', async () => {
    const table = uniqueName('dml');
    const create = await conn().query(`create temp table ${table} (id int primary key, v text)`);
    expect(create.command).toBe('CREATE TABLE');
    expect(create.statusMessage).toBe('CREATE TABLE');
    expect(create.rowCount).toBeNull();
    expect(create.rows).toEqual([]);
    expect(create.fields).toEqual([]);

    const insert = await conn().query(`insert into ${table} values (1, 'a'), (2, 'b'), (3, 'c')`);
    expect(insert.command).toBe('INSERT');
    expect(insert.statusMessage).toBe('INSERT 0 3');
    expect(insert.rowCount).toBe(3);
    expect(insert.rows).toEqual([]);

    const returning = await conn().query(`insert into ${table} values ($1, $2) returning id, v`, [4, 'd']);
    expect(returning.command).toBe('INSERT');
    expect(returning.statusMessage).toBe('INSERT 0 1');
    expect(returning.rowCount).toBe(1);
    expect(returning.rows).toEqual([{ id: 4, v: 'd' }]);

    const update = await conn().query(`update ${table} set v = upper(v) where id >= $1`, [2]);
    expect(update.command).toBe('UPDATE');
    expect(update.statusMessage).toBe('UPDATE 3');
    expect(update.rowCount).toBe(3);

    const noUpdate = await conn().query(`update ${table} set v = v where id > 100`);
    expect(noUpdate.rowCount).toBe(0);
    expect(noUpdate.statusMessage).toBe('UPDATE 0');

    const select = await conn().query(`select * from ${table} order by id`);
    expect(select.command).toBe('SELECT');
    expect(select.statusMessage).toBe('SELECT 4');
    expect(select.rowCount).toBe(4);
    expect(select.rows).toEqual([
      { id: 1, v: 'a' },
      { id: 2, v: 'B' },
      { id: 3, v: 'C' },
      { id: 4, v: 'D' },
    ]);

    const del = await conn().query(`delete from ${table} where id in (1, 2)`);
    expect(del.command).toBe('DELETE');
    expect(del.statusMessage).toBe('DELETE 2');
    expect(del.rowCount).toBe(2);

    const drop = await conn().query(`drop table ${table}`);
    expect(drop.command).toBe('DROP TABLE');
    expect(drop.rowCount).toBeNull();
  });

  it('reports null rowCount for utility commands', async () => {
    const set = await conn().query('set application_name = $$pqnode-21$$');
    expect(set.command).toBe('SET');
    expect(set.rowCount).toBeNull();
    const show = await conn().query('show application_name');
    expect(show.rows).toEqual([{ application_name: 'pqnode-21' }]);
    expect(show.command).toBe('SHOW');
    const begin = await conn().query('begin');
    expect(begin.command).toBe('BEGIN');
    expect(begin.rowCount).toBeNull();
    const commit = await conn().query('commit');
    expect(commit.command).toBe('COMMIT');
  });

  it('a query returning no rows still has its fields', async () => {
    const result = await conn().query('select 1 as a, $1::text as b where false', ['x']);
    expect(result.rows).toEqual([]);
    expect(result.rowCount).toBe(0);
    expect(result.command).toBe('SELECT');
    expect(result.statusMessage).toBe('SELECT 0');
    expect(result.fields.map((f) => [f.name, f.typeOid])).toEqual([
      ['a', 23],
      ['b', 25],
    ]);
  });

  it('object rows are made in C++ only where every column is final', async () => {
    const made = async (text: string) => (await coreOf(conn()).run(text, undefined, undefined, undefined, undefined, true))[0];
    const plain = await made("select 1 as a, 'x'::text as b, 2.5::numeric as c, now() as d");
    expect(plain.objectRows).toBe(true);
    expect(plain.rows[0]).toEqual({ a: 1, b: 'x', c: '2.5', d: expect.any(Date) });
    // json, arrays and unknown types are cast in JS: those rows stay arrays for it
    for (const text of [`select '{"k":1}'::json as j`, 'select array[1,2] as a', "select '(1,2)'::point as p"]) {
      expect((await made(text)).objectRows).toBe(false);
    }
    const viaQuery = await conn().query(`select 1 as n, '{"k":1}'::json as j, array[1,2] as a`);
    expect(viaQuery.rows).toEqual([{ n: 1, j: { k: 1 }, a: [1, 2] }]);
    // not asked for: arrays, whatever the columns
    expect((await coreOf(conn()).run('select 1 as a', undefined))[0].objectRows).toBe(false);
  });

  it('a typecaster set on the connection turns object rows for its type back to JS', async () => {
    const own = await connectTest();
    try {
      const before = await own.query('select 7 as n, $1::text as t', ['x']);
      expect(before.rows).toEqual([{ n: 7, t: 'x' }]);
      own.typecasters.set('int4', (text) => `int:${text}`);
      own.typecasters.set('text', (text) => text.toUpperCase());
      const after = await own.query('select 7 as n, $1::text as t', ['x']);
      expect(after.rows).toEqual([{ n: 'int:7', t: 'X' }]);
      expect(own.typecasters.delete(23)).toBe(true);
      expect(own.typecasters.delete(25)).toBe(true);
      expect((await own.query('select 7 as n, $1::text as t', ['x'])).rows).toEqual([{ n: 7, t: 'x' }]);
    } finally {
      await own.close();
    }
  });

  it('results describing the same columns share one frozen list of fields', async () => {
    const first = await conn().query('select $1::int as n, $2::text as t', [1, 'a']);
    const second = await conn().query('select $1::int as n, $2::text as t', [2, 'b']);
    expect(second.fields).toBe(first.fields);
    expect(Object.isFrozen(first.fields)).toBe(true);
    expect(Object.isFrozen(first.fields[0])).toBe(true);
    expect(() => (first.fields as Field[]).push(first.fields[0])).toThrow(TypeError);
    // a name, a type or a modifier apart is another list
    const renamed = await conn().query('select $1::int as m, $2::text as t', [1, 'a']);
    const retyped = await conn().query('select $1::int8 as n, $2::text as t', [1, 'a']);
    const modified = await conn().query('select $1::numeric(5,1) as n, $2::text as t', [1, 'a']);
    for (const other of [renamed, retyped, modified]) expect(other.fields).not.toBe(first.fields);
    expect(renamed.fields[0].name).toBe('m');
    expect(retyped.fields[0].typeOid).toBe(20);
    expect(modified.fields[0].typeModifier).toBe(327685);
    // more statements than the cache holds, then the first again: still the same description
    for (let i = 0; i < 6; i++) await conn().query(`select $1::int as c${i}`, [i]);
    const again = await conn().query('select $1::int as n, $2::text as t', [3, 'c']);
    expect(again.fields.map((f) => [f.name, f.typeOid])).toEqual([
      ['n', 23],
      ['t', 25],
    ]);
  });

  it('a select of no columns gives empty rows', async () => {
    const result = await conn().query('select from generate_series(1, 3)');
    expect(result.fields).toEqual([]);
    expect(result.rows).toEqual([{}, {}, {}]);
    expect(result.rowCount).toBe(3);
  });

  it('an empty query gives an empty result', async () => {
    for (const text of ['', '   ', '-- only a comment', ';']) {
      const result = await conn().query(text);
      expect(result.rows).toEqual([]);
      expect(result.fields).toEqual([]);
      expect(result.rowCount).toBeNull();
      expect(result.command).toBe('');
    }
    await expectUsable();
  });
});

describe('multi-statement text', () => {
  it('without parameters runs every statement and returns the last result', async () => {
    const table = uniqueName('multi');
    const result = await conn().query(
      `create temp table ${table} (id int); insert into ${table} values (1), (2); insert into ${table} values (3); select count(*)::int as n, sum(id)::int as s from ${table}`,
    );
    expect(result.rows).toEqual([{ n: 3, s: 6 }]);
    expect(result.command).toBe('SELECT');
    expect(result.rowCount).toBe(1);
    const after = await conn().query(`select array_agg(id order by id) as ids from ${table}`);
    expect(after.rows).toEqual([{ ids: [1, 2, 3] }]);
  });

  it('returns the last statement even when it is not a select', async () => {
    const table = uniqueName('multi');
    const result = await conn().query(`create temp table ${table} (id int); select 1; insert into ${table} values (1), (2)`);
    expect(result.command).toBe('INSERT');
    expect(result.rowCount).toBe(2);
    expect(result.rows).toEqual([]);
  });

  it('keeps semicolons inside literals, identifiers and dollar quotes', async () => {
    const result = await conn().query(`select 'a;b' as "x;y", $tag$c;d$tag$ as z`);
    expect(result.rows).toEqual([{ 'x;y': 'a;b', z: 'c;d' }]);
  });

  it('stops at the first failing statement and rejects', async () => {
    const table = await makeTable(conn(), 'id int', { prefix: 'multi', temp: true });
    const error = await rejectionOf(conn().query(`insert into ${table} values (1); select 1/0; insert into ${table} values (2)`));
    expect(error).toBeInstanceOf(errors.DivisionByZero);
    // a multi-statement simple query runs as one implicit transaction: all of it rolled back
    const rows = await conn().query(`select count(*)::int as n from ${table}`);
    expect(rows.rows).toEqual([{ n: 0 }]);
    await expectUsable();
  });

  it('with parameters is refused by the server', async () => {
    const error = await rejectionOf(conn().query('select $1::int; select 2', [1]));
    expect(error).toBeInstanceOf(errors.DatabaseError);
    expect(error).toBeInstanceOf(errors.SyntaxError);
    expect((error as errors.DatabaseError).sqlstate).toBe('42601');
    expect(error.message).toMatch(/multiple commands/);
    await expectUsable();
  });

  it('with an empty parameter array is sent with the extended protocol and refused', async () => {
    const error = await rejectionOf(conn().query('select 1; select 2', []));
    expect(error).toBeInstanceOf(errors.DatabaseError);
    expect((error as errors.DatabaseError).sqlstate).toBe('42601');
    await expectUsable();
  });
});

describe('server errors', () => {
  it('division by zero is DivisionByZero, a DataError, with its diagnostics', async () => {
    const error = (await rejectionOf(conn().query('select 1/0'))) as errors.DatabaseError;
    expect(error).toBeInstanceOf(errors.DivisionByZero);
    expect(error).toBeInstanceOf(errors.DataError);
    expect(error).toBeInstanceOf(errors.DatabaseError);
    expect(error).toBeInstanceOf(errors.Error);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('DivisionByZero');
    expect(error.sqlstate).toBe('22012');
    expect(error.diag.sqlstate).toBe('22012');
    expect(error.diag.messagePrimary).toBe('division by zero');
    expect(error.diag.severity).toBe('ERROR');
    expect(error.diag.severityNonlocalized).toBe('ERROR');
    expect(error.diag.sourceFunction).toEqual(expect.any(String));
    expect(error.diag.sourceFunction).not.toBe('');
    expect(error.diag.sourceFile).toEqual(expect.any(String));
    expect(error.message).toContain('division by zero');
    expect(error.message).not.toMatch(/\n$/);
    expect(error.query).toBe('select 1/0');
    expect(errors.lookup('22012')).toBe(errors.DivisionByZero);
    await expectUsable();
  });

  it('the stack reaches the line of the caller', async () => {
    const error = await rejectionOf(conn().query('select 1/0'));
    expect(error.stack).toContain(THIS_FILE);
    const error2 = await rejectionOf(conn().query('select $1::int', ['nope']));
    expect(error2).toBeInstanceOf(errors.InvalidTextRepresentation);
    expect(error2.stack).toContain(THIS_FILE);
  });

  it('a unique violation names the constraint, table, schema and detail', async () => {
    const table = uniqueName('uniq');
    await conn().query(`create temp table ${table} (id int constraint ${table}_pk primary key, v text)`);
    await conn().query(`insert into ${table} values (1, 'a')`);
    const text = `insert into ${table} values ($1, $2)`;
    const error = (await rejectionOf(conn().query(text, [1, 'b']))) as errors.DatabaseError;
    expect(error).toBeInstanceOf(errors.UniqueViolation);
    expect(error).toBeInstanceOf(errors.IntegrityError);
    expect(error.sqlstate).toBe('23505');
    expect(error.diag.constraintName).toBe(`${table}_pk`);
    expect(error.diag.tableName).toBe(table);
    expect(error.diag.schemaName).toMatch(/^pg_temp_\d+$/);
    expect(error.diag.messageDetail).toBe('Key (id)=(1) already exists.');
    expect(error.diag.messagePrimary).toContain(`${table}_pk`);
    expect(error.query).toBe(text);
    expect(error.stack).toContain(THIS_FILE);
    await expectUsable();
    const rows = await conn().query(`select * from ${table}`);
    expect(rows.rows).toEqual([{ id: 1, v: 'a' }]);
  });

  it('a not-null violation names the column', async () => {
    const table = await makeTable(conn(), 'id int, must text not null', { prefix: 'notnull', temp: true });
    const error = (await rejectionOf(conn().query(`insert into ${table} (id) values (1)`))) as errors.DatabaseError;
    expect(error).toBeInstanceOf(errors.NotNullViolation);
    expect(error).toBeInstanceOf(errors.IntegrityError);
    expect(error.sqlstate).toBe('23502');
    expect(error.diag.columnName).toBe('must');
    expect(error.diag.tableName).toBe(table);
    await expectUsable();
  });

  it('a syntax error is SyntaxError, a ProgrammingError, with the position', async () => {
    const text = 'select 1 frm nowhere';
    const error = (await rejectionOf(conn().query(text))) as errors.DatabaseError;
    expect(error).toBeInstanceOf(errors.SyntaxError);
    expect(error).toBeInstanceOf(errors.ProgrammingError);
    expect(error).not.toBeInstanceOf(errors.DataError);
    expect(error.sqlstate).toBe('42601');
    expect(error.diag.statementPosition).toBe(String(text.indexOf('nowhere') + 1));
    expect(error.query).toBe(text);
    await expectUsable();
  });

  it('the errors.SyntaxError class does not replace the global SyntaxError', () => {
    expect(errors.SyntaxError).not.toBe(globalThis.SyntaxError);
    expect(new globalThis.SyntaxError('x')).not.toBeInstanceOf(errors.Error);
  });

  it('an undefined table is UndefinedTable with the position', async () => {
    const name = uniqueName('missing');
    const error = (await rejectionOf(conn().query(`select * from ${name}`))) as errors.DatabaseError;
    expect(error).toBeInstanceOf(errors.UndefinedTable);
    expect(error).toBeInstanceOf(errors.ProgrammingError);
    expect(error.sqlstate).toBe('42P01');
    expect(error.diag.statementPosition).toBe('15');
    expect(error.diag.messagePrimary).toBe(`relation "${name}" does not exist`);
  });

  it('a plpgsql exception carries hint, detail, context and its errcode', async () => {
    const text = `do $$ begin raise exception 'custom failure %', 42 using hint = 'h', detail = 'd', errcode = '22023'; end $$`;
    const error = (await rejectionOf(conn().query(text))) as errors.DatabaseError;
    expect(error).toBeInstanceOf(errors.InvalidParameterValue);
    expect(error).toBeInstanceOf(errors.DataError);
    expect(error.sqlstate).toBe('22023');
    expect(error.diag.messagePrimary).toBe('custom failure 42');
    expect(error.diag.messageHint).toBe('h');
    expect(error.diag.messageDetail).toBe('d');
    expect(error.diag.context).toMatch(/PL\/pgSQL function/);
    expect(error.diag.severity).toBe('ERROR');
    expect(error.message).toContain('custom failure 42');
    expect(error.query).toBe(text);
    await expectUsable();
  });

  it('an errcode without its own class falls back to its DB-API family', async () => {
    const error = (await rejectionOf(
      conn().query(`do $$ begin raise exception 'odd' using errcode = '22Z99'; end $$`),
    )) as errors.DatabaseError;
    expect(error).toBeInstanceOf(errors.DataError);
    expect(error.sqlstate).toBe('22Z99');
    expect(error.diag.sqlstate).toBe('22Z99');
  });

  it('fields the server did not send are undefined', async () => {
    const error = (await rejectionOf(conn().query('select 1/0'))) as errors.DatabaseError;
    expect(error.diag.messageHint).toBeUndefined();
    expect(error.diag.constraintName).toBeUndefined();
    expect(error.diag.columnName).toBeUndefined();
  });

  it('the connection stays usable after many consecutive errors', async () => {
    for (let i = 0; i < 20; i++) {
      await expect(conn().query('select 1/0')).rejects.toBeInstanceOf(errors.DivisionByZero);
    }
    await expectUsable();
    expect(conn().info.transactionStatus).toBe('idle');
  });

  it('a failed statement leaves a transaction in error until rollback (autocommit off)', async () => {
    const c = await connectTest({ autocommit: false });
    try {
      await c.query('select 1');
      await expect(c.query('select 1/0')).rejects.toBeInstanceOf(errors.DivisionByZero);
      expect(c.info.transactionStatus).toBe('inerror');
      const error = (await rejectionOf(c.query('select 1'))) as errors.DatabaseError;
      expect(error).toBeInstanceOf(errors.InFailedSqlTransaction);
      expect(error.sqlstate).toBe('25P02');
      await c.rollback();
      expect(c.info.transactionStatus).toBe('idle');
      await expectUsable(c);
    } finally {
      await c.close();
    }
  });
});

describe('results of every width', () => {
  // the row's values leave C++ as arguments: inline for a few columns, on the heap past
  // that, and past 256 columns element by element
  for (const columns of [1, 31, 32, 33, 256, 257, 1000]) {
    it(`${columns} columns, in one row and in three, as objects, tuples and named rows`, async () => {
      const list = Array.from({ length: columns }, (_, i) => (i % 3 === 2 ? `null::int as c${i}` : `g * ${i + 1} as c${i}`));
      const expected = (g: number) => Array.from({ length: columns }, (_, i) => (i % 3 === 2 ? null : g * (i + 1)));
      for (const count of [1, 3]) {
        const text = `select ${list.join(', ')} from generate_series(1, ${count}) g`;
        const objects = await conn().query<Record<string, number | null>>(text);
        const tuples = await conn().query<(number | null)[]>(text, undefined, { rowFactory: 'tuple' });
        const named = await conn().query<(number | null)[] & Record<string, number | null>>(text, undefined, { rowFactory: 'named' });
        for (const result of [objects, tuples, named]) {
          expect(result.rowCount).toBe(count);
          expect(result.fields.map((field) => field.name)).toEqual(list.map((_, i) => `c${i}`));
        }
        expect(objects.rows).toEqual(Array.from({ length: count }, (_, g) => Object.fromEntries(expected(g + 1).map((v, i) => [`c${i}`, v]))));
        expect(tuples.rows).toEqual(Array.from({ length: count }, (_, g) => expected(g + 1)));
        expect(named.rows.map((row) => [...row])).toEqual(Array.from({ length: count }, (_, g) => expected(g + 1)));
        expect(named.rows[count - 1][`c${columns - 1}`]).toBe(expected(count)[columns - 1]);
      }
    });
  }
});

describe('texts and parameters of every length', () => {
  // 1, 2, 3 and 4 bytes of UTF-8 (the last a surrogate pair in JS)
  const pieces = ['a', 'é', '€', '😀'];

  it('each parameter comes back whole, whatever character lands at the end of the inline storage', async () => {
    const lengths = [0, 1, 250, 251, 252, 253, 254, 255, 256, 257, 505, 506, 507, 508, 509, 510, 511, 512, 513, 4000, 70_000];
    const cases = pieces.flatMap((piece) => lengths.map((length) => `${'x'.repeat(length)}${piece}y`));
    for (const prepare of [false, true]) {
      const results = await Promise.all(
        cases.map((value) => conn().query<{ v: string; n: number }>('select $1::text as v, octet_length($1::text) as n', [value], { prepare })),
      );
      results.forEach((result, i) => {
        expect(result.rows[0].v).toBe(cases[i]);
        expect(result.rows[0].n).toBe(Buffer.byteLength(cases[i]));
      });
    }
  });

  it('many parameters of mixed kinds, long ones among them, each keep their own value', async () => {
    const values = [
      'x'.repeat(600),
      'second',
      null,
      Buffer.from([0, 1, 2, 255]),
      'é'.repeat(300),
      '',
      '😀'.repeat(200),
      'eighth',
      'ninth',
      null,
      'z'.repeat(5000),
      'last',
    ];
    const text = `select ${values.map((value, i) => (Buffer.isBuffer(value) ? `$${i + 1}::bytea as p${i + 1}` : `$${i + 1}::text as p${i + 1}`)).join(', ')}`;
    for (const prepare of [false, true]) {
      const result = await conn().query(text, values, { prepare });
      expect(Object.values(result.rows[0])).toEqual(values);
    }
  });

  it('statement texts come through whole, whatever character lands at the end of the inline storage', async () => {
    // "select '" is 8 bytes: the piece sits on each byte from 240 to 260
    const cases = pieces.flatMap((piece) => Array.from({ length: 21 }, (_, i) => `${'x'.repeat(232 + i)}${piece}`));
    const results = await Promise.all(cases.map((value) => conn().query<{ v: string }>(`select '${value}' as v`)));
    results.forEach((result, i) => expect(result.rows[0].v).toBe(cases[i]));
  });
});

describe('bad input', () => {
  it('a string parameter with a NUL byte is a DataError and nothing is sent', async () => {
    const promise = conn().query('select $1::text as v', ['a\u0000b']);
    expect(coreOf(conn()).pendingCommands()).toBe(0);
    const error = await rejectionOf(promise);
    expect(error).toBeInstanceOf(errors.DataError);
    expect(error.message).toContain('$1');
    expect(error.stack).toContain(THIS_FILE);
    await expectUsable();
  });

  it('a NUL character in the query text is refused, not cut short', async () => {
    const error = await rejectionOf(conn().query("select 'a\u0000b'"));
    expect(error).toBeInstanceOf(errors.Error);
    // refused by the client: no server error code
    expect((error as errors.Error).sqlstate).toBeUndefined();
    await expectUsable();
  });

  it('text after a NUL character is never silently dropped', async () => {
    const table = await makeTable(conn(), 'id int', { prefix: 'nul', temp: true });
    await conn().query(`insert into ${table} values (1), (2)`);
    const outcome = await conn().query(`delete from ${table}\u0000 where id = 1`).catch((e: unknown) => e);
    expect((await conn().query(`select count(*)::int as n from ${table}`)).rows).toEqual([{ n: 2 }]);
    expect(outcome).toBeInstanceOf(errors.Error);
    const short = await conn().query('select 1 as a\u0000, 2 as b').catch((e: unknown) => e);
    expect(short).toBeInstanceOf(errors.Error);
    await expectUsable();
  });

  it('a string parameter with a NUL byte in an array element is a DataError', async () => {
    const error = await rejectionOf(conn().query('select $1::text[] as v', [['ok', 'x\u0000y']]));
    expect(error).toBeInstanceOf(errors.DataError);
    await expectUsable();
  });

  it('fewer parameters than placeholders is a ProgrammingError naming both counts', async () => {
    for (const [text, params] of [
      ['select $1::int, $2::int', [1]],
      ['select $1, $2', ['a']],
      ['select $1::int as a', []],
    ] as const) {
      const error = await rejectionOf(conn().query(text, [...params]));
      expect(error).toBeInstanceOf(errors.ProgrammingError);
      // refused by the client: no server error code
      expect((error as errors.Error).sqlstate).toBeUndefined();
      expect((error as Error).message).toMatch(new RegExp(`takes \\d parameters? .* but ${params.length} parameters? (was|were) passed`));
      await expectUsable();
    }
  });

  it('an extra parameter is a ProgrammingError naming both counts', async () => {
    const error = await rejectionOf(conn().query('select $1::text as a', ['x', 'y']));
    expect(error).toBeInstanceOf(errors.ProgrammingError);
    expect((error as Error).message).toBe('the query takes 1 parameter ($1) but 2 parameters were passed');
    const none = await rejectionOf(conn().query('select 1', [1]));
    expect((none as Error).message).toBe('the query has no $n placeholder but 1 parameter was passed');
    await expectUsable();
  });

  it('a placeholder past the parameters given is a ProgrammingError', async () => {
    const error = await rejectionOf(conn().query('select $2::int', [1]));
    expect(error).toBeInstanceOf(errors.ProgrammingError);
    expect((error as Error).message).toBe('the query takes 2 parameters ($1 to $2) but 1 parameter was passed');
    await expectUsable();
  });

  it('a function or symbol parameter is a ProgrammingError naming it, and nothing is sent', async () => {
    const table = await makeTable(conn(), 'v text', { prefix: 'nosend', temp: true });
    for (const [position, params] of [
      [1, [() => 1]],
      [2, ['ok', Symbol('s')]],
      [1, [function named() {}]],
    ] as [number, unknown[]][]) {
      const placeholders = params.map((_, i) => `($${i + 1}::text)`).join(', ');
      const promise = conn().query(`insert into ${table} values ${placeholders}`, params);
      expect(coreOf(conn()).pendingCommands()).toBe(0);
      const error = await rejectionOf(promise);
      expect(error).toBeInstanceOf(errors.ProgrammingError);
      expect(error.message).toContain(`$${position}`);
      expect(error.stack).toContain(THIS_FILE);
    }
    expect((await conn().query(`select count(*)::int as n from ${table}`)).rows).toEqual([{ n: 0 }]);
    await expectUsable();
  });

  it('a bad parameter does not open a transaction (autocommit off)', async () => {
    const c = await connectTest({ autocommit: false });
    try {
      await expect(c.query('select $1', [() => 1])).rejects.toBeInstanceOf(errors.ProgrammingError);
      expect(coreOf(c).pendingCommands()).toBe(0);
      expect(c.info.transactionStatus).toBe('idle');
      await expectUsable(c);
      expect(c.info.transactionStatus).toBe('intrans');
      await c.rollback();
    } finally {
      await c.close();
    }
  });

  it('a circular object parameter is a ProgrammingError', async () => {
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    const error = await rejectionOf(conn().query('select $1::json', [circular]));
    expect(error).toBeInstanceOf(errors.ProgrammingError);
    expect(error.message).toContain('$1');
    await expectUsable();
  });

  it('an instance of an unknown class is a ProgrammingError', async () => {
    class Money {
      constructor(readonly cents: number) {}
    }
    const error = await rejectionOf(conn().query('select $1', [new Money(5)]));
    expect(error).toBeInstanceOf(errors.ProgrammingError);
    expect(error.message).toContain('Money');
    await expectUsable();
  });

  it('parameters that are not an array are a ProgrammingError', async () => {
    for (const params of ['x', 1, { 0: 'a', length: 1 }, new Set([1])]) {
      const error = await rejectionOf(conn().query('select $1::text', params as never));
      expect(error).toBeInstanceOf(errors.ProgrammingError);
    }
    await expectUsable();
  });

  it('null or undefined parameters mean none', async () => {
    expect((await conn().query('select 1 as a', undefined)).rows).toEqual([{ a: 1 }]);
    expect((await conn().query('select 1 as a', null as never)).rows).toEqual([{ a: 1 }]);
  });

  it('query text that is not a string is a TypeError', async () => {
    for (const text of [42, null, undefined, {}, ['select 1'], Buffer.from('select 1')]) {
      const error = await rejectionOf(conn().query(text as never));
      expect(error).toBeInstanceOf(TypeError);
    }
    await expectUsable();
  });

  it('a closed connection rejects with InterfaceError', async () => {
    const c = await connectTest({ autocommit: true });
    await c.close();
    const error = await rejectionOf(c.query('select 1'));
    expect(error).toBeInstanceOf(errors.InterfaceError);
  });

  it('queries still running when the connection closes reject with InterfaceError', async () => {
    const c = await connectTest({ autocommit: true });
    const running = c.query('select pg_sleep(5)');
    const queued = c.query('select 1');
    await new Promise((resolve) => setTimeout(resolve, 50));
    await c.close();
    await expect(running).rejects.toBeInstanceOf(errors.InterfaceError);
    await expect(queued).rejects.toBeInstanceOf(errors.InterfaceError);
  });
});

describe('signal', () => {
  it('an already-aborted signal rejects at once and sends nothing', async () => {
    const controller = new AbortController();
    const reason = new Error('stop right there');
    controller.abort(reason);
    const promise = conn().query('select pg_sleep(5)', [], { signal: controller.signal });
    expect(coreOf(conn()).pendingCommands()).toBe(0);
    const started = Date.now();
    const error = await rejectionOf(promise);
    expect(Date.now() - started).toBeLessThan(500);
    expect(error).toBe(reason);
    await expectUsable();
  });

  it('a signal that is no AbortSignal is refused with a TypeError, nothing sent', async () => {
    for (const signal of ['stop', 5, null, {}, { aborted: false }]) {
      const error = await rejectionOf(conn().query('select pg_sleep(5)', [], { signal: signal as unknown as AbortSignal }));
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toMatch(/signal must be an AbortSignal/);
    }
    expect(coreOf(conn()).pendingCommands()).toBe(0);
    await expectUsable();
  });

  it('an already-aborted signal without a reason rejects with an AbortError', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await rejectionOf(conn().query('select 1', [], { signal: controller.signal }));
    expect(error.name).toBe('AbortError');
  });

  it('aborting a running statement cancels it on the server', async () => {
    const c = await connectTest({ autocommit: true });
    try {
      const controller = new AbortController();
      const started = Date.now();
      const promise = c.query('select pg_sleep(5)', [], { signal: controller.signal });
      setTimeout(() => controller.abort(), 100);
      const error = (await rejectionOf(promise)) as errors.DatabaseError;
      const elapsed = Date.now() - started;
      expect(elapsed).toBeLessThan(2500);
      expect(error).toBeInstanceOf(errors.QueryCanceled);
      expect(error).toBeInstanceOf(errors.OperationalError);
      expect(error.sqlstate).toBe('57014');
      await expectUsable(c);
      expect(c.info.transactionStatus).toBe('idle');
    } finally {
      await c.close();
    }
  });

  it('aborting a statement pipelined behind another drops only that one, at once', async () => {
    const c = await connectTest({ autocommit: true });
    try {
      const controller = new AbortController();
      const started = Date.now();
      const first = c.query('select pg_sleep(0.3) as slept', []);
      const second = c.query('select 2 as n', [], { signal: controller.signal });
      const third = c.query('select 3 as n');
      setTimeout(() => controller.abort(), 50);
      // already sent behind the first: a cancel could hit another statement, so the caller
      // stops waiting at once and the statement's result is dropped when it comes
      const error = await rejectionOf(second);
      expect(error).toBe(controller.signal.reason);
      expect(Date.now() - started).toBeLessThan(250);
      await expect(first).resolves.toMatchObject({ rows: [{ slept: '' }] });
      expect((await third).rows).toEqual([{ n: 3 }]);
      expect(Date.now() - started).toBeLessThan(2500);
      await expectUsable(c);
    } finally {
      await c.close();
    }
  });

  it('aborting a query still waiting to be sent drops it at once', async () => {
    const c = await connectTest({ autocommit: true });
    try {
      const controller = new AbortController();
      const reason = new Error('not needed any more');
      // a multi-statement query goes alone: the next one waits in the client
      const simple = c.query('select pg_sleep(0.3); select 1 as n');
      const waiting = c.query('select 2 as n', [], { signal: controller.signal });
      const after = c.query('select 3 as n');
      const started = Date.now();
      setTimeout(() => controller.abort(reason), 20);
      const error = await rejectionOf(waiting);
      expect(error).toBe(reason);
      expect(Date.now() - started).toBeLessThan(250);
      expect((await simple).rows).toEqual([{ n: 1 }]);
      expect((await after).rows).toEqual([{ n: 3 }]);
      await expectUsable(c);
    } finally {
      await c.close();
    }
  });

  it('a cancel meant for a statement that finished first never hits the next one', async () => {
    const c = await connectTest({ autocommit: true });
    try {
      const controller = new AbortController();
      const first = c.query('select pg_sleep(0.2) as a');
      // the abort rejects it at once, long before `first` is done: handle that from the start
      const target = c.query('select 2 as n', [], { signal: controller.signal }).catch((error: unknown) => error);
      const bystander = c.query('select pg_sleep(0.5) as b, 3 as n');
      setTimeout(() => controller.abort(), 20);
      await first;
      expect(await target).toBe(controller.signal.reason);
      const result = await bystander;
      expect(result.rows).toEqual([{ b: '', n: 3 }]);
      await expectUsable(c);
    } finally {
      await c.close();
    }
  });

  it('a signal aborted after the query finished changes nothing', async () => {
    const controller = new AbortController();
    const result = await conn().query('select 1 as a', [], { signal: controller.signal });
    controller.abort();
    expect(result.rows).toEqual([{ a: 1 }]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expectUsable();
  });
});
