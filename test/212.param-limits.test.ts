// Parameters libpq or the server cannot take are refused before anything is sent, each
// statement alone: the connection and the statements around it carry on.
//   - more than 65,535 parameters in one statement (a 16-bit count in the protocol)
//   - a value over PostgreSQL's 1 GB field limit (1 GiB less one byte)
// Big Buffers are made with allocUnsafe and never written: their pages are never touched, so
// a 4 GiB Buffer costs no memory as long as nothing reads it.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { errors, Pool, type Connection } from '../lib';
import { adaptParams, adaptValue } from '../lib/adapt/adapters';
import { rejectionOf, testDsn, thrownBy, sharedConnection, connectTest, makeTable } from './helpers';
import { coreOf } from '../lib/core/interface';

const ROOT = path.resolve(__dirname, '..');
const MAX_FIELD = 0x3fffffff;

const conn = sharedConnection({ autocommit: true });

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
    const result = await conn().query<{ n: number }>(`select cardinality(array[${dollarList(LIMIT)}]::int[]) as n`, numbers(LIMIT));
    expect(result.rows).toEqual([{ n: LIMIT }]);
  });

  it('65,536: that statement alone fails, the ones pipelined around it succeed', async () => {
    const text = `select cardinality(array[${dollarList(LIMIT + 1)}]::int[]) as n`;
    const [before, middle, after] = await Promise.allSettled([
      conn().query<{ x: number }>('select 1 as x'),
      conn().query(text, numbers(LIMIT + 1)),
      conn().query<{ x: number }>('select 3 as x'),
    ]);
    expect(before).toEqual({ status: 'fulfilled', value: expect.objectContaining({ rows: [{ x: 1 }] }) });
    expect(after).toEqual({ status: 'fulfilled', value: expect.objectContaining({ rows: [{ x: 3 }] }) });
    expect(middle.status).toBe('rejected');
    expectTooMany((middle as PromiseRejectedResult).reason as Error, LIMIT + 1);
    await expectUsable(conn());
  });

  it('in a transaction, the refused statement leaves the transaction as it was', async () => {
    const inTx = await connectTest();
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
      ['query, prepared', () => conn().query(text, values, { prepare: true })],
      ['cursor.execute', () => conn().cursor().execute(percent, values)],
      ['conn.execute', () => conn().execute(percent, values)],
      ['executemany', () => conn().cursor().executemany(percent, [values, values])],
      ['stream', async () => {
        for await (const row of conn().stream(text, values)) void row;
      }],
      ['pipeline', () => conn().pipeline((p) => p.query(text, values))],
      ['server-side cursor', () => conn().transaction(async () => {
        await conn().cursor({ name: 'too_many' }).execute(percent, values);
      })],
    ];
    for (const [name, run] of ways) {
      const error = await rejectionOf(run());
      expect(error, name).toBeInstanceOf(errors.ProgrammingError);
      expectTooMany(error, LIMIT + 1);
      await expectUsable(conn());
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

describe('values over the 1 GB field limit', () => {
  function expectTooLarge(error: Error, position: number): void {
    expect(error).toBeInstanceOf(errors.DataError);
    expect(error.message).toContain(`$${position}`);
    expect(error.message).toContain(String(MAX_FIELD));
  }

  it('the limit is 1 GiB less one byte, for bytes and for text (measured as UTF-8)', () => {
    expect(() => adaptParams([Buffer.allocUnsafe(MAX_FIELD)], undefined, { wire: true })).not.toThrow();
    expectTooLarge(thrownBy(() => adaptParams(['x', Buffer.allocUnsafe(MAX_FIELD + 1)], undefined, { wire: true })), 2);
    expectTooLarge(thrownBy(() => adaptParams([new Uint8Array(new ArrayBuffer(MAX_FIELD + 1))])), 1);
    expectTooLarge(thrownBy(() => adaptValue(Buffer.allocUnsafe(MAX_FIELD + 1), undefined, 3)), 3);
  });

  it('a 4 GiB Buffer is refused, not sent as an empty bytea', async () => {
    const error = await rejectionOf(conn().query('select length($1::bytea) as n', [Buffer.allocUnsafe(2 ** 32)]));
    expectTooLarge(error, 1);
    await expectUsable(conn());
  });

  it('a 2 GiB Buffer is refused, and the statements around it carry on', async () => {
    const [before, middle, after] = await Promise.allSettled([
      conn().query<{ x: number }>('select 1 as x'),
      conn().query('select 1 where $1::bytea is not null', [Buffer.allocUnsafe(2 ** 31)]),
      conn().query<{ x: number }>('select 3 as x'),
    ]);
    expect(before.status).toBe('fulfilled');
    expect(after.status).toBe('fulfilled');
    expectTooLarge((middle as PromiseRejectedResult).reason as Error, 1);
    await expectUsable(conn());
  });

  it('a string over the limit once encoded as UTF-8 is refused (prepared or not, and in a COPY row)', async () => {
    // 3 bytes of UTF-8 per character: 2 bytes over; 716 MB of string, made once
    const text = '€'.repeat(Math.floor(MAX_FIELD / 3) + 1);
    expectTooLarge(await rejectionOf(conn().query('select length($1::text)', [text])), 1);
    expectTooLarge(await rejectionOf(conn().query('select 1 where $1 = $2::text', [1, text], { prepare: true })), 2);
    const table = await makeTable(conn(), 'a int, b text', { prefix: 'huge', temp: true });
    const copy = await conn().copy(`copy ${table} from stdin`);
    expectTooLarge(await rejectionOf(copy.writeRow([1, text])), 2);
    await copy.abort();
    await expectUsable(conn());
  });
});

describe('the native layer never cuts a length to an int', () => {
  it('a parameter over 2 GiB throws a RangeError instead of going out short', () => {
    // straight to the addon, in a process of its own: before, a negative length reached libpq
    const script = `
      const addon = require('node-gyp-build')(${JSON.stringify(ROOT)});
      const noop = () => undefined;
      const conn = new addon.Connection({ onResults: noop, onFailure: noop, onNotice: noop, onNotification: noop, onCopyData: noop, onWritable: noop });
      conn.connect(['dbname'], [process.env.DSN], true, (error) => {
        if (error) { console.log(JSON.stringify({ error })); process.exit(1); }
        const out = {};
        for (const size of [2 ** 31, 2 ** 32]) {
          try {
            conn.sendQuery('select length($1::bytea)', [Buffer.allocUnsafe(size)], null, true);
            out[size] = 'sent';
          } catch (e) {
            out[size] = e.constructor.name + ': ' + e.message;
          }
        }
        console.log(JSON.stringify(out));
        conn.close();
        process.exit(0);
      });
    `;
    const output = execFileSync(process.execPath, ['-e', script], { env: { ...process.env, DSN: testDsn() }, timeout: 20_000 });
    const report = JSON.parse(output.toString()) as Record<string, string>;
    expect(report[String(2 ** 31)]).toMatch(/^RangeError: .*\$1/);
    expect(report[String(2 ** 32)]).toMatch(/^RangeError: .*\$1/);
  });

  it('COPY data over 2 GiB in one piece throws a RangeError instead of going out short', async () => {
    const table = await makeTable(conn(), 'a text', { prefix: 'huge_copy', temp: true });
    const copy = await conn().copy(`copy ${table} from stdin`);
    // none of 4 GiB would have gone out, nor of 2 GiB
    for (const size of [2 ** 32, 2 ** 31]) {
      const big = Buffer.allocUnsafe(size);
      expect(() => coreOf(conn()).putCopyData(big)).toThrow(RangeError);
      expect(() => coreOf(conn()).putCopyData(big)).toThrow(/COPY data/);
    }
    await copy.write('a\n');
    expect(await copy.end()).toBe(1);
    await expectUsable(conn());
  });
});
