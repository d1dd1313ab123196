// Cursors, query streams and COPY streams through pqnode/pg: this module's own classes, and
// the objects of the pg-cursor and pg-query-stream packages handed to a client.
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import PgCursor from 'pg-cursor';
import PgQueryStream from 'pg-query-stream';

import { Client, CopyFromStream, Cursor, QueryStream, copyStreams, type DatabaseError } from '../lib/pg';
import { rejectionOf, testDsn, uniqueName } from './helpers';

let c: Client;

beforeEach(async () => {
  c = new Client(testDsn());
  await c.connect();
});

afterEach(async () => {
  await c.end();
});

describe('Cursor', () => {
  it('reads rows in batches, then fewer, then none', async () => {
    const cursor = c.query(new Cursor('SELECT n FROM generate_series(1, $1::int) n', [25]));
    expect((await cursor.read(10)).map((r) => (r as { n: number }).n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await cursor.read(10)).toHaveLength(10);
    expect((await cursor.read(10)).map((r) => (r as { n: number }).n)).toEqual([21, 22, 23, 24, 25]);
    expect(await cursor.read(10)).toEqual([]);
    await cursor.close();
    expect((await c.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
  });

  it('reads with callbacks, in array row mode, with the result', async () => {
    const cursor = c.query(new Cursor('SELECT 1 AS a, 2 AS b', undefined, { rowMode: 'array' }));
    const [rows, result] = await new Promise<[unknown[], { fields: { name: string }[] } | undefined]>((resolve, reject) =>
      cursor.read(5, (error, got, res) => (error ? reject(error) : resolve([got, res]))),
    );
    expect(rows).toEqual([[1, 2]]);
    expect(result?.fields.map((f) => f.name)).toEqual(['a', 'b']);
    await new Promise<void>((resolve) => cursor.close(() => resolve()));
  });

  it('closes early, and the client runs the next query', async () => {
    const cursor = c.query(new Cursor('SELECT n FROM generate_series(1, 100000) n'));
    expect(await cursor.read(3)).toHaveLength(3);
    await cursor.close();
    expect((await c.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
  });

  it('rejects reads with the statement\'s error', async () => {
    const cursor = c.query(new Cursor('SELECT 1/0'));
    const error = (await rejectionOf(cursor.read(1))) as DatabaseError;
    expect(error.code).toBe('22012');
    expect((await rejectionOf(cursor.read(1))).message).toBe(error.message);
  });

  it('keeps memory bounded: a big result read slowly does not pile up in the buffer', async () => {
    const cursor = c.query(new Cursor("SELECT n, repeat('x', 1000) AS pad FROM generate_series(1, 200000) n"));
    let total = 0;
    for (let i = 0; i < 20; i++) total += (await cursor.read(100)).length;
    expect(total).toBe(2000);
    await cursor.close();
  });
});

describe('QueryStream', () => {
  it('streams every row as a Readable', async () => {
    const stream = c.query(new QueryStream('SELECT n FROM generate_series(1, 1234) n', [], { batchSize: 100 }));
    const seen: number[] = [];
    for await (const row of stream) seen.push((row as { n: number }).n);
    expect(seen).toHaveLength(1234);
    expect(seen[1233]).toBe(1234);
  });

  it('ends early when destroyed, and the client goes on', async () => {
    const stream = c.query(new QueryStream('SELECT n FROM generate_series(1, 1000000) n'));
    let count = 0;
    for await (const _row of stream) if (++count === 10) break;
    expect(count).toBe(10);
    expect((await c.query('SELECT 3 AS three')).rows).toEqual([{ three: 3 }]);
  });
});

describe('objects of pg-cursor and pg-query-stream', () => {
  it('runs a pg-cursor Cursor', async () => {
    const cursor = c.query(new PgCursor('SELECT n FROM generate_series(1, 5) n WHERE n > $1', [2]));
    expect(await cursor.read(2)).toEqual([{ n: 3 }, { n: 4 }]);
    expect(await cursor.read(2)).toEqual([{ n: 5 }]);
    await cursor.close();
  });

  it('runs a pg-query-stream QueryStream', async () => {
    const stream = c.query(new PgQueryStream('SELECT n::int FROM generate_series(1, 300) n', []));
    const rows: unknown[] = [];
    for await (const row of stream) rows.push(row);
    expect(rows).toHaveLength(300);
    expect(rows[299]).toEqual({ n: 300 });
  });

  it('refuses a submittable it cannot run', () => {
    expect(() => c.query({ submit: () => undefined } as never)).toThrow(/other submittables/);
  });
});

describe('COPY streams', () => {
  it('copies in through from() with backpressure, and out through to()', async () => {
    const table = uniqueName('pgcopy');
    await c.query(`CREATE TEMP TABLE ${table} (id int, name text)`);
    const lines = Array.from({ length: 5000 }, (_, i) => `${i}\tname ${i}\n`);
    const sink = c.query(copyStreams.from(`COPY ${table} FROM STDIN`));
    expect(sink).toBeInstanceOf(CopyFromStream);
    await pipeline(Readable.from(lines), sink);
    expect(sink.rowCount).toBe(5000);
    expect((await c.query(`SELECT count(*)::int AS n FROM ${table}`)).rows).toEqual([{ n: 5000 }]);
    const chunks: Buffer[] = [];
    const source = c.query(copyStreams.to(`COPY (SELECT * FROM ${table} ORDER BY id) TO STDOUT`));
    await pipeline(
      source,
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          chunks.push(chunk);
          callback();
        },
      }),
    );
    expect(Buffer.concat(chunks).toString()).toBe(lines.join(''));
  });

  it('fails from() with the server\'s error on bad data', async () => {
    const table = uniqueName('pgcopybad');
    await c.query(`CREATE TEMP TABLE ${table} (id int)`);
    const error = (await rejectionOf(pipeline(Readable.from(['1\n', 'not a number\n']), c.query(copyStreams.from(`COPY ${table} FROM STDIN`))))) as DatabaseError;
    expect(error.code).toBe('22P02');
    expect((await c.query(`SELECT count(*)::int AS n FROM ${table}`)).rows).toEqual([{ n: 0 }]);
  });
});

describe('a cursor read to its end', () => {
  it('leaves the connection reading: the next query on the client runs', async () => {
    // the rows outrun the reader, so the connection stops reading; the end must restart it
    const cursor = c.query(new Cursor('SELECT n FROM generate_series(1, 500) n'));
    let total = 0;
    for (;;) {
      const rows = await cursor.read(50);
      if (rows.length === 0) break;
      total += rows.length;
    }
    await cursor.close();
    expect(total).toBe(500);
    const next = c.query('SELECT 1 AS ok');
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('the query after the cursor never ran')), 3000));
    expect(((await Promise.race([next, timeout])) as { rows: unknown[] }).rows).toEqual([{ ok: 1 }]);
  });
});
