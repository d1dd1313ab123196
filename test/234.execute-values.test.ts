// cursor.executeValues(): many rows per statement, psycopg2's execute_values.
import { describe, expect, it } from 'vitest';
import { errors, sql } from '../lib';
import { makeTable, statementsLogged, sharedConnection } from './helpers';

const conn = sharedConnection({ autocommit: true });

const tableOf = (): Promise<string> => makeTable(conn(), 'id int primary key, name text, score float8', { prefix: 'ev', temp: true });

/** The statements the server runs for the connection while `fn` runs. */
const statementsOf = (fn: () => Promise<unknown>): Promise<string[]> => statementsLogged(conn(), fn);

describe('executeValues', () => {
  it('100k rows take one statement per page of 100', async () => {
    const table = await tableOf();
    const rows = Array.from({ length: 100_000 }, (_, i) => [i, `n${i}`, i / 2]);
    const cur = conn().cursor();
    const statements = await statementsOf(() => cur.executeValues(`insert into ${table} (id, name, score) values %s`, rows));
    expect(statements).toHaveLength(1000);
    expect(statements[0].startsWith(`insert into ${table} (id, name, score) values ($1, $2, $3),($4, $5, $6),`)).toBe(true);
    expect(cur.rowcount).toBe(100_000);
    const check = await conn().query(`select count(*)::int as n, sum(id)::bigint as s, max(name) filter (where id = 99999) as last from ${table}`);
    expect(check.rows).toEqual([{ n: 100_000, s: 4999950000n, last: 'n99999' }]);
  });

  it('a template with casts and named placeholders for objects; pageSize; fetch returns the rows', async () => {
    const table = await tableOf();
    const cur = conn().cursor({ rowFactory: 'object' });
    const rows = [
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
      { id: 3, name: 'c' },
    ];
    const statements = await statementsOf(async () => {
      const returned = await cur.executeValues(`insert into ${table} (id, name, score) values %s returning id, score`, rows, {
        template: '(%(id)s, %(name)s, %(id)s::float8 * 1.5)',
        pageSize: 2,
        fetch: true,
      });
      expect(returned).toEqual([
        { id: 1, score: 1.5 },
        { id: 2, score: 3 },
        { id: 3, score: 4.5 },
      ]);
    });
    expect(statements).toHaveLength(2);
    expect(statements[0]).toContain('($1, $2, $1::float8 * 1.5),($3, $4, $3::float8 * 1.5)');
  });

  it('works for UPDATE ... FROM (VALUES %s) and takes sql objects, %% for a percent', async () => {
    const table = await tableOf();
    await conn().query(`insert into ${table} (id, name) values (1, 'a'), (2, 'b')`);
    const cur = conn().cursor();
    await cur.executeValues(
      sql.SQL("update {} t set name = v.name || '%%' from (values %s) v(id, name) where t.id = v.id").format(sql.Identifier(table)),
      [
        [1, 'x'],
        [2, 'y'],
      ],
      { template: sql.SQL('({}::int, {})').format(sql.Placeholder(), sql.Placeholder()) },
    );
    expect(cur.rowcount).toBe(2);
    expect((await conn().query(`select name from ${table} order by id`)).rows).toEqual([{ name: 'x%' }, { name: 'y%' }]);
  });

  it('no rows sends nothing', async () => {
    const cur = conn().cursor();
    const statements = await statementsOf(() => cur.executeValues('insert into nowhere values %s', []));
    expect(statements).toEqual([]);
    expect(cur.rowcount).toBe(-1);
  });

  it('bad input is a ProgrammingError before anything is sent', async () => {
    const table = await tableOf();
    const cur = conn().cursor();
    const bad: [string, unknown[], object?][] = [
      [`insert into ${table} values`, [[1]]],
      [`insert into ${table} values %s, %s`, [[1]]],
      [`insert into ${table} values %s where x like '5%'`, [[1]]],
      [`insert into ${table} values %s`, [[1, 'a'], [2]]],
      [`insert into ${table} values %s`, [{ id: 1 }]],
      [`insert into ${table} values %s`, [{ id: 1 }], { template: '(%(id)s, %(name)s)' }],
      [`insert into ${table} values %s`, [[1]], { template: '(%s, %(id)s)' }],
      [`insert into ${table} values %s`, [[1]], { template: '(1)' }],
      [`insert into ${table} values %s`, [[1]], { pageSize: 0 }],
      [`insert into ${table} values %s`, Array.from({ length: 70 }, () => Array.from({ length: 1000 }, () => 1)), { pageSize: 100 }],
    ];
    const statements = await statementsOf(async () => {
      for (const [text, rows, options] of bad) {
        await expect(cur.executeValues(text, rows, options)).rejects.toBeInstanceOf(errors.ProgrammingError);
      }
    });
    expect(statements).toEqual([]);
  });

  it('a server error on one page rejects with its class', async () => {
    const table = await tableOf();
    const cur = conn().cursor();
    await expect(
      cur.executeValues(
        `insert into ${table} (id) values %s`,
        [[1], [2], [1]],
        { pageSize: 1 },
      ),
    ).rejects.toBeInstanceOf(errors.UniqueViolation);
  });

  it('after a failing page no more pages are sent (a window of them is in flight)', async () => {
    const table = await tableOf();
    const cur = conn().cursor();
    const rows = Array.from({ length: 300 }, (_, i) => [i === 1 ? 0 : i]);
    const statements = await statementsOf(() =>
      expect(cur.executeValues(`insert into ${table} (id) values %s`, rows, { pageSize: 1 })).rejects.toBeInstanceOf(errors.UniqueViolation),
    );
    expect(statements.length).toBeLessThan(300);
    const inserted = (await conn().query<{ n: number }>(`select count(*)::int as n from ${table}`)).rows[0].n;
    expect(inserted).toBe(statements.length - 1);
  });
});
