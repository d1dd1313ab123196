// Server-side cursors: DECLARE/FETCH/MOVE/CLOSE, iteration in batches of itersize,
// transactions and WITH HOLD, and flat memory over a million rows.
import { describe, expect, it } from 'vitest';
import { errors, ServerCursor, sql, type Connection } from '../lib';
import { connectTest, uniqueName, rejectionOf as rejection, statementsLogged, thrownBy as thrown, sharedConnection } from './helpers';

const conn = sharedConnection();

async function cursorExists(on: Connection, name: string): Promise<boolean> {
  const result = await on.query<{ n: number }>('select count(*)::int as n from pg_cursors where name = $1', [name]);
  return result.rows[0].n === 1;
}

describe('declare and fetch', () => {
  it('conn.cursor({ name }) is a ServerCursor; execute declares it in a transaction', async () => {
    const name = uniqueName('c');
    const cur = conn().cursor({ name });
    expect(cur).toBeInstanceOf(ServerCursor);
    expect(cur.name).toBe(name);
    expect(cur.itersize).toBe(100);
    expect(await cur.execute('select g, %s::text as label from generate_series(1, 10) g', ['x'])).toBe(cur);
    expect(cur.query).toMatch(/^DECLARE "c_[^"]+" CURSOR FOR select g, \$1::text/);
    expect(cur.description!.map((c) => c.name)).toEqual(['g', 'label']);
    expect(cur.rownumber).toBe(0);
    expect(conn().info.transactionStatus).toBe('intrans');
    expect(await cursorExists(conn(), name)).toBe(true);
    expect(await cur.fetchone()).toEqual([1, 'x']);
    expect(await cur.fetchmany(3)).toEqual([
      [2, 'x'],
      [3, 'x'],
      [4, 'x'],
    ]);
    cur.arraysize = 2;
    expect(await cur.fetchmany()).toEqual([
      [5, 'x'],
      [6, 'x'],
    ]);
    expect(cur.rownumber).toBe(6);
    expect(cur.rowcount).toBe(6);
    expect((await cur.fetchall()).map((row) => row[0])).toEqual([7, 8, 9, 10]);
    expect(await cur.fetchone()).toBeNull();
    expect(await cur.fetchall()).toEqual([]);
    await cur.close();
    expect(await cursorExists(conn(), name)).toBe(false);
    await conn().commit();
  });

  it('fetching before execute(), or before it finished (a forgotten await), says which', async () => {
    const cur = conn().cursor({ name: uniqueName('c') });
    const before = await rejection(cur.fetchone());
    expect(before).toBeInstanceOf(errors.ProgrammingError);
    expect(before.message).toBe('no results to fetch: call execute() first');
    const executing = cur.execute('select 1');
    const early = await rejection(cur.fetchone());
    expect(early).toBeInstanceOf(errors.ProgrammingError);
    expect(early.message).toBe('no result available yet: execute() has not finished (is it awaited?)');
    await executing;
    expect(await cur.fetchone()).toEqual([1]);
    await cur.close();
    await conn().commit();
  });

  it('named placeholders, composed queries and row factories', async () => {
    const cur = conn().cursor<{ n: number }>({ name: uniqueName('c'), rowFactory: 'object' });
    await cur.execute(sql.SQL('select g as {} from generate_series(1, %(n)s) g').format(sql.Identifier('n')), { n: 3 });
    expect(await cur.fetchall()).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    const cur2 = conn().cursor({ name: uniqueName('c') });
    await cur2.execute(sql.query`select ${'a'}::text || ${'b'}::text`);
    expect(await cur2.fetchone()).toEqual(['ab']);
    await conn().rollback();
  });

  it('for await fetches itersize rows per FETCH', async () => {
    const cur = conn().cursor({ name: uniqueName('c'), itersize: 7 });
    await cur.execute('select g from generate_series(1, 30) g');
    let sum = 0;
    const fetches = await statementsLogged(conn(), async () => {
      for await (const [g] of cur as AsyncIterable<[number]>) sum += g;
    });
    expect(sum).toBe(465);
    expect(fetches).toHaveLength(5); // 7 + 7 + 7 + 7 + 2
    expect(fetches.every((text) => text.startsWith('FETCH FORWARD 7 FROM'))).toBe(true);
    await conn().rollback();
  });

  it('execute again closes the previous cursor of that name and declares anew', async () => {
    const cur = conn().cursor({ name: uniqueName('c') });
    await cur.execute('select 1');
    await cur.execute('select 2');
    expect(await cur.fetchall()).toEqual([[2]]);
    await conn().rollback();
  });
});

describe('scroll', () => {
  it('moves with MOVE, backwards too when scrollable', async () => {
    const cur = conn().cursor({ name: uniqueName('c'), scrollable: true });
    await cur.execute('select g from generate_series(1, 10) g');
    expect(cur.query).toContain(' SCROLL CURSOR');
    await cur.scroll(3);
    expect(await cur.fetchone()).toEqual([4]);
    await cur.scroll(-2);
    expect(await cur.fetchone()).toEqual([3]);
    await cur.scroll(8, 'absolute');
    expect(cur.rownumber).toBe(8);
    expect(await cur.fetchall()).toEqual([[9], [10]]);
    await cur.scroll(0, 'absolute');
    expect(await cur.fetchone()).toEqual([1]);
    await conn().rollback();
  });

  it('a NO SCROLL cursor refuses to go back; bad arguments are refused before sending', async () => {
    const cur = conn().cursor({ name: uniqueName('c'), scrollable: false });
    await cur.execute('select g from generate_series(1, 10) g');
    expect(cur.query).toContain('NO SCROLL CURSOR');
    await cur.scroll(2);
    expect(await cur.fetchone()).toEqual([3]);
    await expect(cur.scroll(1, 'sideways' as 'relative')).rejects.toBeInstanceOf(errors.ProgrammingError);
    await expect(cur.scroll(-10)).rejects.toBeInstanceOf(errors.ProgrammingError);
    await expect(cur.scroll(0.5)).rejects.toBeInstanceOf(errors.ProgrammingError);
    expect(conn().info.transactionStatus).toBe('intrans');
    const error = await rejection(cur.scroll(-1));
    expect(error).toBeInstanceOf(errors.ObjectNotInPrerequisiteState);
    expect(error.message).toMatch(/can only scan forward/);
    await conn().rollback();
  });
});

describe('transactions, hold and errors', () => {
  it('without hold the cursor ends with its transaction; close() then sends nothing', async () => {
    const cur = conn().cursor({ name: uniqueName('c') });
    await cur.execute('select 1');
    await conn().commit();
    const error = await rejection(cur.fetchone());
    expect(error).toBeInstanceOf(errors.InvalidCursorName);
    await conn().rollback();
    await cur.close();
    expect(cur.closed).toBe(true);
    expect(conn().info.transactionStatus).toBe('idle');
  });

  it('closing a cursor that ended with an earlier transaction leaves the current one alone', async () => {
    const cur = conn().cursor({ name: uniqueName('c') });
    await cur.execute('select 1');
    await conn().commit();
    await conn().query('select 2');
    expect(conn().info.transactionStatus).toBe('intrans');
    await cur.close();
    expect(conn().info.transactionStatus).toBe('intrans');
    expect((await conn().query('select 3 as n')).rows).toEqual([{ n: 3 }]);
    await conn().rollback();
  });

  it('WITH HOLD outlives the commit, works in autocommit, and close() ends it', async () => {
    const other = await connectTest({ autocommit: true });
    try {
      const name = uniqueName('h');
      const cur = other.cursor({ name, withhold: true });
      await cur.execute('select g from generate_series(1, 5) g');
      expect(cur.query).toContain('CURSOR WITH HOLD FOR');
      expect(await cur.fetchmany(2)).toEqual([[1], [2]]);
      expect(other.info.transactionStatus).toBe('idle');
      await cur.close();
      expect(await cursorExists(other, name)).toBe(false);
      expect(other.info.transactionStatus).toBe('idle');
    } finally {
      await other.close();
    }
    const held = conn().cursor({ name: uniqueName('h'), withhold: true });
    await held.execute('select 1 union all select 2');
    await conn().commit();
    expect(await held.fetchall()).toEqual([[1], [2]]);
    await held.close();
    await conn().rollback();
  });

  it('without hold in autocommit, the server refuses the DECLARE', async () => {
    const other = await connectTest({ autocommit: true });
    try {
      const error = await rejection(other.cursor({ name: uniqueName('c') }).execute('select 1'));
      expect(error).toBeInstanceOf(errors.NoActiveSqlTransaction);
    } finally {
      await other.close();
    }
  });

  it('a bad query, bad options and use before execute or after close are clear errors', async () => {
    const cur = conn().cursor({ name: uniqueName('c') });
    await expect(cur.fetchone()).rejects.toBeInstanceOf(errors.ProgrammingError);
    await expect(cur.scroll(1)).rejects.toBeInstanceOf(errors.ProgrammingError);
    await expect(cur.execute('select %s', [1, 2])).rejects.toBeInstanceOf(errors.ProgrammingError);
    const error = await rejection(cur.execute(`select * from ${uniqueName('missing')}`));
    expect(error).toBeInstanceOf(errors.UndefinedTable);
    await conn().rollback();
    await expect(cur.executemany()).rejects.toBeInstanceOf(errors.NotSupportedError);
    await cur.close();
    await expect(cur.execute('select 1')).rejects.toBeInstanceOf(errors.InterfaceError);
    expect(thrown(() => conn().cursor({ name: '' }))).toBeInstanceOf(errors.ProgrammingError);
    expect(thrown(() => conn().cursor({ name: 'x', itersize: 0 }))).toBeInstanceOf(errors.ProgrammingError);
    expect(thrown(() => conn().cursor({ name: 'a\u0000b' }))).toBeInstanceOf(errors.ProgrammingError);
  });

  it('an odd name is quoted', async () => {
    const name = `Odd "name" ${uniqueName('c')}`;
    const cur = conn().cursor({ name });
    await cur.execute('select 42');
    expect(await cursorExists(conn(), name)).toBe(true);
    expect(await cur.fetchone()).toEqual([42]);
    await cur.close();
    expect(await cursorExists(conn(), name)).toBe(false);
    await conn().rollback();
  });
});

describe('memory', () => {
  it('iterating a million rows keeps the process RSS flat', async () => {
    const cur = conn().cursor({ name: uniqueName('big'), itersize: 5000 });
    await cur.execute('select g from generate_series(1, 1000000) g');
    globalThis.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    let count = 0;
    let sum = 0;
    for await (const row of cur as AsyncIterable<[number]>) {
      count++;
      sum += row[0];
      if (count % 50000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    }
    expect(count).toBe(1_000_000);
    expect(sum).toBe(500000500000);
    expect(peak - before).toBeLessThan(100 * 1024 * 1024);
    await cur.close();
    await conn().rollback();
  }, 60_000);
});
