// The pool's `reset` and `check` hooks: they run in autocommit, so that DISCARD ALL (which
// cannot run inside a transaction block) clears a session for the next caller, and a reset
// that fails is reported instead of silently replacing the connection on every return.
import { describe, expect, it } from 'vitest';
import { errors, Pool, type Connection } from '../lib';
import { errorOf, until } from './fault-helpers';
import { poolsClosedAfterEach, testDsnWith, uniqueName, sharedConnection } from './helpers';

const admin = sharedConnection({ autocommit: true });

const discardAll = async (conn: Connection): Promise<void> => {
  await conn.query('DISCARD ALL');
};

const makePool = poolsClosedAfterEach({ min: 1, max: 1, timeout: 5 });

/** The backend pid of the connection the next caller gets. */
function nextPid(pool: Pool): Promise<number> {
  return pool.connection((conn) => conn.info.backendPid);
}

describe('a reset running DISCARD ALL', () => {
  it('works: the connection is reused, not replaced, and keeps its autocommit mode', async () => {
    // as written in the README: the hook may return the query's promise
    const pool = makePool({ reset: (conn) => conn.query('DISCARD ALL') });
    const first = await pool.acquire();
    const pid = first.info.backendPid;
    await first.query('select 1');
    await pool.release(first);
    const second = await pool.acquire();
    expect(second).toBe(first);
    expect(second.info.backendPid).toBe(pid);
    // reset ran in autocommit; the connection comes back as it was configured
    expect(second.autocommit).toBe(false);
    await pool.release(second);
    expect(await nextPid(pool)).toBe(pid);
    expect(pool.stats()).toMatchObject({ connectionsNum: 1, resetErrors: 0, returnsBad: 0 });
  });

  it('leaves a connection configured in autocommit in autocommit', async () => {
    const pool = makePool({ reset: discardAll, connectOptions: { autocommit: true } });
    const pid = await pool.connection(async (conn) => {
      expect(conn.autocommit).toBe(true);
      return conn.info.backendPid;
    });
    await pool.connection((conn) => {
      expect(conn.autocommit).toBe(true);
      expect(conn.info.backendPid).toBe(pid);
    });
    expect(pool.stats()).toMatchObject({ connectionsNum: 1, resetErrors: 0 });
  });

  it('clears the session for the next caller: SET, temp tables, LISTEN, advisory locks, prepared statements', async () => {
    const pool = makePool({ reset: discardAll });
    const channel = uniqueName('chan');
    const lockKey = Math.floor(Math.random() * 1e9);
    let appName = '';
    const pid = await pool.connection(async (conn) => {
      appName = (await conn.query<{ app: string }>("select current_setting('application_name') as app")).rows[0].app;
      await conn.query("set application_name = 'left over'");
      await conn.query('create temp table left_over (x int)');
      await conn.listen(channel);
      await conn.query('select pg_advisory_lock($1)', [lockKey]);
      await conn.query('select $1::int + 1 as n', [1], { prepare: true });
      return conn.info.backendPid;
    });
    // the lock is a session lock: the commit did not release it, only the reset can
    const locks = await admin().query<{ n: number }>("select count(*)::int as n from pg_locks where locktype = 'advisory' and pid = $1", [pid]);
    expect(locks.rows[0].n).toBe(0);
    await pool.connection(async (conn) => {
      expect(conn.info.backendPid).toBe(pid);
      const { rows } = await conn.query<Record<string, unknown>>(
        `select current_setting('application_name') as app,
                to_regclass('left_over') as temp,
                (select count(*)::int from pg_listening_channels()) as channels,
                (select count(*)::int from pg_prepared_statements) as prepared`,
      );
      expect(rows[0]).toEqual({ app: appName, temp: null, channels: 0, prepared: 0 });
    });
    expect(pool.stats()).toMatchObject({ connectionsNum: 1, resetErrors: 0, returnsBad: 0 });
  });

  it('releases the advisory lock a caller that threw left behind', async () => {
    const lockKey = Math.floor(Math.random() * 1e9);
    const lockHeld = async (): Promise<boolean> => {
      const { rows } = await admin().query<{ n: number }>("select count(*)::int as n from pg_locks where locktype = 'advisory' and objid = $1", [lockKey]);
      return rows[0].n > 0;
    };
    const takeLockAndThrow = (pool: Pool) =>
      errorOf(
        pool.connection(async (conn) => {
          await conn.query('select pg_advisory_lock($1)', [lockKey]);
          throw new Error('failed before unlocking');
        }),
      );
    // without a reset the rollback leaves the session lock to the next caller
    const bare = makePool();
    await takeLockAndThrow(bare);
    expect(await lockHeld()).toBe(true);
    await bare.close(0);
    expect(await until(async () => !(await lockHeld()))).toBe(true);
    const pool = makePool({ reset: discardAll });
    await takeLockAndThrow(pool);
    expect(await lockHeld()).toBe(false);
    expect(pool.stats()).toMatchObject({ connectionsNum: 1, resetErrors: 0 });
  });

  it("lets the next caller run a statement the connection had prepared: pqnode's cache forgets them", async () => {
    const pool = makePool({ reset: discardAll });
    const text = 'select $1::int * 2 as n';
    const pid = await pool.connection(async (conn) => {
      // past prepareThreshold: prepared on the server, executed by name
      for (let i = 0; i < (conn.prepareThreshold ?? 5) + 2; i++) await conn.query(text, [i]);
      const { rows } = await conn.query<{ n: number }>('select count(*)::int as n from pg_prepared_statements');
      expect(rows[0].n).toBe(1);
      return conn.info.backendPid;
    });
    await pool.connection(async (conn) => {
      expect(conn.info.backendPid).toBe(pid);
      // inside a transaction: a stale statement would fail here rather than be retried
      await conn.query('select 1');
      const { rows } = await conn.query<{ n: number }>(text, [21]);
      expect(rows[0].n).toBe(42);
      for (let i = 0; i < (conn.prepareThreshold ?? 5) + 2; i++) expect((await conn.query<{ n: number }>(text, [i])).rows[0].n).toBe(i * 2);
    });
    expect(await pool.query<{ n: number }>(text, [5], { prepare: true })).toMatchObject({ rows: [{ n: 10 }] });
    expect(pool.stats()).toMatchObject({ connectionsNum: 1, resetErrors: 0 });
  });

  it("sets DateStyle back to ISO when DISCARD ALL reset it to the server's default", async () => {
    const pool = makePool({ reset: discardAll }, testDsnWith({ options: '-c DateStyle=SQL,DMY' }));
    const read = () => pool.query<{ t: unknown; pid: number }>("select '2024-01-02 03:04:05+00'::timestamptz as t, pg_backend_pid() as pid");
    const first = await read();
    expect(first.rows[0].t).toBeInstanceOf(Date);
    const second = await read();
    expect(second.rows[0].pid).toBe(first.rows[0].pid);
    expect(second.rows[0].t).toEqual(first.rows[0].t);
    expect(pool.stats()).toMatchObject({ connectionsNum: 1, resetErrors: 0 });
  });
});

describe('a reset that fails', () => {
  it("is reported through 'resetError' and stats(), and the connection is replaced", async () => {
    const pool = makePool({ reset: (conn) => conn.query('select 1/0') });
    const reported: [unknown, Connection][] = [];
    pool.on('resetError', (error: unknown, conn: Connection) => reported.push([error, conn]));
    const first = await pool.acquire();
    await pool.release(first);
    expect(reported).toHaveLength(1);
    expect(reported[0][0]).toBeInstanceOf(errors.DivisionByZero);
    expect(reported[0][1]).toBe(first);
    expect(first.closed).toBe(true);
    const second = await pool.acquire();
    expect(second).not.toBe(first);
    await pool.release(second);
    expect(pool.stats()).toMatchObject({ resetErrors: 2, returnsBad: 0, connectionsNum: 2 });
  });

  it('crashes nothing with no listener', async () => {
    const unexpected: unknown[] = [];
    const onUnexpected = (error: unknown) => unexpected.push(error);
    process.on('uncaughtException', onUnexpected);
    process.on('unhandledRejection', onUnexpected);
    try {
      const pool = makePool({
        reset: () => {
          throw new Error('reset says no');
        },
      });
      expect(pool.listenerCount('resetError')).toBe(0);
      for (let i = 0; i < 3; i++) await expect(pool.connection(() => 'done')).resolves.toBe('done');
      await expect(pool.query('select 1')).resolves.toBeDefined();
      expect(pool.stats().resetErrors).toBe(4);
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unexpected).toEqual([]);
    } finally {
      process.off('uncaughtException', onUnexpected);
      process.off('unhandledRejection', onUnexpected);
    }
  });

  it('crashes nothing when the listener throws', async () => {
    const pool = makePool({ reset: () => Promise.reject(new Error('reset says no')) });
    pool.on('resetError', () => {
      throw new Error('the listener fails too');
    });
    await expect(pool.connection(() => 'done')).resolves.toBe('done');
    await expect(pool.connection(() => 'again')).resolves.toBe('again');
    expect(pool.stats().resetErrors).toBe(2);
  });

  it('counts a reset that leaves a transaction open as failed', async () => {
    const pool = makePool({ reset: (conn) => conn.query('begin') });
    const reported: unknown[] = [];
    pool.on('resetError', (error: unknown) => reported.push(error));
    const pid = await nextPid(pool);
    expect(await nextPid(pool)).not.toBe(pid);
    expect(reported[0]).toBeInstanceOf(errors.ProgrammingError);
    expect(String(reported[0])).toMatch(/intrans/);
    expect(pool.stats().resetErrors).toBe(2);
  });
});

describe('check', () => {
  it('runs in autocommit, leaves no transaction, and the connection keeps its mode', async () => {
    const seen: { autocommit: boolean; status: string }[] = [];
    const pool = makePool({
      check: async (conn) => {
        await conn.query('select 1');
        seen.push({ autocommit: conn.autocommit, status: conn.info.transactionStatus });
      },
    });
    await pool.wait(5);
    const conn = await pool.acquire();
    expect(conn.autocommit).toBe(false);
    expect(conn.info.transactionStatus).toBe('idle');
    await pool.release(conn);
    expect(seen).toEqual([{ autocommit: true, status: 'idle' }]);
    expect(pool.stats().connectionsLost).toBe(0);
  });
});
