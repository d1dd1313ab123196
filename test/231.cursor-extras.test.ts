// Client cursor: scroll, arraysize, description's table columns, callproc and
// executemany with returning.
import { describe, expect, it } from 'vitest';
import { errors, sql } from '../lib';
import { uniqueName, rejectionOf as rejection, thrownBy as thrown, sharedConnection, makeTable } from './helpers';

const conn = sharedConnection({ autocommit: true });

describe('scroll', () => {
  it('moves relative (the default) and absolute within the result', async () => {
    const cur = await conn().execute('select g from generate_series(1, 5) g');
    cur.scroll(2);
    expect(await cur.fetchone()).toEqual([3]);
    cur.scroll(-2, 'relative');
    expect(cur.rownumber).toBe(1);
    expect(await cur.fetchone()).toEqual([2]);
    cur.scroll(4, 'absolute');
    expect(await cur.fetchall()).toEqual([[5]]);
    cur.scroll(0, 'absolute');
    expect(await cur.fetchmany(2)).toEqual([[1], [2]]);
    cur.scroll(5, 'absolute');
    expect(await cur.fetchone()).toBeNull();
  });

  it('out of bounds, a bad mode or no result is a ProgrammingError and does not move', async () => {
    const cur = await conn().execute('select g from generate_series(1, 3) g');
    cur.scroll(1);
    expect(thrown(() => cur.scroll(-2))).toBeInstanceOf(errors.ProgrammingError);
    expect(thrown(() => cur.scroll(4, 'absolute'))).toBeInstanceOf(errors.ProgrammingError);
    expect(thrown(() => cur.scroll(1, 'sideways' as 'absolute'))).toBeInstanceOf(errors.ProgrammingError);
    expect(thrown(() => cur.scroll(0.5))).toBeInstanceOf(errors.ProgrammingError);
    expect(cur.rownumber).toBe(1);
    const empty = conn().cursor();
    expect(thrown(() => empty.scroll(0))).toBeInstanceOf(errors.ProgrammingError);
  });
});

describe('arraysize and description', () => {
  it('fetchmany() without a size fetches arraysize rows', async () => {
    const cur = await conn().execute('select g from generate_series(1, 10) g');
    expect(cur.arraysize).toBe(1);
    expect(await cur.fetchmany()).toEqual([[1]]);
    cur.arraysize = 4;
    expect(await cur.fetchmany()).toEqual([[2], [3], [4], [5]]);
    cur.arraysize = -1;
    await expect(cur.fetchmany()).rejects.toBeInstanceOf(errors.ProgrammingError);
  });

  it('description has the table OID and column number of table columns', async () => {
    const table = await makeTable(conn(), 'a int, b text', { prefix: 'desc', temp: true });
    const cur = await conn().execute(`select b, a, 1 as c from ${table}`);
    const oid = (await conn().query<{ oid: number }>(`select '${table}'::regclass::oid as oid`)).rows[0].oid;
    const [b, a, c] = cur.description!;
    expect([b.tableOid, b.tableColumn]).toEqual([oid, 2]);
    expect([a.tableOid, a.tableColumn]).toEqual([oid, 1]);
    expect([c.tableOid, c.tableColumn]).toEqual([null, null]);
  });
});

describe('callproc', () => {
  it('calls a function with positional and named arguments and returns the params', async () => {
    const fn = uniqueName('fn');
    await conn().query(`create function pg_temp.${fn}(a int, b text default 'x') returns table (n int, s text) language sql as $$ select a * 2, b || b $$`);
    const cur = conn().cursor();
    const params = [21, 'ab'];
    expect(await cur.callproc(`pg_temp.${fn}`, params)).toBe(params);
    expect(await cur.fetchall()).toEqual([[42, 'abab']]);
    await cur.callproc(`pg_temp.${fn}`, { a: 1 });
    expect(await cur.fetchone()).toEqual([2, 'xx']);
    expect(cur.query).toBe(`SELECT * FROM pg_temp.${fn}("a" => $1)`);
    await cur.callproc(sql.Identifier('pg_catalog', 'now'));
    expect(cur.description!.length).toBe(1);
  });

  it('refuses odd names and params before sending; server errors map as usual', async () => {
    const cur = conn().cursor();
    await expect(cur.callproc('now(); drop table x; --')).rejects.toBeInstanceOf(errors.ProgrammingError);
    await expect(cur.callproc('now', 3 as unknown as unknown[])).rejects.toBeInstanceOf(errors.ProgrammingError);
    const error = await rejection(cur.callproc(uniqueName('nofn'), [1]));
    expect(error).toBeInstanceOf(errors.UndefinedFunction);
  });
});

describe('executemany returning', () => {
  it('keeps the result of each execution, read through nextset()', async () => {
    const table = await makeTable(conn(), 'id serial primary key, name text', { prefix: 'emr', temp: true });
    const cur = conn().cursor();
    await cur.executemany(`insert into ${table} (name) values (%s) returning id, name`, [['a'], ['b'], ['c']], { returning: true });
    expect(cur.rowcount).toBe(3);
    const seen: unknown[] = [];
    do {
      seen.push(...(await cur.fetchall()));
    } while (cur.nextset());
    expect(seen).toEqual([
      [1, 'a'],
      [2, 'b'],
      [3, 'c'],
    ]);
  });

  it('without returning there is nothing to fetch', async () => {
    const table = await makeTable(conn(), 'id int', { prefix: 'emn', temp: true });
    const cur = conn().cursor();
    await cur.executemany(`insert into ${table} values (%s) returning id`, [[1], [2]]);
    expect(cur.rowcount).toBe(2);
    await expect(cur.fetchone()).rejects.toBeInstanceOf(errors.ProgrammingError);
    expect(cur.nextset()).toBe(false);
  });
});
