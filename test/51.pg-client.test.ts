// pqnode/pg's Client against node-postgres's contract: connecting and ending, query forms,
// results, callbacks and promises, named statements, events, errors of misuse.
import { afterEach, describe, expect, it } from 'vitest';

import pg, { Client, DatabaseError, Query } from '../lib/pg';
import { rejectionOf, testDsn, uniqueName } from './helpers';

const open: Client[] = [];

async function client(config: Record<string, unknown> = {}): Promise<Client> {
  const c = new Client({ connectionString: testDsn(), ...config });
  open.push(c);
  await c.connect();
  return c;
}

afterEach(async () => {
  for (const c of open.splice(0)) await c.end().catch(() => undefined);
});

describe('connecting and ending', () => {
  it('connects with a promise, reports the backend pid, ends with a promise and emits end once', async () => {
    const c = new Client(testDsn());
    await c.connect();
    expect(typeof c.processID).toBe('number');
    const { rows } = await c.query('SELECT pg_backend_pid() AS pid');
    expect(rows[0].pid).toBe(c.processID);
    let ends = 0;
    c.on('end', () => ends++);
    await c.end();
    await c.end();
    expect(ends).toBe(1);
  });

  it('connects and ends with callbacks', async () => {
    const c = new Client({ connectionString: testDsn() });
    await new Promise<void>((resolve, reject) => c.connect((error) => (error ? reject(error) : resolve())));
    const result = await new Promise<pg.Result>((resolve, reject) => c.query('SELECT 1 AS one', (error, res) => (error ? reject(error) : resolve(res))));
    expect(result.rows).toEqual([{ one: 1 }]);
    await new Promise<void>((resolve, reject) => c.end((error) => (error ? reject(error) : resolve())));
  });

  it('refuses to connect twice', async () => {
    const c = await client();
    const error = await rejectionOf(c.connect());
    expect(error.message).toMatch(/already been connected/);
  });

  it('fails a connect to a port nobody listens on with an Error carrying ECONNREFUSED', async () => {
    const c = new Client({ host: '127.0.0.1', port: 1, connectionTimeoutMillis: 5000 });
    const error = (await rejectionOf(c.connect())) as Error & { code?: string };
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('ECONNREFUSED');
  });

  it('runs queries issued before connect() once connected', async () => {
    const c = new Client(testDsn());
    open.push(c);
    const early = c.query('SELECT 2 AS two');
    await c.connect();
    expect((await early).rows).toEqual([{ two: 2 }]);
  });

  it('fails queries after end() as node-postgres words it', async () => {
    const c = await client();
    await c.end();
    const error = await rejectionOf(c.query('SELECT 1'));
    expect(error.message).toBe('Client was closed and is not queryable');
  });
});

describe('results', () => {
  it('has rows, rowCount, command, oid and fields with node-postgres names', async () => {
    const c = await client();
    const table = uniqueName('pgres');
    const created = await c.query(`CREATE TEMP TABLE ${table} (id int PRIMARY KEY, name text)`);
    expect(created.command).toBe('CREATE');
    expect(created.rowCount).toBeNull();
    const inserted = await c.query(`INSERT INTO ${table} VALUES (1, 'a'), (2, 'b')`);
    expect(inserted).toMatchObject({ command: 'INSERT', rowCount: 2, oid: 0, rows: [] });
    const selected = await c.query(`SELECT id, name FROM ${table} ORDER BY id`);
    expect(selected.command).toBe('SELECT');
    expect(selected.rowCount).toBe(2);
    expect(selected.rows).toEqual([
      { id: 1, name: 'a' },
      { id: 2, name: 'b' },
    ]);
    expect(selected.fields.map((f) => f.name)).toEqual(['id', 'name']);
    const [id] = selected.fields;
    expect(id).toMatchObject({ dataTypeID: 23, dataTypeSize: 4, dataTypeModifier: -1, format: 'text' });
    expect(id.tableID).toBeGreaterThan(0);
    expect(id.columnID).toBe(1);
    const updated = await c.query(`UPDATE ${table} SET name = 'z'`);
    expect(updated).toMatchObject({ command: 'UPDATE', rowCount: 2 });
  });

  it('gives arrays with rowMode array, and the last column of a repeated name in objects', async () => {
    const c = await client();
    const arrays = await c.query({ text: 'SELECT 1 AS a, 2 AS a', rowMode: 'array' });
    expect(arrays.rows).toEqual([[1, 2]]);
    const objects = await c.query('SELECT 1 AS a, 2 AS a');
    expect(objects.rows).toEqual([{ a: 2 }]);
  });

  it('gives an array of results for several statements', async () => {
    const c = await client();
    const results = (await c.query('SELECT 1 AS x; SELECT 2 AS y')) as unknown as pg.Result[];
    expect(Array.isArray(results)).toBe(true);
    expect(results.map((r) => r.rows)).toEqual([[{ x: 1 }], [{ y: 2 }]]);
  });

  it('emits row and end on a Query submitted to the client', async () => {
    const c = await client();
    const query = new Query('SELECT generate_series(1, 3) AS n');
    const rows: unknown[] = [];
    query.on('row', (row) => rows.push(row));
    const ended = new Promise((resolve) => query.on('end', resolve));
    expect(c.query(query)).toBe(query);
    const result = (await ended) as pg.Result;
    expect(rows).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(result.rowCount).toBe(3);
  });
});

describe('parameters', () => {
  it('sends values as node-postgres prepares them', async () => {
    const c = await client();
    const date = new Date(2020, 0, 2, 3, 4, 5, 678);
    const { rows } = await c.query(
      'SELECT $1::int AS i, $2::text AS t, $3::timestamptz AS d, $4::bytea AS b, $5::int[] AS a, $6::jsonb AS j, $7::text AS n, $8::text AS custom, $9::bool AS flag',
      [42, 'héllo', date, Buffer.from([1, 2, 255]), [1, null, 3], { k: [1, 'x'] }, null, { toPostgres: () => 'from toPostgres' }, true],
    );
    expect(rows[0]).toEqual({
      i: 42,
      t: 'héllo',
      d: date,
      b: Buffer.from([1, 2, 255]),
      a: [1, null, 3],
      j: { k: [1, 'x'] },
      n: null,
      custom: 'from toPostgres',
      flag: true,
    });
  });

  it('reads a Date parameter of a timestamp column as local time, as node-postgres does', async () => {
    const c = await client();
    const date = new Date(2021, 5, 7, 8, 9, 10, 11);
    const { rows } = await c.query('SELECT $1::timestamp AS ts, $1::timestamp::text AS text', [date]);
    expect(rows[0].ts).toEqual(date);
    expect(rows[0].text).toBe('2021-06-07 08:09:10.011');
  });

  it('refuses an undefined query', () => {
    const c = new Client();
    expect(() => c.query(undefined as unknown as string)).toThrow(TypeError);
  });
});

describe('errors', () => {
  it('rejects with a DatabaseError carrying the server fields under node-postgres names', async () => {
    const c = await client();
    const table = uniqueName('pgerr');
    await c.query(`CREATE TEMP TABLE ${table} (id int CONSTRAINT ${table}_pk PRIMARY KEY)`);
    await c.query(`INSERT INTO ${table} VALUES (1)`);
    const error = (await rejectionOf(c.query(`INSERT INTO ${table} VALUES ($1)`, [1]))) as DatabaseError;
    expect(error).toBeInstanceOf(DatabaseError);
    expect(error).toBeInstanceOf(pg.DatabaseError);
    expect(error.message).toBe(`duplicate key value violates unique constraint "${table}_pk"`);
    expect(error).toMatchObject({ code: '23505', severity: 'ERROR', table, constraint: `${table}_pk`, detail: 'Key (id)=(1) already exists.' });
    expect(error.schema).toMatch(/^pg_temp/);
    expect(typeof error.routine).toBe('string');
    expect(typeof error.file).toBe('string');
    const syntax = (await rejectionOf(c.query('SELECT FROM WHERE'))) as DatabaseError;
    expect(syntax.code).toBe('42601');
    expect(syntax.position).toBe('13');
  });

  it('fails a query whose own types config throws through its promise or callback, never synchronously', async () => {
    const c = await client();
    const types = {
      getTypeParser: (): never => {
        throw new Error('no parser here');
      },
    };
    let promise: Promise<unknown> | undefined;
    expect(() => (promise = c.query({ text: 'SELECT 1 AS one', types }))).not.toThrow();
    expect((await rejectionOf(promise as Promise<unknown>)).message).toBe('no parser here');
    const called = await new Promise<Error | null>((resolve) => c.query({ text: 'SELECT 1 AS one', types }, (error: Error | null) => resolve(error)));
    expect(called?.message).toBe('no parser here');
    expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('keeps the client usable after an error, and calls back with it', async () => {
    const c = await client();
    const error = await new Promise<Error | null>((resolve) => c.query('SELECT 1/0', (err) => resolve(err)));
    expect((error as DatabaseError).code).toBe('22012');
    expect((await c.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
  });

  it('reports a connection lost while idle through the error event, then end', async () => {
    const c = await client();
    const killer = await client();
    const errored = new Promise<Error>((resolve) => c.once('error', resolve));
    const ended = new Promise<void>((resolve) => c.once('end', resolve));
    await killer.query('SELECT pg_terminate_backend($1)', [c.processID]);
    const error = await errored;
    expect(error).toBeInstanceOf(Error);
    await ended;
    const after = await rejectionOf(c.query('SELECT 1'));
    expect(after.message).toMatch(/not queryable/);
  });
});

describe('named statements', () => {
  it('prepares a named statement once and refuses the name for another text', async () => {
    const c = await client();
    const first = await c.query({ name: 'get-n', text: 'SELECT $1::int + 1 AS n', values: [1] });
    const second = await c.query({ name: 'get-n', text: 'SELECT $1::int + 1 AS n', values: [41] });
    expect([first.rows, second.rows]).toEqual([[{ n: 2 }], [{ n: 42 }]]);
    const { rows } = await c.query<{ count: string }>("SELECT count(*) FROM pg_prepared_statements WHERE statement = 'SELECT $1::int + 1 AS n'");
    expect(rows[0].count).toBe('1');
    const error = await rejectionOf(c.query({ name: 'get-n', text: 'SELECT 2', values: [] }));
    expect(error.message).toMatch(/Prepared statements must be unique - 'get-n'/);
  });
});

describe('automatic preparing (prepareThreshold)', () => {
  const TEXT = 'SELECT $1::int * 7 AS n';

  /** The statements prepared on the client's own session with this text. */
  async function preparedCount(c: Client): Promise<number> {
    const { rows } = await c.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement = $1', [TEXT]);
    return rows[0].n;
  }

  async function runTimes(c: Client, times: number): Promise<void> {
    for (let i = 0; i < times; i++) {
      const { rows } = await c.query<{ n: number }>(TEXT, [i]);
      expect(rows).toEqual([{ n: i * 7 }]);
    }
  }

  it('prepares a statement run more than prepareThreshold times (5 by default)', async () => {
    const c = await client();
    await runTimes(c, 5);
    expect(await preparedCount(c)).toBe(0);
    await runTimes(c, 1);
    expect(await preparedCount(c)).toBe(1);
  });

  it('prepareThreshold: null in the config never prepares an unnamed statement, as node-postgres', async () => {
    const c = await client({ prepareThreshold: null });
    await runTimes(c, 12);
    expect(await preparedCount(c)).toBe(0);
  });

  it('takes a threshold of its own, and pg.defaults.prepareThreshold when the config has none', async () => {
    const early = await client({ prepareThreshold: 0 });
    await runTimes(early, 1);
    expect(await preparedCount(early)).toBe(1);
    expect(pg.defaults.prepareThreshold).toBe(5);
    pg.defaults.prepareThreshold = null;
    try {
      const c = await client();
      await runTimes(c, 12);
      expect(await preparedCount(c)).toBe(0);
      // the config wins over the defaults
      const own = await client({ prepareThreshold: 1 });
      await runTimes(own, 2);
      expect(await preparedCount(own)).toBe(1);
    } finally {
      pg.defaults.prepareThreshold = 5;
    }
  });

  it('refuses a threshold that is not a non-negative integer or null, at connect', async () => {
    const c = new Client({ connectionString: testDsn(), prepareThreshold: -1 });
    open.push(c);
    const error = await rejectionOf(c.connect());
    expect(error.message).toMatch(/prepareThreshold must be a non-negative integer, or null/);
  });
});

describe('concurrency and timeouts', () => {
  it('runs concurrent queries on one client in order, each with its own result', async () => {
    const c = await client();
    const queries = Array.from({ length: 50 }, (_, i) => c.query('SELECT $1::int AS i', [i]));
    const results = await Promise.all(queries);
    expect(results.map((r) => r.rows[0].i)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('fails a query past query_timeout with Query read timeout, and cancels it on the server', async () => {
    const c = await client({ query_timeout: 200 });
    const started = Date.now();
    const error = await rejectionOf(c.query('SELECT pg_sleep(5)'));
    expect(error.message).toBe('Query read timeout');
    expect(Date.now() - started).toBeLessThan(3000);
    // the statement was cancelled: the client is free at once
    expect((await c.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
  });

  it('applies statement_timeout on the server', async () => {
    const c = await client({ statement_timeout: 100 });
    const error = (await rejectionOf(c.query('SELECT pg_sleep(2)'))) as DatabaseError;
    expect(error.code).toBe('57014');
    const { rows } = await c.query('SHOW statement_timeout');
    expect(rows[0].statement_timeout).toBe('100ms');
  });
});

describe('events', () => {
  it('emits notice and notification', async () => {
    const c = await client();
    const notice = new Promise<{ message: string; severity?: string; code?: string }>((resolve) => c.once('notice', resolve));
    await c.query("DO $$ BEGIN RAISE NOTICE 'hello %', 42; END $$");
    expect(await notice).toMatchObject({ message: 'hello 42', severity: 'NOTICE', code: '00000', name: 'notice' });
    const notification = new Promise<pg.NotificationMessage>((resolve) => c.once('notification', resolve));
    await c.query('LISTEN pgchan');
    await c.query("NOTIFY pgchan, 'payload'");
    expect(await notification).toMatchObject({ channel: 'pgchan', payload: 'payload', processId: c.processID, name: 'notification' });
  });
});

describe('escaping', () => {
  it('escapes identifiers and literals as node-postgres does', () => {
    expect(pg.escapeIdentifier('a"b')).toBe('"a""b"');
    expect(pg.escapeLiteral("it's")).toBe("'it''s'");
    expect(pg.escapeLiteral('back\\slash')).toBe(" E'back\\\\slash'");
    expect(new Client().escapeLiteral('x')).toBe("'x'");
  });
});
