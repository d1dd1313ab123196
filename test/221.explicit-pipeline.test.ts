import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { errors } from '../lib';
import { connectTest, makeTable, rejectionOf, sharedConnection } from './helpers';
import { coreOf } from '../lib/core/interface';

const conn = sharedConnection({ autocommit: true });
const observer = sharedConnection({ autocommit: true });

beforeAll(async () => {
});

afterAll(async () => {
});

const newTable = (): Promise<string> => makeTable(conn(), 'id int primary key, note text', { prefix: 'pipe' });

async function idsIn(table: string): Promise<number[]> {
  const { rows } = await observer().query<{ id: number }>(`select id from ${table} order by id`);
  return rows.map((row) => row.id);
}

describe('conn.pipeline()', () => {
  it('runs its statements in order and resolves each with its result', async () => {
    const results = await conn().pipeline(async (p) => {
      const promises = [1, 2, 3].map((i) => p.query('select $1::int * 10 as n', [i]));
      return Promise.all(promises);
    });
    expect(results.map((r) => r.rows[0].n)).toEqual([10, 20, 30]);
  });

  it('returns what the function returns, after the final sync', async () => {
    const value = await conn().pipeline(async (p) => {
      void p.query('select 1');
      return 'done';
    });
    expect(value).toBe('done');
    expect(coreOf(conn()).pendingCommands()).toBe(0);
  });

  it('results arrive before any sync when awaited inside the pipeline', async () => {
    await conn().pipeline(async (p) => {
      const first = await p.query('select 41 + 1 as answer');
      expect(first.rows).toEqual([{ answer: 42 }]);
      const second = await p.query('select $1::text as t', ['x']);
      expect(second.rows).toEqual([{ t: 'x' }]);
    });
  });

  it('an error fails its statement; the ones after it up to the sync fail with PipelineAborted', async () => {
    const table = await newTable();
    const outcome = await conn().pipeline(async (p) => {
      const before = p.query(`insert into ${table} values (1, 'before')`);
      const failing = p.query('select 1/0');
      const after = p.query(`insert into ${table} values (2, 'after')`);
      const settled = await Promise.allSettled([before, failing, after]);
      await p.sync();
      // after the sync the pipeline works again
      const later = await p.query(`insert into ${table} values (3, 'later')`);
      return { settled, later };
    });
    expect(outcome.settled[0].status).toBe('fulfilled');
    const failure = (outcome.settled[1] as PromiseRejectedResult).reason;
    expect(failure).toBeInstanceOf(errors.DivisionByZero);
    const aborted = (outcome.settled[2] as PromiseRejectedResult).reason;
    expect(aborted).toBeInstanceOf(errors.PipelineAborted);
    expect(aborted).toBeInstanceOf(errors.OperationalError);
    expect(outcome.later.rowCount).toBe(1);
    // in autocommit mode a segment is one implicit transaction: its insert before the error is gone
    expect(await idsIn(table)).toEqual([3]);
    // and the connection is usable after the pipeline
    expect((await conn().query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });

  it('each sync() ends a segment: a failure in one segment leaves the others committed', async () => {
    const table = await newTable();
    await conn().pipeline(async (p) => {
      void p.query(`insert into ${table} values (1, 'a')`);
      await p.sync();
      const bad = p.query(`insert into ${table} values (1, 'duplicate')`).catch((error: unknown) => error);
      await p.sync();
      expect(await bad).toBeInstanceOf(errors.UniqueViolation);
      void p.query(`insert into ${table} values (2, 'b')`);
    });
    expect(await idsIn(table)).toEqual([1, 2]);
  });

  it('with autocommit off, the pipeline runs in the transaction it opens, committed by commit()', async () => {
    const table = await newTable();
    const tx = await connectTest();
    try {
      await tx.pipeline(async (p) => {
        void p.query(`insert into ${table} values (1, 'x')`);
        void p.query(`insert into ${table} values (2, 'y')`);
      });
      expect(tx.info.transactionStatus).toBe('intrans');
      expect(await idsIn(table)).toEqual([]);
      await tx.commit();
      expect(await idsIn(table)).toEqual([1, 2]);
    } finally {
      await tx.close();
    }
  });

  it('statements issued outside the pipeline while it runs wait for its end', async () => {
    const order: string[] = [];
    let outside: Promise<unknown> | undefined;
    await conn().pipeline(async (p) => {
      const a = p.query('select pg_sleep(0.05)').then(() => order.push('inside 1'));
      outside = conn().query('select 1').then(() => order.push('outside'));
      const b = p.query('select 2').then(() => order.push('inside 2'));
      await Promise.all([a, b]);
    });
    await outside;
    expect(order).toEqual(['inside 1', 'inside 2', 'outside']);
  });

  it('a cursor of the pipeline takes psycopg placeholders', async () => {
    const rows = await conn().pipeline(async (p) => {
      const cur = await p.execute('select %s::int as a, %(b)s::text as b', { b: 'bee' } as never).catch(() => null);
      expect(cur).toBeNull(); // mixing is refused before anything is sent
      const good = await p.execute('select %(a)s::int as a, %(b)s::text as b', { a: 1, b: 'bee' });
      return good.fetchall();
    });
    expect(rows).toEqual([[1, 'bee']]);
  });

  it('nested pipeline() calls share the outer pipeline', async () => {
    const value = await conn().pipeline(async (outer) =>
      conn().pipeline(async (inner) => {
        expect(inner).toBe(outer);
        return (await inner.query('select 5 as five')).rows[0].five;
      }),
    );
    expect(value).toBe(5);
  });

  it('refuses multi-statement text, and use after the pipeline ended', async () => {
    let escaped: { query(text: string): Promise<unknown> } | undefined;
    await conn().pipeline(async (p) => {
      const error = await rejectionOf(p.query('select 1; select 2'));
      expect(error).toBeInstanceOf(errors.ProgrammingError);
      escaped = p;
    });
    const late = await rejectionOf((escaped as { query(text: string): Promise<unknown> }).query('select 1'));
    expect(late).toBeInstanceOf(errors.ProgrammingError);
  });

  it('when the function throws, the pipeline still ends cleanly and the error comes out', async () => {
    const boom = new Error('boom');
    const error = await rejectionOf(
      conn().pipeline(async (p) => {
        void p.query('select 1').catch(() => undefined);
        throw boom;
      }),
    );
    expect(error).toBe(boom);
    expect(coreOf(conn()).pendingCommands()).toBe(0);
    expect((await conn().query('select 2 as two')).rows).toEqual([{ two: 2 }]);
  });

  it('on a closed connection it is an InterfaceError', async () => {
    const closed = await connectTest();
    await closed.close();
    expect(await rejectionOf(closed.pipeline(async () => undefined))).toBeInstanceOf(errors.InterfaceError);
  });
});
