// The diagnostics_channel TracingChannels: what each publishes, in which order, with which
// context, for successes and failures, and that nothing is published to nobody.
import diagnosticsChannel from 'node:diagnostics_channel';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { connect, errors, Pool, type Connection } from '../lib';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import PgCursor from 'pg-cursor';
import PgQueryStream from 'pg-query-stream';
import { Client, copyStreams, Cursor, QueryStream } from '../lib/pg';
import { connectTest, rejectionOf, testDsn, testDsnWith, uniqueName } from './helpers';

type EventName = 'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error';

interface Seen {
  event: EventName;
  /** the context as it was when the event was published (the channel mutates one object) */
  context: Record<string, unknown>;
  /** the object itself, to check that every event of one operation shares it */
  same: object;
}

/** Subscribes to every event of a TracingChannel; stop() unsubscribes. */
function record(name: string): { seen: Seen[]; stop(): void } {
  const channel = diagnosticsChannel.tracingChannel(name);
  const seen: Seen[] = [];
  const handler = (event: EventName) => (message: unknown) => {
    seen.push({ event, context: { ...(message as object) }, same: message as object });
  };
  const handlers = { start: handler('start'), end: handler('end'), asyncStart: handler('asyncStart'), asyncEnd: handler('asyncEnd'), error: handler('error') };
  channel.subscribe(handlers);
  return { seen, stop: () => channel.unsubscribe(handlers) };
}

const stops: (() => void)[] = [];
function subscribe(name: string): Seen[] {
  const recorder = record(name);
  stops.push(recorder.stop);
  return recorder.seen;
}

let conn: Connection;
let server: { host: string; port: number; database: string };

beforeAll(async () => {
  conn = await connectTest({ autocommit: true });
  server = { host: conn.info.host, port: conn.info.port, database: conn.info.dbname };
});

afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

afterAll(async () => {
  await conn?.close();
});

const SUCCESS: EventName[] = ['start', 'end', 'asyncStart', 'asyncEnd'];
const FAILURE: EventName[] = ['start', 'end', 'error', 'asyncStart', 'asyncEnd'];

function eventsOf(seen: Seen[]): EventName[] {
  return seen.map((item) => item.event);
}

function last(seen: Seen[]): Record<string, unknown> {
  return seen[seen.length - 1].context;
}

describe('pqnode:query', () => {
  it('publishes a statement with its text, parameters, server and row count', async () => {
    const seen = subscribe('pqnode:query');
    const result = await conn.query('select $1::int as a union all select $2::int', [1, 2]);
    expect(eventsOf(seen)).toEqual(SUCCESS);
    expect(new Set(seen.map((item) => item.same)).size).toBe(1);
    const start = seen[0].context;
    expect(start).toEqual({ query: 'select $1::int as a union all select $2::int', parameterCount: 2, ...server });
    expect(start.rowCount).toBeUndefined();
    expect(last(seen)).toMatchObject({ rowCount: 2, result });
    expect(last(seen).error).toBeUndefined();
  });

  it('publishes the error of a failing statement, its sqlstate with it', async () => {
    const seen = subscribe('pqnode:query');
    const error = await rejectionOf(conn.query('select 1 / $1::int', [0]));
    expect(eventsOf(seen)).toEqual(FAILURE);
    const context = last(seen);
    expect(context).toMatchObject({ query: 'select 1 / $1::int', parameterCount: 1, ...server });
    expect(context.error).toBeInstanceOf(errors.DatabaseError);
    expect((context.error as errors.DatabaseError).sqlstate).toBe('22012');
    expect(context.rowCount).toBeUndefined();
    expect(error).toBeInstanceOf(errors.DatabaseError);
  });

  it('publishes what a cursor executes, with the text as sent', async () => {
    const seen = subscribe('pqnode:query');
    const cursor = await conn.execute('select generate_series(1, %s)', [3]);
    expect(cursor.rowcount).toBe(3);
    expect(eventsOf(seen)).toEqual(SUCCESS);
    expect(last(seen)).toMatchObject({ query: 'select generate_series(1, $1)', parameterCount: 1, rowCount: 3, ...server });
    // what the call resolved with: the cursor, its results in place
    expect(last(seen).result).toBe(cursor);
    const seenAt = seen.find((item) => item.event === 'asyncEnd')?.same as { result: { rowcount: number } };
    expect(seenAt.result.rowcount).toBe(3);
  });

  it('publishes a failing cursor execute', async () => {
    const seen = subscribe('pqnode:query');
    await rejectionOf(conn.execute('select * from no_such_table_here'));
    expect(eventsOf(seen)).toEqual(FAILURE);
    expect((last(seen).error as errors.DatabaseError).sqlstate).toBe('42P01');
  });

  it('publishes a statement of an explicit pipeline', async () => {
    const seen = subscribe('pqnode:query');
    await conn.pipeline(async (p) => {
      await p.query('select $1::text', ['x']);
    });
    const ours = seen.filter((item) => item.context.query === 'select $1::text');
    expect(eventsOf(ours)).toEqual(SUCCESS);
    expect(last(ours)).toMatchObject({ parameterCount: 1, rowCount: 1 });
  });

  it('publishes nothing before anyone subscribes: a late subscriber sees only later statements', async () => {
    const late = record('pqnode:query');
    late.stop();
    const before = conn.query('select 1 as before_subscribing');
    const seen = subscribe('pqnode:query');
    await before;
    await conn.query('select 2 as after_subscribing');
    expect(seen.map((item) => item.context.query)).toEqual(Array(4).fill('select 2 as after_subscribing'));
    expect(late.seen).toEqual([]);
  });

  it('publishes node-postgres statements of pqnode/pg, once each', async () => {
    const client = new Client(testDsn());
    await client.connect();
    try {
      const seen = subscribe('pqnode:query');
      const result = await client.query('select $1::int as n', [5]);
      expect(result.rows).toEqual([{ n: 5 }]);
      expect(eventsOf(seen)).toEqual(SUCCESS);
      expect(last(seen)).toMatchObject({ query: 'select $1::int as n', parameterCount: 1, rowCount: 1, ...server });
      // what the call resolved with: node-postgres's Result, not the rows as they came
      expect(last(seen).result).toBe(result);
      seen.length = 0;
      const several = await client.query('select 1 as a; select 2 as b');
      expect(last(seen).result).toBe(several);
      expect(Array.isArray(several)).toBe(true);
      seen.length = 0;
      await rejectionOf(client.query('select 1 / 0'));
      expect(eventsOf(seen)).toEqual(FAILURE);
      expect((last(seen).error as errors.DatabaseError).sqlstate).toBe('22012');
      // a statement without a count says null, not libpq's -1
      seen.length = 0;
      await client.query(`create temp table ${uniqueName('trace_pg_ddl')} (a int)`);
      expect(last(seen).rowCount).toBeNull();
    } finally {
      await client.end();
    }
  });
});

describe('pqnode:query: streamed rows', () => {
  /** waits for the span to settle: a stream's ends after its statement, not with the reader */
  async function settled(seen: Seen[]): Promise<void> {
    await vi.waitFor(() => expect(eventsOf(seen)).toContain('asyncEnd'), { timeout: 5000 });
  }

  it('publishes conn.stream() as one span from the send to the end, with the rows streamed', async () => {
    const seen = subscribe('pqnode:query');
    const stream = conn.stream('select g from generate_series(1, $1::int) g', [250], { chunkSize: 1 });
    // sent at once: the span is open before the first row is read
    expect(eventsOf(seen)).toEqual(['start', 'end']);
    expect(seen[0].context).toEqual({ query: 'select g from generate_series(1, $1::int) g', parameterCount: 1, ...server });
    // the span is not over at its `end`: no result yet
    expect(seen[1].context).toEqual(seen[0].context);
    let rows = 0;
    for await (const row of stream) if (row !== undefined) rows++;
    expect(rows).toBe(250);
    await settled(seen);
    expect(eventsOf(seen)).toEqual(SUCCESS);
    expect(new Set(seen.map((item) => item.same)).size).toBe(1);
    expect(last(seen)).toMatchObject({ rowCount: 250, result: stream });
    expect(last(seen).error).toBeUndefined();
    expect(last(seen).aborted).toBeUndefined();
  });

  it('publishes the error of a statement that fails mid-stream, with the rows received before it', async () => {
    const seen = subscribe('pqnode:query');
    const stream = conn.stream('select 1 / (3 - i) as q from generate_series(1, 5) i', undefined, { chunkSize: 1 });
    const rows: unknown[] = [];
    const error = await rejectionOf((async () => {
      for await (const row of stream) rows.push(row);
    })());
    expect(rows).toHaveLength(2);
    await settled(seen);
    expect(eventsOf(seen)).toEqual(FAILURE);
    expect(last(seen).error).toBe(error);
    expect((last(seen).error as errors.DatabaseError).sqlstate).toBe('22012');
    expect(last(seen).rowCount).toBe(2);
    // a stream that failed resolved with nothing
    expect(last(seen).result).toBeUndefined();
  });

  it('ends the span of a stream the reader gave up on as aborted, with the rows received, once its statement ended', async () => {
    const seen = subscribe('pqnode:query');
    const stream = conn.stream('select g from generate_series(1, 1000000) g', undefined, { chunkSize: 1, highWaterMark: 10 });
    let taken = 0;
    for await (const row of stream) {
      if (row !== undefined) taken++;
      if (taken === 5) break;
    }
    await conn.query('select 1 as after_the_stream');
    await settled(seen);
    const ours = seen.filter((item) => item.same === seen[0].same);
    expect(eventsOf(ours)).toEqual(SUCCESS);
    const context = last(ours);
    expect(context.aborted).toBe(true);
    expect(context.error).toBeUndefined();
    expect(context.rowCount).toBeGreaterThanOrEqual(5);
    expect(context.rowCount).toBeLessThan(1000000);
  });

  it('publishes the error a stream was destroyed with', async () => {
    const seen = subscribe('pqnode:query');
    const stream = conn.stream('select g from generate_series(1, 1000000) g', undefined, { chunkSize: 1, highWaterMark: 10 });
    const reason = new Error('the reader failed');
    await new Promise<void>((resolve) => stream.once('data', () => resolve()));
    stream.on('error', () => undefined);
    stream.destroy(reason);
    await settled(seen);
    const ours = seen.filter((item) => item.same === seen[0].same);
    expect(eventsOf(ours)).toEqual(FAILURE);
    expect(last(ours).error).toBe(reason);
    await conn.query('select 1');
  });

  it('publishes nothing for a stream that was never sent', async () => {
    const closed = await connectTest();
    await closed.close();
    const seen = subscribe('pqnode:query');
    expect(() => closed.stream('select 1')).toThrow(errors.InterfaceError);
    expect(seen).toEqual([]);
  });
});

describe('pqnode:query: the cursors and query streams of pqnode/pg', () => {
  let client: Client;
  beforeAll(async () => {
    client = new Client(testDsn());
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
  });

  /** waits for the span to settle: it ends with the statement, not with the reader */
  async function settled(seen: Seen[]): Promise<void> {
    await vi.waitFor(() => expect(eventsOf(seen)).toContain('asyncEnd'), { timeout: 5000 });
  }

  /** every row of a pg Cursor, read `size` at a time */
  async function readAll(cursor: Cursor, size: number): Promise<unknown[]> {
    const rows: unknown[] = [];
    for (;;) {
      const batch = await cursor.read(size);
      rows.push(...batch);
      if (batch.length < size) return rows;
    }
  }

  it('publishes a Cursor as one span from the send to the end, with the rows read and the cursor as result', async () => {
    const seen = subscribe('pqnode:query');
    const cursor = client.query(new Cursor('select g from generate_series(1, $1::int) g', [250]));
    const rows = await readAll(cursor, 100);
    expect(rows).toHaveLength(250);
    await settled(seen);
    expect(eventsOf(seen)).toEqual(SUCCESS);
    expect(new Set(seen.map((item) => item.same)).size).toBe(1);
    expect(seen[0].context).toEqual({ query: 'select g from generate_series(1, $1::int) g', parameterCount: 1, ...server });
    expect(last(seen)).toMatchObject({ rowCount: 250, result: cursor });
    expect(last(seen).aborted).toBeUndefined();
    await cursor.close();
  });

  it('publishes a QueryStream, the stream as result, and the objects of pg-cursor and pg-query-stream', async () => {
    const seen = subscribe('pqnode:query');
    const stream = client.query(new QueryStream('select g from generate_series(1, 300) g', [], { batchSize: 100 }));
    let count = 0;
    for await (const row of stream) if (row !== undefined) count++;
    expect(count).toBe(300);
    await settled(seen);
    expect(eventsOf(seen)).toEqual(SUCCESS);
    expect(last(seen)).toMatchObject({ query: 'select g from generate_series(1, 300) g', parameterCount: 0, rowCount: 300, result: stream });

    seen.length = 0;
    const foreign = client.query(new PgCursor('select g from generate_series(1, 7) g'));
    expect(await foreign.read(10)).toHaveLength(7);
    await settled(seen);
    expect(last(seen)).toMatchObject({ rowCount: 7, result: foreign });
    await foreign.close();

    seen.length = 0;
    const foreignStream = client.query(new PgQueryStream('select g from generate_series(1, 5) g', []));
    for await (const row of foreignStream) if (row === undefined) break;
    await settled(seen);
    expect(last(seen)).toMatchObject({ rowCount: 5, result: foreignStream });
  });

  it('publishes the error of a Cursor whose statement fails, with the rows received before it', async () => {
    const seen = subscribe('pqnode:query');
    const cursor = client.query(new Cursor('select 1 / (3 - i) as q from generate_series(1, 5) i'));
    cursor.on('error', () => undefined);
    const error = await rejectionOf(readAll(cursor, 100));
    await settled(seen);
    expect(eventsOf(seen)).toEqual(FAILURE);
    expect((last(seen).error as { sqlstate?: string }).sqlstate ?? (last(seen).error as { code?: string }).code).toBe('22012');
    expect(error.message).toMatch(/division by zero/);
    expect(last(seen).result).toBeUndefined();
  });

  it('ends the span of a Cursor closed early, or a QueryStream given up on, as aborted with the rows received', async () => {
    const seen = subscribe('pqnode:query');
    const cursor = client.query(new Cursor('select g from generate_series(1, 1000000) g'));
    expect(await cursor.read(5)).toHaveLength(5);
    await cursor.close();
    await client.query('select 1 as after_the_cursor');
    await settled(seen);
    const ours = seen.filter((item) => item.same === seen[0].same);
    expect(eventsOf(ours)).toEqual(SUCCESS);
    expect(last(ours).aborted).toBe(true);
    expect(last(ours).error).toBeUndefined();
    expect(last(ours).rowCount).toBeGreaterThanOrEqual(5);
    expect(last(ours).rowCount).toBeLessThan(1000000);

    seen.length = 0;
    const stream = client.query(new QueryStream('select g from generate_series(1, 1000000) g'));
    let taken = 0;
    for await (const row of stream) if (row !== undefined && ++taken === 10) break;
    await client.query('select 1 as after_the_stream');
    await settled(seen);
    const streamed = seen.filter((item) => item.same === seen[0].same);
    expect(eventsOf(streamed)).toEqual(SUCCESS);
    expect(last(streamed)).toMatchObject({ aborted: true });
    expect(last(streamed).rowCount).toBeGreaterThanOrEqual(10);
  });

  it('publishes nothing for a Cursor while nobody subscribes', async () => {
    const late = record('pqnode:query');
    late.stop();
    const cursor = client.query(new Cursor('select 1 as one'));
    expect(await cursor.read(5)).toEqual([{ one: 1 }]);
    await cursor.close();
    expect(late.seen).toEqual([]);
  });
});

describe('pqnode:query: statements sent for the user', () => {
  /** the statements published, start to end, each as [query, parameterCount, rowCount, sqlstate] */
  function statements(seen: Seen[]): unknown[][] {
    return seen
      .filter((item) => item.event === 'asyncEnd')
      .map(({ context }) => [context.query, context.parameterCount, context.rowCount, (context.error as errors.DatabaseError | undefined)?.sqlstate]);
  }

  it('publishes transaction() blocks: BEGIN, savepoints, COMMIT, ROLLBACK', async () => {
    const other = await connectTest();
    try {
      await other.setSession({ isolationLevel: 'serializable' });
      const seen = subscribe('pqnode:query');
      await other.transaction(async () => {
        await other.query('select 1 as outer_block');
        await other.transaction(async () => {
          await other.query('select 2 as inner_block');
        });
        await rejectionOf(other.transaction(async () => {
          throw new Error('roll this one back');
        }));
      });
      await rejectionOf(other.transaction(async () => {
        throw new Error('and the whole of this one');
      }));
      expect(statements(seen)).toEqual([
        ['BEGIN ISOLATION LEVEL SERIALIZABLE', 0, null, undefined],
        ['select 1 as outer_block', 0, 1, undefined],
        ['SAVEPOINT "pqnode_savepoint_2"', 0, null, undefined],
        ['select 2 as inner_block', 0, 1, undefined],
        ['RELEASE SAVEPOINT "pqnode_savepoint_2"', 0, null, undefined],
        ['SAVEPOINT "pqnode_savepoint_2"', 0, null, undefined],
        ['ROLLBACK TO SAVEPOINT "pqnode_savepoint_2"', 0, null, undefined],
        ['RELEASE SAVEPOINT "pqnode_savepoint_2"', 0, null, undefined],
        ['COMMIT', 0, null, undefined],
        ['BEGIN ISOLATION LEVEL SERIALIZABLE', 0, null, undefined],
        ['ROLLBACK', 0, null, undefined],
      ]);
      expect(eventsOf(seen.slice(0, 4))).toEqual(SUCCESS);
      expect(seen[0].context).toEqual({ query: 'BEGIN ISOLATION LEVEL SERIALIZABLE', parameterCount: 0, ...server });
    } finally {
      await other.close();
    }
  });

  it('publishes commit() and rollback(), not the BEGIN that goes with the first statement; nothing when there is nothing to end', async () => {
    const other = await connectTest({ autocommit: false });
    try {
      const seen = subscribe('pqnode:query');
      await other.commit();
      await other.rollback();
      expect(seen).toEqual([]);
      await other.query('select 1 as in_a_transaction');
      await other.commit();
      await other.query('select 2 as in_another');
      await other.rollback();
      expect(statements(seen)).toEqual([
        ['select 1 as in_a_transaction', 0, 1, undefined],
        ['COMMIT', 0, null, undefined],
        ['select 2 as in_another', 0, 1, undefined],
        ['ROLLBACK', 0, null, undefined],
      ]);
      // commit() and rollback() resolve with nothing: no result
      expect(seen.filter((item) => item.event === 'asyncEnd' && item.context.result !== undefined).map((item) => item.context.query)).toEqual([
        'select 1 as in_a_transaction',
        'select 2 as in_another',
      ]);
    } finally {
      await other.close();
    }
  });

  it('publishes a failing control statement with its error', async () => {
    const seen = subscribe('pqnode:query');
    const error = await rejectionOf(conn.tpcCommit(`pqnode_no_such_gid_${uniqueName()}`));
    expect(eventsOf(seen)).toEqual(FAILURE);
    expect(last(seen).query).toMatch(/^COMMIT PREPARED 'pqnode_no_such_gid_/);
    expect(last(seen).error).toBe(error);
    expect((error as errors.DatabaseError).sqlstate).toBe('42704');
  });

  it('publishes the statements of a two-phase transaction', async () => {
    const other = await connectTest({ autocommit: false });
    const gid = uniqueName('pqnode_trace_gid');
    try {
      const seen = subscribe('pqnode:query');
      await other.tpcBegin(gid);
      await other.tpcPrepare();
      await other.tpcRollback();
      expect(statements(seen)).toEqual([
        ['BEGIN', 0, null, undefined],
        [`PREPARE TRANSACTION '${gid}'`, 0, null, undefined],
        [`ROLLBACK PREPARED '${gid}'`, 0, null, undefined],
      ]);
    } finally {
      await other.close();
    }
  });

  it('publishes listen(), unlisten() and notify()', async () => {
    const seen = subscribe('pqnode:query');
    await conn.listen('trace channel');
    await conn.notify('trace channel', 'hello');
    await conn.unlisten('trace channel');
    await conn.unlisten();
    expect(statements(seen)).toEqual([
      ['LISTEN "trace channel"', 0, null, undefined],
      ['SELECT pg_notify($1, $2)', 2, 1, undefined],
      ['UNLISTEN "trace channel"', 0, null, undefined],
      ['UNLISTEN *', 0, null, undefined],
    ]);
    // each resolves with nothing: no result
    expect(seen.filter((item) => item.event === 'asyncEnd').map((item) => item.context.result)).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('publishes nothing for setSession(), which sends nothing, nor for a listen() refused before sending', async () => {
    const other = await connectTest({ autocommit: false });
    try {
      const seen = subscribe('pqnode:query');
      await other.setSession({ readonly: true });
      await rejectionOf(other.listen(''));
      expect(seen).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('publishes the statements of large objects', async () => {
    const other = await connectTest({ autocommit: false });
    try {
      const seen = subscribe('pqnode:query');
      const lobject = await other.lobject();
      await lobject.write(Buffer.from('abc'));
      await lobject.unlink();
      const queries = statements(seen).map((item) => item[0]);
      expect(queries).toEqual(expect.arrayContaining(['SELECT lo_create(0) AS oid', 'SELECT lowrite($1, $2) AS n', 'SELECT lo_unlink($1)']));
    } finally {
      await other.close();
    }
  });
});

describe('pqnode:query: what pqnode sends for its own sake', () => {
  it("publishes a pool's reset hook, not the SET DateStyle the pool sends after it", async () => {
    // DISCARD ALL puts back the server's DateStyle, which the pool then sets to ISO again
    const pool = new Pool(testDsnWith({ options: '-c DateStyle=SQL,DMY' }), { min: 0, max: 1, timeout: 5, reset: (c) => c.query('DISCARD ALL').then(() => undefined) });
    try {
      const held = await pool.acquire();
      const seen = subscribe('pqnode:query');
      await pool.release(held);
      const again = await pool.acquire();
      expect(again).toBe(held);
      expect(again.info.parameterStatus('DateStyle')).toMatch(/^ISO/);
      await pool.release(again);
      const queries = seen.filter((item) => item.event === 'start').map((item) => item.context.query);
      expect(queries).toEqual(['DISCARD ALL', 'DISCARD ALL']);
    } finally {
      await pool.close();
    }
  });
});

describe('pqnode:query: server-side cursors', () => {
  it('publishes the DECLARE and each FETCH and MOVE with the cursor statement, the command sent and the rows', async () => {
    const other = await connectTest({ autocommit: false });
    try {
      const cursor = other.cursor({ name: 'trace cursor' });
      const seen = subscribe('pqnode:query');
      await cursor.execute('select g from generate_series(1, %s) g', [10]);
      expect(eventsOf(seen)).toEqual(SUCCESS);
      const statement = { query: 'select g from generate_series(1, $1) g', parameterCount: 1, cursor: 'trace cursor' };
      expect(seen[0].context).toEqual({ ...statement, cursorCommand: 'DECLARE "trace cursor" CURSOR FOR', ...server });
      expect(last(seen).rowCount).toBeNull();
      expect(last(seen).result).toBe(cursor);
      seen.length = 0;
      const three = await cursor.fetchmany(3);
      expect(three).toEqual([[1], [2], [3]]);
      await cursor.scroll(2);
      const rest = await cursor.fetchall();
      expect(rest).toEqual([[6], [7], [8], [9], [10]]);
      await cursor.close();
      const ends = seen.filter((item) => item.event === 'asyncEnd').map((item) => item.context);
      // each call's own value: the rows fetched; nothing for a MOVE or a CLOSE, which resolve with none
      expect(ends.map((context) => context.result)).toEqual([three, undefined, rest, undefined]);
      expect(ends[0].result).toBe(three);
      seen.length = 0;
      const one = other.cursor({ name: 'trace one' });
      await one.execute('select 1 as one');
      expect(await one.fetchone()).toEqual([1]);
      expect(last(seen).result).toEqual([1]);
      seen.length = 0;
      expect(await one.fetchone()).toBeNull();
      expect(last(seen).result).toBeNull();
      expect(ends).toEqual([
        expect.objectContaining({ ...statement, cursorCommand: 'FETCH FORWARD 3 FROM "trace cursor"', rowCount: 3 }),
        // MOVE RELATIVE counts the one row it lands on, as the server tells
        expect.objectContaining({ ...statement, cursorCommand: 'MOVE RELATIVE 2 FROM "trace cursor"', rowCount: 1 }),
        expect.objectContaining({ ...statement, cursorCommand: 'FETCH FORWARD ALL FROM "trace cursor"', rowCount: 5 }),
        // the CLOSE is a control statement; the check for the cursor before it is not the user's
        expect.objectContaining({ query: 'CLOSE "trace cursor"', parameterCount: 0 }),
      ]);
      expect(ends[3].cursor).toBeUndefined();
    } finally {
      await other.close();
    }
  });

  it('publishes a DECLARE that fails with its error, and nothing for a fetch refused before sending', async () => {
    const other = await connectTest({ autocommit: false });
    try {
      const cursor = other.cursor({ name: 'trace_failing' });
      const seen = subscribe('pqnode:query');
      await rejectionOf(cursor.fetchone());
      expect(seen).toEqual([]);
      const error = await rejectionOf(cursor.execute('select * from no_such_table_here'));
      expect(eventsOf(seen)).toEqual(FAILURE);
      expect(last(seen)).toMatchObject({ query: 'select * from no_such_table_here', cursor: 'trace_failing', error });
      expect((error as errors.DatabaseError).sqlstate).toBe('42P01');
    } finally {
      await other.close();
    }
  });
});

describe('pqnode:query: batches and procedures of a cursor', () => {
  it('publishes executemany() as one span: the statement, its parameters per execution, the executions, the rows', async () => {
    const table = uniqueName('trace_many');
    await conn.query(`create temp table ${table} (a int primary key, b text)`);
    const cursor = conn.cursor();
    const seen = subscribe('pqnode:query');
    await cursor.executemany(`insert into ${table} values (%s, %s)`, [[1, 'x'], [2, 'y'], [3, 'z']]);
    expect(eventsOf(seen)).toEqual(SUCCESS);
    expect(seen[0].context).toEqual({ query: `insert into ${table} values ($1, $2)`, parameterCount: 2, batchSize: 3, ...server });
    expect(last(seen).rowCount).toBe(3);
    // executemany() resolves with nothing: no result
    expect(last(seen).result).toBeUndefined();

    seen.length = 0;
    const error = await rejectionOf(cursor.executemany(`insert into ${table} values (%(a)s, %(b)s)`, [{ a: 4, b: 'w' }, { a: 1, b: 'again' }]));
    expect(eventsOf(seen)).toEqual(FAILURE);
    expect(last(seen)).toMatchObject({ query: `insert into ${table} values ($1, $2)`, batchSize: 2, error });
    expect((error as errors.DatabaseError).sqlstate).toBe('23505');

    seen.length = 0;
    await cursor.executemany(`insert into ${table} values (%s, %s)`, []);
    expect(seen).toEqual([]);
  });

  it('publishes executeValues() page by page, each page the statement it is', async () => {
    const table = uniqueName('trace_values');
    await conn.query(`create temp table ${table} (a int, b text)`);
    const cursor = conn.cursor();
    const seen = subscribe('pqnode:query');
    await cursor.executeValues(`insert into ${table} values %s`, [[1, 'a'], [2, 'b'], [3, 'c'], [4, 'd'], [5, 'e']], { pageSize: 2 });
    const ends = seen.filter((item) => item.event === 'asyncEnd').map((item) => item.context);
    expect(ends.map((context) => [context.query, context.parameterCount, context.rowCount])).toEqual([
      [`insert into ${table} values ($1, $2),($3, $4)`, 4, 2],
      [`insert into ${table} values ($1, $2),($3, $4)`, 4, 2],
      [`insert into ${table} values ($1, $2)`, 2, 1],
    ]);
    expect(eventsOf(seen).filter((event) => event === 'error')).toEqual([]);

    seen.length = 0;
    await cursor.executeValues(`insert into ${table} values %s`, []);
    expect(seen).toEqual([]);
  });

  it('publishes callproc() with the statement it sends', async () => {
    const cursor = conn.cursor();
    const seen = subscribe('pqnode:query');
    await cursor.callproc('repeat', ['ab', 3]);
    expect(eventsOf(seen)).toEqual(SUCCESS);
    expect(last(seen)).toMatchObject({ query: 'SELECT * FROM repeat($1, $2)', parameterCount: 2, rowCount: 1, ...server });
  });

  it('gives a cursor statement that returns no count a null rowCount, as conn.query() does', async () => {
    const seen = subscribe('pqnode:query');
    await conn.execute(`create temp table ${uniqueName('trace_ddl')} (a int)`);
    await conn.query(`create temp table ${uniqueName('trace_ddl')} (a int)`);
    const ends = seen.filter((item) => item.event === 'asyncEnd').map((item) => item.context);
    expect(ends.map((context) => context.rowCount)).toEqual([null, null]);
  });
});

describe('pqnode:connect', () => {
  it('publishes a connect with the server it reached', async () => {
    const seen = subscribe('pqnode:connect');
    const other = await connect(testDsn());
    try {
      expect(eventsOf(seen)).toEqual(SUCCESS);
      expect(last(seen)).toMatchObject(server);
      expect(last(seen).result).toBe(other);
      expect(JSON.stringify(seen.map((item) => item.context.host))).not.toContain('password');
    } finally {
      await other.close();
    }
  });

  it('publishes a failed connect with its error and the server it tried', async () => {
    const seen = subscribe('pqnode:connect');
    const error = await rejectionOf(connect({ host: '127.0.0.1', port: 1, dbname: 'nowhere', connect_timeout: 5 }));
    expect(eventsOf(seen)).toEqual(FAILURE);
    expect(seen[0].context).toMatchObject({ host: '127.0.0.1', port: 1, database: 'nowhere' });
    expect(last(seen).error).toBe(error);
    expect(error).toBeInstanceOf(errors.OperationalError);
  });

  it('publishes the connect of a pqnode/pg client', async () => {
    const seen = subscribe('pqnode:connect');
    const client = new Client(testDsn());
    await client.connect();
    await client.end();
    expect(eventsOf(seen)).toEqual(SUCCESS);
    expect(last(seen)).toMatchObject(server);
  });
});

describe('pqnode:pool:acquire', () => {
  it('publishes an acquisition with the pool state and the connection handed out', async () => {
    const pool = new Pool(testDsn(), { min: 0, max: 1, timeout: 5 });
    try {
      const seen = subscribe('pqnode:pool:acquire');
      const held = await pool.acquire();
      expect(eventsOf(seen)).toEqual(SUCCESS);
      expect(seen[0].context).toEqual({ size: 0, idle: 0, waiting: 0 });
      expect(last(seen)).toMatchObject({ ...server, result: held });
      await pool.release(held);

      // the one connection is busy: the next caller waits, then times out
      seen.length = 0;
      const busy = await pool.acquire();
      const error = await rejectionOf(pool.acquire({ timeout: 0.2 }));
      expect(eventsOf(seen.slice(4))).toEqual(FAILURE);
      expect(seen[4].context).toMatchObject({ size: 1, idle: 0, waiting: 0 });
      expect(last(seen).error).toBe(error);
      await pool.release(busy);

      // pool.query() takes its connection the same way
      seen.length = 0;
      await pool.query('select 1');
      expect(eventsOf(seen)).toEqual(SUCCESS);
    } finally {
      await pool.close();
    }
  });
});

describe('pqnode:copy', () => {
  it('publishes COPY FROM STDIN with the rows copied', async () => {
    const table = uniqueName('trace_copy');
    await conn.query(`create temp table ${table} (a int, b text)`);
    const seen = subscribe('pqnode:copy');
    const count = await conn.copyFrom(`copy ${table} from stdin`, ['1\tx\n', '2\ty\n', '3\tz\n']);
    expect(count).toBe(3);
    expect(eventsOf(seen)).toEqual(SUCCESS);
    expect(seen[0].context).toEqual({ query: `copy ${table} from stdin`, parameterCount: 0, ...server });
    expect(last(seen).rowCount).toBe(3);
  });

  it('publishes COPY TO STDOUT with the rows copied', async () => {
    const seen = subscribe('pqnode:copy');
    const chunks: Buffer[] = [];
    for await (const chunk of conn.copyTo('copy (select generate_series(1, 4)) to stdout')) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('1\n2\n3\n4\n');
    expect(eventsOf(seen)).toEqual(SUCCESS);
    expect(last(seen)).toMatchObject({ query: 'copy (select generate_series(1, 4)) to stdout', rowCount: 4, ...server });
  });

  it('publishes copy() with its parameters counted and the statement as written', async () => {
    const seen = subscribe('pqnode:copy');
    const copy = await conn.copy('copy (select generate_series(1, $1::int)) to stdout', [2]);
    const rows: Buffer[] = [];
    for await (const chunk of copy) rows.push(chunk);
    expect(eventsOf(seen)).toEqual(SUCCESS);
    expect(last(seen)).toMatchObject({ query: 'copy (select generate_series(1, $1::int)) to stdout', parameterCount: 1, rowCount: 2 });
  });

  it('publishes a failing COPY with its error', async () => {
    const table = uniqueName('trace_copy');
    await conn.query(`create temp table ${table} (a int)`);
    const seen = subscribe('pqnode:copy');
    const error = await rejectionOf(conn.copyFrom(`copy ${table} from stdin`, ['not a number\n']));
    expect(eventsOf(seen)).toEqual(FAILURE);
    expect((last(seen).error as errors.DatabaseError).sqlstate).toBe('22P02');
    expect(error).toBeInstanceOf(errors.DatabaseError);
  });

  it('publishes the COPY streams of pqnode/pg', async () => {
    const client = new Client(testDsn());
    await client.connect();
    try {
      const table = uniqueName('trace_pg_copy');
      await client.query(`create temp table ${table} (a int)`);
      const seen = subscribe('pqnode:copy');
      await pipeline(Readable.from(['1\n', '2\n']), client.query(copyStreams.from(`copy ${table} from stdin`)));
      expect(eventsOf(seen)).toEqual(SUCCESS);
      expect(last(seen)).toMatchObject({ query: `copy ${table} from stdin`, rowCount: 2, ...server });
      seen.length = 0;
      const chunks: Buffer[] = [];
      for await (const chunk of client.query(copyStreams.to(`copy ${table} to stdout`))) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe('1\n2\n');
      expect(eventsOf(seen)).toEqual(SUCCESS);
      expect(last(seen).rowCount).toBe(2);
    } finally {
      await client.end();
    }
  });

  it('is not a query: a COPY is published on pqnode:copy only', async () => {
    const queries = subscribe('pqnode:query');
    const copies = subscribe('pqnode:copy');
    for await (const chunk of conn.copyTo('copy (select 1) to stdout')) void chunk;
    await conn.copyFrom('copy (select 1) to stdout', []).catch(() => undefined);
    expect(queries).toEqual([]);
    expect(eventsOf(copies).filter((event) => event === 'start')).toHaveLength(2);
  });
});

describe('older Nodes', () => {
  it('gives a TracingChannel the hasSubscribers that Node before 20.13 lacks', async () => {
    const prototype = Object.getPrototypeOf(diagnosticsChannel.tracingChannel('pqnode:query')) as object;
    const descriptor = Object.getOwnPropertyDescriptor(prototype, 'hasSubscribers');
    expect(descriptor).toBeDefined();
    Reflect.deleteProperty(prototype, 'hasSubscribers');
    try {
      vi.resetModules();
      const tracing = await import('../lib/tracing');
      expect(tracing.queryChannel.hasSubscribers).toBe(false);
      subscribe('pqnode:query');
      expect(tracing.queryChannel.hasSubscribers).toBe(true);
      expect(tracing.copyChannel.hasSubscribers).toBe(false);
    } finally {
      Object.defineProperty(prototype, 'hasSubscribers', descriptor as PropertyDescriptor);
    }
  });
});
