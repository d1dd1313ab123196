import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errors, Pool, type Connection } from '../lib';
import { Backoff, jitter } from '../lib/pool/timing';
import { closedPort, errorOf, outcome, sleep, terminate, until, waitUntilRunning } from './fault-helpers';
import { poolsClosedAfterEach, testDsn, uniqueName, sharedConnection, connectTest, makeTable } from './helpers';

const admin = sharedConnection({ autocommit: true });
let table: string;

const makePool = poolsClosedAfterEach({ min: 1, max: 2, timeout: 5 });

beforeAll(async () => {
  table = await makeTable(admin(), 'id serial primary key, note text', { prefix: 'pool' });
});

afterAll(async () => {
  await admin().query(`drop table if exists ${table}`);
});

async function count(note: string): Promise<number> {
  const result = await admin().query<{ n: number }>(`select count(*)::int as n from ${table} where note = $1`, [note]);
  return result.rows[0].n;
}

describe('Pool.connection()', () => {
  it('commits when the function resolves and returns its value', async () => {
    const pool = makePool();
    const note = uniqueName('commit');
    const value = await pool.connection(async (conn) => {
      await conn.query(`insert into ${table} (note) values ($1)`, [note]);
      return 42;
    });
    expect(value).toBe(42);
    expect(await count(note)).toBe(1);
  });

  it('rolls back when the function throws, and rethrows the same error', async () => {
    const pool = makePool();
    const note = uniqueName('rollback');
    const thrown = new Error('changed my mind');
    const error = await errorOf(
      pool.connection(async (conn) => {
        await conn.query(`insert into ${table} (note) values ($1)`, [note]);
        throw thrown;
      }),
    );
    expect(error).toBe(thrown);
    expect(await count(note)).toBe(0);
    expect(pool.stats().poolAvailable).toBe(1);
  });

  it('rejects with InFailedSqlTransaction when the function swallowed a failed statement', async () => {
    const pool = makePool({ max: 1 });
    const note = uniqueName('swallowed');
    const error = await errorOf(
      pool.connection(async (conn) => {
        await conn.query(`insert into ${table} (note) values ($1)`, [note]);
        await conn.query('select 1/0').catch(() => undefined);
        return 'looks fine';
      }),
    );
    expect(error).toBeInstanceOf(errors.InFailedSqlTransaction);
    expect(await count(note)).toBe(0);
    expect(await pool.connection((conn) => conn.info.transactionStatus)).toBe('idle');
  });

  it('rolls back after a failed statement and hands out a clean connection next', async () => {
    const pool = makePool({ max: 1 });
    const error = await errorOf(pool.connection((conn) => conn.query('select * from no_such_table_here')));
    expect(error).toBeInstanceOf(errors.UndefinedTable);
    const status = await pool.connection((conn) => conn.info.transactionStatus);
    expect(status).toBe('idle');
  });
});

describe('Pool.query()', () => {
  it('runs one statement, committed', async () => {
    const pool = makePool();
    const note = uniqueName('query');
    const result = await pool.query(`insert into ${table} (note) values ($1) returning id`, [note]);
    expect(result.rowCount).toBe(1);
    expect(await count(note)).toBe(1);
    const rows = await pool.query<{ n: number }>('select $1::int as n', [7]);
    expect(rows.rows).toEqual([{ n: 7 }]);
  });

  it('rejects with the server error and keeps the connection usable', async () => {
    const pool = makePool({ max: 1 });
    expect(await errorOf(pool.query('select 1/0'))).toBeInstanceOf(errors.DivisionByZero);
    expect((await pool.query<{ n: number }>('select 2 as n')).rows[0].n).toBe(2);
    expect(pool.stats().connectionsNum).toBe(1);
  });

  it('sends the statement alone, in a transaction of its own, and leaves the connection as it was', async () => {
    const pool = makePool({ max: 1 });
    // no BEGIN before it: what cannot run inside a transaction block runs
    await expect(pool.query(`vacuum ${table}`)).resolves.toBeDefined();
    // several statements in one text are one transaction: a failure undoes the ones before
    const note = uniqueName('multi');
    const failed = await errorOf(pool.query(`insert into ${table} (note) values ('${note}'); select 1/0`));
    expect(failed).toBeInstanceOf(errors.DivisionByZero);
    expect(await count(note)).toBe(0);
    await pool.connection(async (conn) => {
      expect(conn.autocommit).toBe(false);
      await conn.query('select 1');
      expect(conn.info.transactionStatus).toBe('intrans');
    });
  });
});

describe('Pool.query() on busy connections', () => {
  it('pipelines statements on the busy connections instead of queueing them', async () => {
    const pool = makePool({ min: 2, max: 2 });
    await pool.wait();
    const pending = Array.from({ length: 40 }, (_, i) => pool.query<{ pid: number; i: number }>('select pg_backend_pid() as pid, $1::int as i', [i]));
    // nobody waits in line: each statement went out on one of the two connections
    expect(pool.stats()).toMatchObject({ requestsWaiting: 0, requestsQueued: 0, poolSize: 2 });
    const results = await Promise.all(pending);
    expect(results.map((result) => result.rows[0].i)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(new Set(results.map((result) => result.rows[0].pid)).size).toBe(2);
    expect(pool.stats()).toMatchObject({ requestsNum: 40, requestsErrors: 0, returnsBad: 0, poolAvailable: 2 });
  });

  it("runs each statement in a transaction of its own: one's failure touches no other", async () => {
    const pool = makePool({ min: 1, max: 1 });
    await pool.wait();
    const note = uniqueName('shared');
    const insert = () => pool.query(`insert into ${table} (note) values ($1)`, [note]);
    const settled = await Promise.all([insert(), pool.query('select 1/0'), insert(), pool.query('select pg_sleep(0.02)'), insert()].map(outcome));
    expect(settled.map((item) => item.error === undefined)).toEqual([true, false, true, true, true]);
    expect(settled[1].error).toBeInstanceOf(errors.DivisionByZero);
    expect(await count(note)).toBe(3);
    expect(pool.stats().connectionsNum).toBe(1);
  });

  it('runs BEGIN, START TRANSACTION and texts of several statements alone, so nothing lands in their transaction', async () => {
    const pool = makePool({ min: 1, max: 1 });
    await pool.wait();
    for (const opener of ['begin', ' /* a comment */ START TRANSACTION', '-- note\nBegin isolation level serializable', 'select 1; begin']) {
      const note = uniqueName('alone');
      const insert = () => pool.query(`insert into ${table} (note) values ($1)`, [note]);
      const settled = await Promise.all([insert(), pool.query(opener), insert()].map(outcome));
      expect(settled.map((item) => item.error)).toEqual([undefined, undefined, undefined]);
      // the transaction the opener left was rolled back on release, and held neither insert
      expect(await count(note)).toBe(2);
    }
  });

  it('serves a caller already waiting for a connection of its own before later statements', async () => {
    const pool = makePool({ min: 1, max: 1 });
    await pool.wait();
    const order: string[] = [];
    const first = pool.query('select pg_sleep(0.05)').then(() => order.push('first'));
    const held = pool.acquire().then(async (conn) => {
      order.push('acquired');
      await sleep(50);
      order.push('released');
      await pool.release(conn);
    });
    const later = pool.query('select 2').then(() => order.push('later'));
    expect(pool.stats().requestsWaiting).toBe(2);
    await Promise.all([first, held, later]);
    expect(order).toEqual(['first', 'acquired', 'released', 'later']);
  });

  it('fails every statement on a connection whose backend dies, and replaces the connection', async () => {
    const pool = makePool({ min: 1, max: 1 });
    await pool.wait();
    const pid = (await pool.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0].pid;
    const sleeping = outcome(pool.query('select pg_sleep(10)'));
    await waitUntilRunning(admin(), pid, 'pg_sleep(10)');
    // pipelined behind the sleep on the one connection
    const behind = [pool.query('select 1'), pool.query('select 2')].map(outcome);
    expect(pool.stats().requestsWaiting).toBe(0);
    await terminate(admin(), pid);
    for (const item of await Promise.all([sleeping, ...behind])) expect(item.error).toBeInstanceOf(errors.OperationalError);
    const after = await pool.query<{ pid: number }>('select pg_backend_pid() as pid');
    expect(after.rows[0].pid).not.toBe(pid);
    expect(pool.stats().poolSize).toBe(1);
  });

  it('replaces an expired connection even while statements keep it busy', async () => {
    const pool = makePool({ min: 1, max: 1, maxLifetime: 0.2 });
    await pool.wait();
    // a statement every 5 ms, each lasting 20: the connection never runs out of statements
    const pending: Promise<void>[] = [];
    const pids = new Set<number>();
    for (let started = Date.now(); Date.now() - started < 1000; await sleep(5)) {
      pending.push(pool.query<{ pid: number }>('select pg_backend_pid() as pid, pg_sleep(0.02)').then((result) => void pids.add(result.rows[0].pid)));
    }
    await Promise.all(pending);
    expect(pids.size).toBeGreaterThan(1);
    expect(pool.stats().requestsErrors).toBe(0);
  });

  it('grows toward max while statements share the connections it has', async () => {
    const pool = makePool({ min: 0, max: 3 });
    await Promise.all(Array.from({ length: 30 }, (_, i) => pool.query('select $1::int', [i])));
    expect(pool.stats().poolSize).toBe(3);
    expect(await until(() => pool.stats().poolAvailable === 3)).toBe(true);
  });
});

describe('acquire() and release()', () => {
  it('rolls back a transaction left open on release', async () => {
    const pool = makePool({ max: 1 });
    const note = uniqueName('left-open');
    const conn = await pool.acquire();
    await conn.query(`insert into ${table} (note) values ($1)`, [note]);
    expect(conn.info.transactionStatus).toBe('intrans');
    await pool.release(conn);
    expect(await count(note)).toBe(0);
    const again = await pool.acquire();
    expect(again).toBe(conn);
    expect(again.info.transactionStatus).toBe('idle');
    await pool.release(again);
  });

  it('rolls back a failed transaction on release', async () => {
    const pool = makePool({ max: 1 });
    const conn = await pool.acquire();
    await errorOf(conn.query('select 1/0'));
    expect(conn.info.transactionStatus).toBe('inerror');
    await pool.release(conn);
    await expect(pool.query('select 1')).resolves.toBeDefined();
  });

  it('restores the autocommit mode the connection was handed out with', async () => {
    const pool = makePool({ max: 1 });
    const conn = await pool.acquire();
    conn.autocommit = true;
    await pool.release(conn);
    const again = await pool.acquire();
    expect(again.autocommit).toBe(false);
    await pool.release(again);
  });

  it('discards a connection returned with a statement still running', async () => {
    const pool = makePool({ max: 1 });
    const conn = await pool.acquire();
    const running = outcome(conn.query('select pg_sleep(5)'));
    await pool.release(conn);
    expect((await running).error).toBeInstanceOf(errors.InterfaceError);
    expect(conn.closed).toBe(true);
    expect(pool.stats().returnsBad).toBe(1);
    const other = await pool.acquire();
    expect(other).not.toBe(conn);
    await pool.release(other);
  });

  it('discards a broken connection and never hands it out again', async () => {
    const pool = makePool({ max: 1 });
    const conn = await pool.acquire();
    const pid = conn.info.backendPid;
    await terminate(admin(), pid);
    expect(await errorOf(conn.query('select 1'))).toBeInstanceOf(errors.OperationalError);
    expect(conn.broken).toBe(true);
    await pool.release(conn);
    expect(pool.stats().returnsBad).toBe(1);
    const next = await pool.acquire();
    expect(next).not.toBe(conn);
    expect(next.info.backendPid).not.toBe(pid);
    expect((await next.query<{ n: number }>('select 1 as n')).rows[0].n).toBe(1);
    await pool.release(next);
  });

  it('replaces a connection whose backend died while idle in the pool, once it noticed', async () => {
    const pool = makePool({ min: 1, max: 1 });
    const idle = await pool.connection((conn) => conn);
    const pid = idle.info.backendPid;
    await terminate(admin(), pid);
    expect(await until(() => idle.broken)).toBe(true);
    const result = await pool.query<{ pid: number }>('select pg_backend_pid() as pid');
    expect(result.rows[0].pid).not.toBe(pid);
    expect(pool.stats().connectionsLost).toBe(1);
  });

  it('with check, never hands out a connection whose backend just died', async () => {
    const pool = makePool({ min: 2, max: 2, check: Pool.checkConnection });
    await pool.wait(5);
    const pids = await admin().query<{ pid: number }>("select pid from pg_stat_activity where application_name = 'pqnode' and pid <> pg_backend_pid()");
    const mine = await Promise.all([pool.acquire(), pool.acquire()]);
    const pooled = mine.map((conn) => conn.info.backendPid);
    await Promise.all(mine.map((conn) => pool.release(conn)));
    expect(pids.rows.map((row) => row.pid)).toEqual(expect.arrayContaining(pooled));
    for (const pid of pooled) await admin().query('select pg_terminate_backend($1)', [pid]);
    // no wait for the client to notice: the check finds out
    const result = await pool.query<{ pid: number }>('select pg_backend_pid() as pid');
    expect(pooled).not.toContain(result.rows[0].pid);
  });

  it('refuses a connection that is not from the pool, or returned twice', async () => {
    const pool = makePool();
    const other = makePool();
    const stranger = await connectTest();
    try {
      await expect(pool.release(stranger)).rejects.toThrow(errors.InterfaceError);
      await expect(pool.release(stranger)).rejects.toThrow(/does not belong/);
      await expect(pool.release({} as Connection)).rejects.toThrow(errors.InterfaceError);
      const conn = await other.acquire();
      await expect(pool.release(conn)).rejects.toThrow(/does not belong/);
      await other.release(conn);
      await expect(other.release(conn)).rejects.toThrow(/already returned/);
    } finally {
      await stranger.close();
    }
  });

  it('removes the event listeners a caller added, keeps the ones configure added', async () => {
    const configured = () => undefined;
    const pool = makePool({ max: 1, configure: (conn) => void conn.on('notice', configured) });
    const conn = await pool.acquire();
    const mine = () => undefined;
    conn.on('notice', mine);
    conn.on('notification', mine);
    await pool.release(conn);
    expect(conn.listeners('notice')).toEqual([configured]);
    expect(conn.listenerCount('notification')).toBe(0);
  });

  it('discards a connection released from inside transaction()', async () => {
    const pool = makePool({ max: 1 });
    const conn = await pool.acquire();
    let released: Promise<void> | undefined;
    await errorOf(
      conn.transaction(async () => {
        released = pool.release(conn);
        await released;
        await conn.query('select 1');
      }),
    );
    await released;
    expect(conn.closed).toBe(true);
    expect(pool.stats().returnsBad).toBe(1);
    await expect(pool.query('select 1')).resolves.toBeDefined();
  });

  it('accepts a connection the caller closed, and replaces it', async () => {
    const pool = makePool({ max: 1 });
    const conn = await pool.acquire();
    await conn.close();
    await pool.release(conn);
    const next = await pool.acquire();
    expect(next).not.toBe(conn);
    expect(next.closed).toBe(false);
    await pool.release(next);
  });
});

describe('waiting for a connection', () => {
  it('a timeout beyond what a timer holds is refused, not turned into an immediate PoolTimeout', async () => {
    const pool = makePool({ min: 1, max: 1 });
    await expect(pool.wait(Infinity)).rejects.toBeInstanceOf(RangeError);
    await expect(pool.connection(async () => undefined, { timeout: 1e10 })).rejects.toBeInstanceOf(RangeError);
  });

  it('serves waiters in the order they came', async () => {
    const pool = makePool({ min: 1, max: 1 });
    await pool.wait(5);
    const held = await pool.acquire();
    const order: number[] = [];
    const waiters = [0, 1, 2, 3].map((index) =>
      pool.connection(async () => {
        order.push(index);
        await sleep(5);
      }),
    );
    await until(() => pool.stats().requestsWaiting === 4);
    await pool.release(held);
    await Promise.all(waiters);
    expect(order).toEqual([0, 1, 2, 3]);
    expect(pool.stats().requestsQueued).toBe(4);
  });

  it('rejects with PoolTimeout after the timeout', async () => {
    const pool = makePool({ min: 1, max: 1, timeout: 0.2 });
    const held = await pool.acquire();
    const started = Date.now();
    const error = await errorOf(pool.acquire());
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(errors.PoolTimeout);
    expect(error).toBeInstanceOf(errors.OperationalError);
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(2000);
    // a per-call timeout overrides the pool's
    expect(await errorOf(pool.acquire({ timeout: 0.05 }))).toBeInstanceOf(errors.PoolTimeout);
    expect(pool.stats().requestsErrors).toBe(2);
    expect(pool.stats().requestsWaiting).toBe(0);
    await pool.release(held);
    // the pool still works
    expect((await pool.query<{ n: number }>('select 3 as n')).rows[0].n).toBe(3);
  });

  it('bounds the queue with maxWaiting: TooManyRequests', async () => {
    const pool = makePool({ min: 1, max: 1, maxWaiting: 2 });
    const held = await pool.acquire();
    const first = pool.acquire();
    const second = pool.acquire();
    expect(await errorOf(pool.acquire())).toBeInstanceOf(errors.TooManyRequests);
    await pool.release(held);
    const a = await first;
    await pool.release(a);
    const b = await second;
    await pool.release(b);
    expect(pool.stats().requestsErrors).toBe(1);
  });

  it('serves a burst of callers with max connections, every statement committed once', async () => {
    const pool = makePool({ min: 1, max: 3, timeout: 10 });
    const note = uniqueName('burst');
    let peak = 0;
    await Promise.all(
      Array.from({ length: 200 }, (_, index) =>
        pool.connection(async (conn) => {
          peak = Math.max(peak, pool.stats().poolSize);
          await conn.query(`insert into ${table} (note) values ($1)`, [note]);
          if (index % 7 === 0) await conn.query('select pg_sleep(0.001)');
        }),
      ),
    );
    expect(await count(note)).toBe(200);
    expect(peak).toBeLessThanOrEqual(3);
    expect(pool.stats()).toMatchObject({ requestsNum: 200, requestsErrors: 0, returnsBad: 0 });
    expect(pool.stats().poolSize).toBeLessThanOrEqual(3);
  });

  it('grows up to max while callers wait, never beyond', async () => {
    const pool = makePool({ min: 0, max: 3 });
    const conns = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    expect(new Set(conns.map((conn) => conn.info.backendPid)).size).toBe(3);
    expect(pool.stats().poolSize).toBe(3);
    const fourth = outcome(pool.acquire({ timeout: 0.1 }));
    expect((await fourth).error).toBeInstanceOf(errors.PoolTimeout);
    expect(pool.stats().poolSize).toBe(3);
    await Promise.all(conns.map((conn) => pool.release(conn)));
    expect(pool.stats().poolAvailable).toBe(3);
  });
});

describe('hooks', () => {
  it('runs configure once per connection, and keeps what it set', async () => {
    let configured = 0;
    const pool = makePool({
      min: 1,
      max: 1,
      configure: async (conn) => {
        configured++;
        await conn.query("set application_name = 'pooled'");
      },
    });
    for (let i = 0; i < 3; i++) {
      const name = await pool.query<{ name: string }>("select current_setting('application_name') as name");
      expect(name.rows[0].name).toBe('pooled');
    }
    expect(configured).toBe(1);
  });

  it('counts a failing configure as a failed connect and reports it in PoolTimeout', async () => {
    const pool = makePool({
      min: 0,
      max: 1,
      timeout: 0.3,
      configure: () => {
        throw new errors.ProgrammingError('configure says no');
      },
    });
    const error = await errorOf(pool.acquire());
    expect(error).toBeInstanceOf(errors.PoolTimeout);
    expect((error as Error).message).toMatch(/configure says no/);
    expect((error as Error).cause).toBeInstanceOf(errors.ProgrammingError);
    expect(pool.stats().connectionsErrors).toBeGreaterThanOrEqual(2); // retried with backoff
  });

  it('runs reset on every return, and discards the connection when it throws', async () => {
    let resets = 0;
    const pool = makePool({
      max: 1,
      reset: async (conn) => {
        resets++;
        await conn.query('reset all');
        if (resets === 2) throw new Error('cannot reset');
      },
    });
    const first = await pool.acquire();
    await pool.release(first);
    expect(resets).toBe(1);
    expect(first.closed).toBe(false);
    const second = await pool.acquire();
    expect(second).toBe(first);
    await pool.release(second);
    expect(resets).toBe(2);
    expect(first.closed).toBe(true);
    const third = await pool.acquire();
    expect(third).not.toBe(first);
    await pool.release(third);
  });

  it('checks a connection that sat idle before handing it out', async () => {
    const checked: number[] = [];
    const pool = makePool({
      min: 1,
      max: 1,
      check: async (conn) => {
        checked.push(conn.info.backendPid);
        await Pool.checkConnection(conn);
      },
    });
    await pool.wait(5);
    const pid = await pool.connection((conn) => conn.info.backendPid);
    expect(checked).toEqual([pid]);
    // with no transaction left behind by the check
    const status = await pool.connection((conn) => conn.info.transactionStatus);
    expect(status).toBe('idle');
    expect(checked).toEqual([pid, pid]);
  });

  it('discards a connection that fails its check and hands out a new one', async () => {
    let failNext = true;
    const pool = makePool({
      min: 1,
      max: 1,
      check: (conn) => {
        if (failNext) {
          failNext = false;
          throw new errors.OperationalError(`connection ${conn.info.backendPid} is no good`);
        }
      },
    });
    await pool.wait(5);
    const first = await pool.acquire();
    expect(first.closed).toBe(false);
    expect(pool.stats().connectionsLost).toBe(1);
    expect(pool.stats().connectionsNum).toBe(2);
    await pool.release(first);
  });

  it('Pool.checkConnection rejects on a dead connection', async () => {
    const conn = await connectTest();
    await terminate(admin(), conn.info.backendPid);
    await expect(Pool.checkConnection(conn)).rejects.toThrow(errors.OperationalError);
  });
});

describe('lifetime, idle time and size', () => {
  it('replaces connections older than maxLifetime', async () => {
    const pool = makePool({ min: 1, max: 1, maxLifetime: 0.2 });
    const first = await pool.connection((conn) => conn.info.backendPid);
    await sleep(300);
    const second = await pool.connection((conn) => conn.info.backendPid);
    expect(second).not.toBe(first);
  });

  it('spreads expiry and retry delays with jitter', () => {
    const lifetimes = Array.from({ length: 200 }, () => jitter(100, -0.05, 0));
    expect(Math.min(...lifetimes)).toBeGreaterThanOrEqual(95);
    expect(Math.max(...lifetimes)).toBeLessThanOrEqual(100);
    expect(new Set(lifetimes).size).toBeGreaterThan(150);
    const backoff = new Backoff();
    const delays = Array.from({ length: 10 }, () => backoff.nextDelay());
    expect(delays[0]).toBeGreaterThanOrEqual(Backoff.INITIAL_DELAY * 0.9);
    expect(delays[0]).toBeLessThanOrEqual(Backoff.INITIAL_DELAY * 1.1);
    expect(delays[1]).toBeGreaterThan(delays[0] * 1.5);
    expect(Math.max(...delays)).toBeLessThanOrEqual(Backoff.MAX_DELAY * 1.1);
  });

  it('closes idle connections above min after maxIdle', async () => {
    const pool = makePool({ min: 1, max: 3, maxIdle: 0.2 });
    const conns = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    await Promise.all(conns.map((conn) => pool.release(conn)));
    expect(pool.stats().poolSize).toBe(3);
    expect(await until(() => pool.stats().poolSize === 1, 3000)).toBe(true);
    expect(pool.stats().poolAvailable).toBe(1);
  });

  it('resizes: grows to the new min at once, shrinks as connections come back', async () => {
    const pool = makePool({ min: 1, max: 1 });
    await pool.wait(5);
    pool.resize(3, 4);
    expect(pool.stats().poolMin).toBe(3);
    expect(pool.stats().poolMax).toBe(4);
    await pool.wait(5);
    expect(pool.stats().poolSize).toBe(3);
    const held = await pool.acquire();
    pool.resize(1, 1);
    expect(pool.stats().poolSize).toBe(1);
    await pool.release(held);
    expect(pool.stats().poolSize).toBe(1);
    expect(() => pool.resize(3, 2)).toThrow(RangeError);
    expect(() => pool.resize(-1)).toThrow(TypeError);
  });

  it('reports its figures under psycopg_pool names', async () => {
    const pool = makePool({ min: 2, max: 2 });
    await pool.wait(5);
    await pool.query('select 1');
    const stats = pool.stats();
    expect(stats).toMatchObject({ poolMin: 2, poolMax: 2, poolSize: 2, poolAvailable: 2, requestsWaiting: 0, requestsNum: 1, connectionsNum: 2 });
    for (const key of ['requestsQueued', 'requestsErrors', 'requestsWaitMs', 'usageMs', 'connectionsErrors', 'connectionsLost', 'connectionsMs', 'returnsBad']) {
      expect(typeof (stats as unknown as Record<string, unknown>)[key]).toBe('number');
    }
    expect(pool.popStats().requestsNum).toBe(1);
    expect(pool.stats().requestsNum).toBe(0);
    expect(pool.stats().poolSize).toBe(2);
  });
});

describe('opening and closing', () => {
  it('wait() resolves once min connections are open', async () => {
    const pool = makePool({ min: 3, max: 3 });
    await pool.wait(5);
    expect(pool.stats().poolSize).toBe(3);
    expect(pool.stats().poolAvailable).toBe(3);
  });

  it('wait() rejects with PoolTimeout and closes the pool when the server cannot be reached', async () => {
    const port = await closedPort();
    const pool = makePool({ min: 1 }, `host=127.0.0.1 port=${port} user=nobody password=hunter2secret connect_timeout=2`);
    const error = await errorOf(pool.wait(0.3));
    expect(error).toBeInstanceOf(errors.PoolTimeout);
    expect(String((error as Error).message)).not.toContain('hunter2secret');
    expect(pool.closed).toBe(true);
    expect(await errorOf(pool.acquire())).toBeInstanceOf(errors.PoolClosed);
  });

  it('gives up a connection attempt after reconnectTimeout and calls reconnectFailed', async () => {
    const port = await closedPort();
    const failed: Pool[] = [];
    const pool = makePool({ min: 1, max: 1, reconnectTimeout: 0.3, reconnectFailed: (p) => failed.push(p) }, `host=127.0.0.1 port=${port}`);
    expect(await until(() => failed.length === 1, 3000)).toBe(true);
    expect(failed[0]).toBe(pool);
    expect(pool.stats().connectionsErrors).toBeGreaterThanOrEqual(2);
    expect(pool.stats().poolSize).toBe(0);
  });

  it('a pool made with open: false connects only when opened', async () => {
    const pool = makePool({ min: 1, open: false });
    expect(pool.opened).toBe(false);
    expect(await errorOf(pool.acquire())).toBeInstanceOf(errors.PoolClosed);
    pool.open();
    pool.open();
    expect((await pool.query<{ n: number }>('select 1 as n')).rows[0].n).toBe(1);
  });

  it('close() waits for connections in use, then closes them', async () => {
    const pool = makePool({ min: 1, max: 1 });
    const conn = await pool.acquire();
    const started = Date.now();
    const closing = pool.close(5);
    expect(await errorOf(pool.acquire())).toBeInstanceOf(errors.PoolClosed);
    await sleep(50);
    expect(conn.closed).toBe(false);
    await pool.release(conn);
    await closing;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(conn.closed).toBe(true);
    expect(() => pool.open()).toThrow(errors.PoolClosed);
  });

  it('close() gives up waiting after its timeout and closes what is still in use', async () => {
    const pool = makePool({ min: 1, max: 1 });
    const conn = await pool.acquire();
    const running = outcome(conn.query('select pg_sleep(10)'));
    const waiter = outcome(pool.acquire());
    const started = Date.now();
    await pool.close(0.2);
    expect(Date.now() - started).toBeLessThan(2000);
    expect((await waiter).error).toBeInstanceOf(errors.PoolClosed);
    expect((await running).error).toBeInstanceOf(errors.InterfaceError);
    expect(conn.closed).toBe(true);
    // the late release is harmless
    await pool.release(conn);
  });

  it('closes with await using', async () => {
    let pool: Pool | undefined;
    {
      await using scoped = new Pool(testDsn(), { min: 1, max: 1 });
      pool = scoped;
      await scoped.query('select 1');
    }
    expect(pool.closed).toBe(true);
  });

  it('checks its options', () => {
    expect(() => new Pool(testDsn(), { min: 3, max: 2, open: false })).toThrow(RangeError);
    expect(() => new Pool(testDsn(), { timeout: -1, open: false })).toThrow(TypeError);
    expect(() => new Pool(testDsn(), { min: 1.5, open: false })).toThrow(TypeError);
    expect(() => new Pool(testDsn(), { check: 'yes' as never, open: false })).toThrow(TypeError);
    expect(() => new Pool(testDsn(), { maxSize: 3 } as never)).toThrow(/unknown Pool option/);
    // a timer past Node's limit (2^31 - 1 ms, about 24.8 days) would fire after 1 ms
    for (const name of ['timeout', 'maxLifetime', 'maxIdle', 'reconnectTimeout'] as const) {
      expect(() => new Pool(testDsn(), { [name]: Infinity, open: false }), name).toThrow(RangeError);
      expect(() => new Pool(testDsn(), { [name]: 2_147_484, open: false }), name).toThrow(RangeError);
    }
    expect(() => new Pool(testDsn(), { timeout: 2_147_483, open: false })).not.toThrow();
    const defaults = new Pool(testDsn(), { open: false });
    expect(defaults.stats()).toMatchObject({ poolMin: 4, poolMax: 4 });
    expect(new Pool(testDsn(), { max: 2, open: false }).stats()).toMatchObject({ poolMin: 2, poolMax: 2 });
    expect(new Pool(testDsn(), { max: 10, open: false }).stats()).toMatchObject({ poolMin: 4, poolMax: 10 });
    expect(new Pool(testDsn(), { min: 6, open: false }).stats()).toMatchObject({ poolMin: 6, poolMax: 6 });
    expect(new Pool(testDsn(), { min: 0, open: false }).stats()).toMatchObject({ poolMin: 0, poolMax: 1 });
  });
});
