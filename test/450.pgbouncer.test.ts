// PgBouncer in transaction mode in front of a throwaway server, its pool of two server
// connections shared by many clients: what the README advises (prepareThreshold: null) under
// concurrent load, and what automatic preparing does there — an error that says what went
// wrong, never another statement's result. Without pgbouncer the tests skip, saying why.
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { connect, errors, Pool, type Connection, type ConnectOptions } from '../lib';
import pg from '../lib/pg';
import { loadTestServerModule, type TestServer } from './helpers';
import { loadPgbouncerModule, pgbouncerMissing, startPgbouncerFor, type Pgbouncer } from './support/pgbouncer';

const SERVER_POOL_SIZE = 2;

let server: TestServer | undefined;
let bouncer: Pgbouncer | undefined;
let skipReason = '';

beforeAll(async () => {
  skipReason = await pgbouncerMissing();
  if (skipReason !== '') return;
  const { startTestServer } = await loadTestServerModule();
  server = await startTestServer();
  bouncer = await startPgbouncerFor(server, { poolMode: 'transaction', poolSize: SERVER_POOL_SIZE });
}, 60_000);

afterAll(async () => {
  await bouncer?.stop();
  await server?.stop();
});

/** PgBouncer's connection string, or a skip saying why there is none. */
function bouncerDsn(context: TestContext): string {
  if (bouncer === undefined) return context.skip(skipReason) as never;
  return bouncer.dsn;
}

const opened: Connection[] = [];
afterAll(async () => {
  await Promise.all(opened.splice(0).map((conn) => conn.close()));
});

async function client(dsn: string, options: ConnectOptions = {}): Promise<Connection> {
  const conn = await connect(dsn, { autocommit: true, ...options });
  opened.push(conn);
  return conn;
}

/** The backends (server processes) behind PgBouncer right now, as the server sees them. */
async function serverBackends(): Promise<number> {
  const admin = await connect(server!.dsn, { autocommit: true });
  try {
    const result = await admin.query<{ n: number }>(
      "select count(*)::int as n from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()",
    );
    return result.rows[0].n;
  } finally {
    await admin.close();
  }
}

/**
 * A client in a transaction on the server connection `pid`, so that PgBouncer hands the
 * others that one no more: transactions are opened until one lands on it, the rest ended.
 */
async function holdBackend(dsn: string, pid: number): Promise<Connection> {
  const tried: Connection[] = [];
  try {
    for (let i = 0; i < SERVER_POOL_SIZE; i++) {
      const conn = await client(dsn, { autocommit: false });
      tried.push(conn);
      const result = await conn.query<{ pid: number }>('select pg_backend_pid() as pid');
      if (result.rows[0].pid === pid) {
        tried.pop();
        return conn;
      }
    }
    throw new Error(`no transaction landed on backend ${pid}`);
  } finally {
    await Promise.all(tried.map((conn) => conn.rollback()));
  }
}

describe('prepareThreshold: null, as the README advises for transaction pooling', () => {
  it('eight clients over two server connections: hundreds of statements and transactions, every result right', async (context) => {
    const dsn = bouncerDsn(context);
    const pool = new Pool(dsn, { min: 8, max: 8, timeout: 20, connectOptions: { prepareThreshold: null } });
    const admin = await client(dsn);
    const table = `bouncer_rows_${process.pid}`;
    await admin.query(`create table ${table} (id int primary key, v int not null)`);
    try {
      await pool.wait(10);
      // far more runs of each text than the threshold, with parameters of different types
      const statements: Promise<void>[] = [];
      for (let i = 0; i < 400; i++) {
        const kind = i % 4;
        if (kind === 0) {
          statements.push(
            pool.query<{ v: number }>('select $1::int * 3 as v', [i]).then((result) => {
              expect(result.rows).toEqual([{ v: i * 3 }]);
            }),
          );
        } else if (kind === 1) {
          statements.push(
            pool.query<{ s: string }>("select $1::text || '-' || $2::int as s", [`t${i}`, i]).then((result) => {
              expect(result.rows).toEqual([{ s: `t${i}-${i}` }]);
            }),
          );
        } else if (kind === 2) {
          statements.push(
            pool.query<{ n: number }>('select n::int from generate_series(1, $1::int) as n', [i % 7]).then((result) => {
              expect(result.rows.map((row) => row.n)).toEqual(Array.from({ length: i % 7 }, (_, k) => k + 1));
            }),
          );
        } else {
          // a transaction of its own: both rows or neither, read back inside it
          statements.push(
            pool.connection(async (conn) => {
              await conn.transaction(async (tx) => {
                await tx.query(`insert into ${table} values ($1, $2)`, [i, i * 2]);
                await tx.query(`insert into ${table} values ($1, $2)`, [-i, -i * 2]);
                const seen = await tx.query<{ v: number }>(`select v from ${table} where id in ($1, $2) order by v`, [i, -i]);
                expect(seen.rows).toEqual([{ v: -i * 2 }, { v: i * 2 }]);
              });
            }),
          );
        }
      }
      const outcomes = await Promise.allSettled(statements);
      const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => o.reason as unknown);
      expect(failures).toEqual([]);
      const rows = await admin.query<{ n: number; total: number }>(`select count(*)::int as n, sum(v)::int as total from ${table}`);
      expect(rows.rows).toEqual([{ n: 200, total: 0 }]);
      // eight clients really shared two server connections
      expect(pool.stats().poolSize).toBe(8);
      expect(await serverBackends()).toBeLessThanOrEqual(SERVER_POOL_SIZE);
    } finally {
      await pool.close(1);
      await admin.query(`drop table if exists ${table}`);
    }
  });
});

describe('automatic preparing through transaction pooling', () => {
  it("one client's prepared statement never runs for another's parameters", async (context) => {
    const dsn = bouncerDsn(context);
    // two clients whose first prepared statements sit on different server connections
    const adds = await client(dsn);
    const times = await client(dsn);
    const ADD = 'select $1::int + 1 as v, pg_backend_pid() as pid';
    const TIMES = 'select $1::int * 10 as v, pg_backend_pid() as pid';
    const first = await client(dsn, { autocommit: false });
    const firstPid = (await first.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0].pid;
    const added = await adds.query<{ v: number; pid: number }>(ADD, [1], { prepare: true });
    expect(added.rows[0]).toMatchObject({ v: 2 });
    const addsPid = added.rows[0].pid;
    expect(addsPid).not.toBe(firstPid);
    await first.rollback();
    const holdAdds = await holdBackend(dsn, addsPid);
    const timed = await times.query<{ v: number; pid: number }>(TIMES, [1], { prepare: true });
    expect(timed.rows[0]).toEqual({ v: 10, pid: firstPid });
    await holdAdds.rollback();
    // now `times` runs its prepared statement by name on the connection where `adds` prepared its own
    const holdTimes = await holdBackend(dsn, firstPid);
    try {
      for (let n = 2; n < 6; n++) {
        const result = await times.query<{ v: number; pid: number }>(TIMES, [n]);
        expect(result.rows[0]).toEqual({ v: n * 10, pid: addsPid });
      }
    } finally {
      await holdTimes.rollback();
    }
  });

  it('a prepared statement missing on the server connection of a transaction: InvalidSqlStatementName, saying so', async (context) => {
    const dsn = bouncerDsn(context);
    const conn = await client(dsn);
    const prepared = await conn.query<{ pid: number }>('select pg_backend_pid() as pid, $1::int as v', [1], { prepare: true });
    const pid = prepared.rows[0].pid;
    const hold = await holdBackend(dsn, pid);
    try {
      conn.autocommit = false;
      const error = await conn.query('select pg_backend_pid() as pid, $1::int as v', [2]).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(errors.InvalidSqlStatementName);
      expect((error as Error).message).toMatch(/prepared statement "_pqnode_\w+" does not exist/);
      await conn.rollback();
      // prepared again on its next run, on the server connection it lands on
      const again = await conn.query<{ v: number }>('select pg_backend_pid() as pid, $1::int as v', [3]);
      expect(again.rows[0].v).toBe(3);
      await conn.rollback();
    } finally {
      conn.autocommit = true;
      await hold.rollback();
    }
  });

  it('under concurrent load with the default threshold: right results or errors that say why, nothing else', async (context) => {
    const dsn = bouncerDsn(context);
    const pool = new Pool(dsn, { min: 8, max: 8, timeout: 20 });
    try {
      await pool.wait(10);
      const texts = Array.from({ length: 6 }, (_, k) => `select $1::int * ${k + 2} as v`);
      const wrong: string[] = [];
      const failures: unknown[] = [];
      let right = 0;
      const runs: Promise<void>[] = [];
      for (let i = 0; i < 600; i++) {
        const k = i % texts.length;
        const inTransaction = i % 5 === 0;
        const run = inTransaction
          ? pool.connection(async (conn) => (await conn.query<{ v: number }>(texts[k], [i])).rows[0].v)
          : pool.query<{ v: number }>(texts[k], [i]).then((result) => result.rows[0].v);
        runs.push(
          run.then(
            (v) => {
              if (v === i * (k + 2)) right++;
              else wrong.push(`${texts[k]} with ${i} gave ${v}`);
            },
            (error: unknown) => {
              failures.push(error);
            },
          ),
        );
      }
      await Promise.all(runs);
      expect(wrong).toEqual([]);
      for (const failure of failures) {
        expect(failure).toBeInstanceOf(errors.InvalidSqlStatementName);
      }
      expect(right + failures.length).toBe(600);
      expect(right).toBeGreaterThan(0);
    } finally {
      await pool.close(1);
    }
  });
});

describe('pqnode/pg through transaction pooling', () => {
  /**
   * A pg Pool of eight clients under concurrent load: statements run more often than the
   * threshold, some of them in transactions (BEGIN ... COMMIT as node-postgres apps write
   * them). Resolves with the failures, every result checked.
   */
  async function load(dsn: string, config: pg.PoolConfig): Promise<unknown[]> {
    const pool = new pg.Pool({ connectionString: dsn, max: 8, ...config });
    const texts = Array.from({ length: 6 }, (_, k) => `select $1::int * ${k + 2} as v`);
    try {
      const runs = Array.from({ length: 600 }, async (_, i) => {
        const k = i % texts.length;
        if (i % 3 !== 0) {
          const { rows } = await pool.query<{ v: number }>(texts[k], [i]);
          expect(rows).toEqual([{ v: i * (k + 2) }]);
          return;
        }
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const first = await client.query<{ v: number }>(texts[k], [i]);
          const second = await client.query<{ v: number }>(texts[(k + 1) % texts.length], [i]);
          await client.query('COMMIT');
          expect([first.rows, second.rows]).toEqual([[{ v: i * (k + 2) }], [{ v: i * (((k + 1) % texts.length) + 2) }]]);
          client.release();
        } catch (error) {
          client.release(true);
          throw error;
        }
      });
      const outcomes = await Promise.allSettled(runs);
      return outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => o.reason as unknown);
    } finally {
      await pool.end();
    }
  }

  it('prepareThreshold: null: a pool under concurrent load with transactions, every result right', async (context) => {
    const dsn = bouncerDsn(context);
    expect(await load(dsn, { prepareThreshold: null })).toEqual([]);
    expect(await serverBackends()).toBeLessThanOrEqual(SERVER_POOL_SIZE);
  });

  it('the default threshold: what fails says which setting to change', async (context) => {
    const dsn = bouncerDsn(context);
    const failures = await load(dsn, {});
    // two hundred transactions over two server connections: some land where their statement is not
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) {
      expect(failure).toBeInstanceOf(pg.DatabaseError);
      expect(failure).toMatchObject({ code: '26000' });
      expect((failure as Error).message).toMatch(/^prepared statement "_pqnode_\w+" does not exist: .*prepareThreshold: null/);
    }
  });
});

/** Whether a version ('1.18.0') is at least major.minor. */
function atLeast(version: string | null, major: number, minor: number): boolean {
  const [a = 0, b = 0] = (version ?? '0').split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

describe('PgBouncer 1.21+ with max_prepared_statements', () => {
  it('automatic preparing at the default threshold: every result right, no error', async (context) => {
    bouncerDsn(context);
    const { pgbouncerVersion } = await loadPgbouncerModule();
    const version = pgbouncerVersion();
    // Debian 12 ships 1.18: the test runs where a newer one is installed
    if (!atLeast(version, 1, 21)) return context.skip(`pgbouncer ${version} has no max_prepared_statements (1.21+)`);
    const preparing = await startPgbouncerFor(server!, { poolMode: 'transaction', poolSize: SERVER_POOL_SIZE, settings: { max_prepared_statements: 100 } });
    const pool = new Pool(preparing.dsn, { min: 8, max: 8, timeout: 20 });
    try {
      await pool.wait(10);
      const texts = Array.from({ length: 6 }, (_, k) => `select $1::int * ${k + 2} as v`);
      const runs = Array.from({ length: 600 }, (_, i) => {
        const k = i % texts.length;
        const run =
          i % 5 === 0
            ? pool.connection(async (conn) => (await conn.query<{ v: number }>(texts[k], [i])).rows[0].v)
            : pool.query<{ v: number }>(texts[k], [i]).then((result) => result.rows[0].v);
        return run.then((v) => expect(v).toBe(i * (k + 2)));
      });
      const outcomes = await Promise.allSettled(runs);
      expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
    } finally {
      await pool.close(1);
      await preparing.stop();
    }
  });
});
