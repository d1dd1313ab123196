// Parameters libpq or the server cannot take are refused before anything is sent, each
// statement alone: the connection and the statements around it carry on.
//   - more than 65,535 parameters in one statement (a 16-bit count in the protocol)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, errors, Pool, type Connection } from '../lib';
import { rejectionOf, testDsn } from './helpers';

let conn: Connection;

beforeAll(async () => {
  conn = await connect(testDsn(), { autocommit: true });
});

afterAll(async () => {
  await conn.close();
});

const LIMIT = 65535;

function dollarList(count: number): string {
  return Array.from({ length: count }, (_, i) => `$${i + 1}`).join(',');
}

function numbers(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

function expectTooMany(error: Error, count: number): void {
  expect(error).toBeInstanceOf(errors.ProgrammingError);
  expect(error.message).toContain(String(count));
  expect(error.message).toContain(String(LIMIT));
}

async function expectUsable(on: Connection): Promise<void> {
  expect(on.broken).toBe(false);
  expect(on.closed).toBe(false);
  const result = await on.query<{ ok: number }>('select 1 as ok');
  expect(result.rows).toEqual([{ ok: 1 }]);
}

describe('more than 65,535 parameters', () => {
  it('65,535 go through', async () => {
    const result = await conn.query<{ n: number }>(`select cardinality(array[${dollarList(LIMIT)}]::int[]) as n`, numbers(LIMIT));
    expect(result.rows).toEqual([{ n: LIMIT }]);
  });

  it('65,536: that statement alone fails, the ones pipelined around it succeed', async () => {
    const text = `select cardinality(array[${dollarList(LIMIT + 1)}]::int[]) as n`;
    const [before, middle, after] = await Promise.allSettled([
      conn.query<{ x: number }>('select 1 as x'),
      conn.query(text, numbers(LIMIT + 1)),
      conn.query<{ x: number }>('select 3 as x'),
    ]);
    expect(before).toEqual({ status: 'fulfilled', value: expect.objectContaining({ rows: [{ x: 1 }] }) });
    expect(after).toEqual({ status: 'fulfilled', value: expect.objectContaining({ rows: [{ x: 3 }] }) });
    expect(middle.status).toBe('rejected');
    expectTooMany((middle as PromiseRejectedResult).reason as Error, LIMIT + 1);
    await expectUsable(conn);
  });

  it('in a transaction, the refused statement leaves the transaction as it was', async () => {
    const inTx = await connect(testDsn());
    try {
      await inTx.query('select 1');
      const error = await rejectionOf(inTx.query('select $1', numbers(LIMIT + 1)));
      expectTooMany(error, LIMIT + 1);
      expect(inTx.info.transactionStatus).toBe('intrans');
      await expectUsable(inTx);
      await inTx.commit();
    } finally {
      await inTx.close();
    }
  });

  it('every way a statement goes out refuses it the same', async () => {
    const values = numbers(LIMIT + 1);
    const text = `select cardinality(array[${dollarList(LIMIT + 1)}]::int[]) as n`;
    const percent = `select cardinality(array[${values.map(() => '%s').join(',')}]::int[]) as n`;
    const ways: [string, () => Promise<unknown>][] = [
      ['query, prepared', () => conn.query(text, values, { prepare: true })],
      ['cursor.execute', () => conn.cursor().execute(percent, values)],
      ['conn.execute', () => conn.execute(percent, values)],
      ['executemany', () => conn.cursor().executemany(percent, [values, values])],
      ['stream', async () => {
        for await (const row of conn.stream(text, values)) void row;
      }],
      ['pipeline', () => conn.pipeline((p) => p.query(text, values))],
      ['server-side cursor', () => conn.transaction(async () => {
        await conn.cursor({ name: 'too_many' }).execute(percent, values);
      })],
    ];
    for (const [name, run] of ways) {
      const error = await rejectionOf(run());
      expect(error, name).toBeInstanceOf(errors.ProgrammingError);
      expectTooMany(error, LIMIT + 1);
      await expectUsable(conn);
    }
  });

  it('pool.query refuses it and keeps the connection', async () => {
    const pool = new Pool(testDsn(), { min: 1, max: 1, timeout: 5 });
    try {
      const error = await rejectionOf(pool.query('select $1', numbers(LIMIT + 1)));
      expectTooMany(error, LIMIT + 1);
      const result = await pool.query<{ ok: number }>('select 1 as ok');
      expect(result.rows).toEqual([{ ok: 1 }]);
      expect(pool.stats()).toMatchObject({ connectionsNum: 1 });
    } finally {
      await pool.close();
    }
  });
});
