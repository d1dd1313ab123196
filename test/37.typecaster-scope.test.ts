// Typecasters at every level, global → connection → cursor, and each result decoded with the
// typecasters its statement was sent with, whatever was set while it was in flight.
import { describe, expect, it } from 'vitest';

import { types } from '../lib';
import { connectTest, sharedConnection } from './helpers';

const conn = sharedConnection({ autocommit: true });

describe('cursor typecasters', () => {
  it("apply to that cursor's results only", async () => {
    const marked = conn().cursor();
    marked.typecasters.set('int4', (text) => `int4:${text}`);
    const plain = conn().cursor();
    await marked.execute('select 1::int4, 2::int8');
    await plain.execute('select 1::int4, 2::int8');
    expect(await marked.fetchall()).toEqual([['int4:1', 2n]]);
    expect(await plain.fetchall()).toEqual([[1, 2n]]);
    expect((await conn().query('select 1::int4 as n')).rows).toEqual([{ n: 1 }]);
  });

  it('stay right when statements of differently typed cursors are in flight together', async () => {
    const marked = conn().cursor();
    types.setTypecaster('int4', (text) => `m${text}`, { cursor: marked });
    const plain = conn().cursor();
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      pending.push(conn().cursor().execute('select %s::int4', [i]).then((c) => c.fetchone()));
      const m = conn().cursor();
      m.typecasters.set('int4', (text) => `m${text}`);
      pending.push(m.execute('select %s::int4', [i]).then((c) => c.fetchone()));
      pending.push(conn().query('select $1::int4 as n', [i]).then((r) => r.rows[0]));
    }
    const rows = await Promise.all(pending);
    for (let i = 0; i < 20; i++) {
      expect(rows[3 * i]).toEqual([i]);
      expect(rows[3 * i + 1]).toEqual([`m${i}`]);
      expect(rows[3 * i + 2]).toEqual({ n: i });
    }
    await marked.execute('select 5::int4');
    await plain.execute('select 5::int4');
    expect(await marked.fetchone()).toEqual(['m5']);
    expect(await plain.fetchone()).toEqual([5]);
  });

  it('a server-side cursor has its own too', async () => {
    const named = conn().cursor({ name: 'typed_cursor' });
    named.typecasters.set('int4', (text) => Number(text) * 100);
    await conn().query('begin');
    try {
      await named.execute('select g::int4 from generate_series(1, 3) g');
      expect(await named.fetchall()).toEqual([[100], [200], [300]]);
    } finally {
      await named.close();
      await conn().query('commit');
    }
  });
});

describe('statements in flight while typecasters change', () => {
  it('a result is decoded with the table its statement was sent with', async () => {
    const c = await connectTest({ autocommit: true });
    try {
      // the first statement is still running when the second, sent with a new typecaster, goes out
      const first = c.query('select 7::int4 as n, pg_sleep(0.1)');
      types.setTypecaster('int4', (text) => `new:${text}`, { conn: c });
      const second = c.query('select 8::int4 as n');
      expect((await first).rows[0].n).toBe(7);
      expect((await second).rows[0].n).toBe('new:8');
      c.typecasters.delete(23);
      const third = c.query('select 9::int4 as n, pg_sleep(0.1)');
      types.setTypecaster('int4', (text) => `newer:${text}`, { conn: c });
      const fourth = c.query('select 10::int4 as n');
      c.typecasters.delete(23);
      const fifth = c.query('select 11::int4 as n');
      expect((await third).rows[0].n).toBe(9);
      expect((await fourth).rows[0].n).toBe('newer:10');
      expect((await fifth).rows[0].n).toBe(11);
    } finally {
      await c.close();
    }
  });
});
