// What the driver and the pool do when things go wrong: backends killed, server-side timeouts,
// the server stopped and started again, the network cut or stalled. Each gives a typed error,
// `broken` where the connection is gone, and the pool carries on with new connections.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, errors, Pool, type Connection } from '../lib';
import { errorOf, outcome, sleep, TcpProxy, terminate, until, waitUntilRunning } from './fault-helpers';
import { closedAfterEach, loadTestServerModule, poolsClosedAfterEach, testDsn, uniqueName, type TestServer, sharedConnection, makeTable } from './helpers';

const admin = sharedConnection({ autocommit: true });
let table: string;

/** A conninfo string (URI or key=value) with one more keyword. */
function withOption(conninfo: string, keyword: string, value: string): string {
  if (/^postgres(ql)?:\/\//.test(conninfo)) {
    return `${conninfo}${conninfo.includes('?') ? '&' : '?'}${keyword}=${encodeURIComponent(value)}`;
  }
  return `${conninfo} ${keyword}='${value.replace(/['\\]/g, '\\$&')}'`;
}

const { track } = closedAfterEach();
// registered after the connections so that, hooks running in reverse, pools close first
const makePool = poolsClosedAfterEach({ min: 1, max: 1, timeout: 5 });

const open = async (conninfo: string = testDsn()): Promise<Connection> => track(await connect(conninfo));

beforeAll(async () => {
  table = await makeTable(admin(), 'id int, note text', { prefix: 'faults' });
});

afterAll(async () => {
  await admin().query(`drop table if exists ${table}`);
});

async function rows(note: string): Promise<number> {
  const result = await admin().query<{ n: number }>(`select count(*)::int as n from ${table} where note = $1`, [note]);
  return result.rows[0].n;
}

async function expectPoolWorks(pool: Pool, timeout = 5): Promise<void> {
  const conn = await pool.acquire({ timeout });
  try {
    expect((await conn.query<{ n: number }>('select 41 as n')).rows[0].n).toBe(41);
  } finally {
    await pool.release(conn);
  }
}

describe('a backend terminated', () => {
  it('mid-query: OperationalError, broken, and the pool replaces the connection', async () => {
    const pool = makePool();
    let victim: Connection | undefined;
    const running = outcome(
      pool.connection(async (conn) => {
        victim = conn;
        return conn.query('select pg_sleep(10)');
      }),
    );
    await until(() => victim !== undefined);
    const pid = (victim as Connection).info.backendPid;
    await waitUntilRunning(admin(), pid, 'pg_sleep(10)');
    await admin().query('select pg_terminate_backend($1)', [pid]);
    const settled = await running;
    expect(settled.error).toBeInstanceOf(errors.OperationalError);
    expect((victim as Connection).broken).toBe(true);
    expect(pool.stats().returnsBad).toBe(1);
    await expectPoolWorks(pool);
  });

  it('mid-COPY FROM STDIN: OperationalError, broken, nothing copied', async () => {
    const conn = await open();
    const note = uniqueName('copy-in');
    let sent = 0;
    async function* slowRows() {
      // bounded: the test fails rather than loops if the kill is never noticed
      for (let i = 0; i < 500; i++) {
        sent++;
        yield `${i}\t${note}\n`;
        await sleep(10);
      }
    }
    const copying = outcome(conn.copyFrom(`copy ${table} (id, note) from stdin`, slowRows()));
    await until(() => sent >= 5);
    await terminate(admin(), conn.info.backendPid);
    const settled = await copying;
    expect(settled.error).toBeInstanceOf(errors.OperationalError);
    expect(sent).toBeLessThan(500);
    expect(conn.broken).toBe(true);
    expect(await rows(note)).toBe(0);
  });

  it('mid-COPY TO STDOUT: the stream fails with OperationalError', async () => {
    const conn = await open();
    const stream = conn.copyTo('copy (select i, repeat($$x$$, 100) from generate_series(1, 5000000) i) to stdout');
    let chunks = 0;
    const reading = outcome(
      (async () => {
        for await (const _chunk of stream) {
          chunks++;
          if (chunks === 1) await terminate(admin(), conn.info.backendPid);
        }
      })(),
    );
    const settled = await reading;
    // the server's FATAL (admin_shutdown) comes first, the end of the connection right after
    expect(settled.error).toBeInstanceOf(errors.OperationalError);
    expect(await until(() => conn.broken)).toBe(true);
  });

  it('inside a transaction: nothing of it is committed, connection() rejects', async () => {
    const pool = makePool();
    const note = uniqueName('in-tx');
    const error = await errorOf(
      pool.connection(async (conn) => {
        await conn.query(`insert into ${table} (id, note) values (1, $1)`, [note]);
        await terminate(admin(), conn.info.backendPid);
        await conn.query(`insert into ${table} (id, note) values (2, $1)`, [note]);
      }),
    );
    expect(error).toBeInstanceOf(errors.OperationalError);
    expect(await rows(note)).toBe(0);
    await expectPoolWorks(pool);
  });

  it('after the last statement: the commit fails, so the caller knows nothing was committed', async () => {
    const pool = makePool();
    const note = uniqueName('at-commit');
    const error = await errorOf(
      pool.connection(async (conn) => {
        await conn.query(`insert into ${table} (id, note) values (1, $1)`, [note]);
        await terminate(admin(), conn.info.backendPid);
        await until(() => conn.broken);
      }),
    );
    expect(error).toBeInstanceOf(errors.OperationalError);
    expect(await rows(note)).toBe(0);
    await expectPoolWorks(pool);
  });
});

describe('server-side timeouts', () => {
  it('statement_timeout: QueryCanceled, the connection stays usable', async () => {
    const pool = makePool({ configure: (conn) => conn.query('set statement_timeout = 100').then(() => undefined) });
    const error = await errorOf(pool.query('select pg_sleep(5)'));
    expect(error).toBeInstanceOf(errors.QueryCanceled);
    expect(error).toBeInstanceOf(errors.QueryCanceledError);
    expect(error).toBeInstanceOf(errors.OperationalError);
    expect((error as errors.Error).sqlstate).toBe('57014');
    await expectPoolWorks(pool);
    expect(pool.stats().connectionsNum).toBe(1);
  });

  it('idle_in_transaction_session_timeout: the server hangs up, broken, the pool replaces it', async () => {
    // set through the conninfo this time, as a server setting for the session
    const pool = makePool({}, withOption(testDsn(), 'options', '-c idle_in_transaction_session_timeout=100'));
    const conn = await pool.acquire();
    await conn.query('select 1');
    expect(conn.info.transactionStatus).toBe('intrans');
    expect(await until(() => conn.broken, 3000)).toBe(true);
    const error = await errorOf(conn.query('select 2'));
    expect(error).toBeInstanceOf(errors.OperationalError);
    await pool.release(conn);
    expect(pool.stats().returnsBad).toBe(1);
    await expectPoolWorks(pool);
  });
});

describe('the server stopped and started again', () => {
  let server: TestServer;

  beforeAll(async () => {
    const { startTestServer } = await loadTestServerModule();
    server = await startTestServer();
  });

  afterAll(async () => {
    await server?.stop();
  });

  for (const mode of ['fast', 'immediate'] as const) {
    it(`(${mode} shutdown): queries in flight fail, waiters time out, the pool recovers after`, async () => {
      const pool = makePool({ min: 2, max: 2 }, server.dsn);
      await pool.wait(10);
      const inFlight = outcome(pool.query('select pg_sleep(10)'));
      await until(() => pool.stats().poolAvailable === 1);
      await sleep(50);
      await server.halt(mode);
      const settled = await inFlight;
      expect(settled.error).toBeInstanceOf(errors.OperationalError);
      // while the server is down, callers get PoolTimeout with the connect failure as cause
      const waited = await errorOf(pool.acquire({ timeout: 0.5 }));
      expect(waited).toBeInstanceOf(errors.PoolTimeout);
      expect((waited as Error).cause).toBeInstanceOf(errors.OperationalError);
      expect(pool.stats().connectionsErrors).toBeGreaterThan(0);
      await server.start();
      await expectPoolWorks(pool, 10);
      expect(await until(() => pool.stats().poolSize === 2, 10_000)).toBe(true);
    });
  }

  it('restart(): a pool with check carries on as if nothing happened', async () => {
    const pool = makePool({ min: 2, max: 2, check: Pool.checkConnection }, server.dsn);
    await pool.wait(10);
    const before = await pool.query<{ pid: number }>('select pg_backend_pid() as pid');
    await server.restart('fast');
    const after = await pool.query<{ pid: number }>('select pg_backend_pid() as pid');
    expect(after.rows[0].pid).not.toBe(before.rows[0].pid);
    expect(pool.stats().connectionsLost).toBeGreaterThanOrEqual(1);
  });

  it('a lone connection: broken and OperationalError, a new one works once it is back', async () => {
    const conn = await open(server.dsn);
    await server.halt('fast');
    expect(await until(() => conn.broken, 3000)).toBe(true);
    expect(await errorOf(conn.query('select 1'))).toBeInstanceOf(errors.OperationalError);
    expect(await errorOf(connect(server.dsn))).toBeInstanceOf(errors.OperationalError);
    await server.start();
    const again = await open(server.dsn);
    expect((await again.query<{ n: number }>('select 1 as n')).rows[0].n).toBe(1);
  });
});

describe('a network that fails', () => {
  let proxy: TcpProxy;
  let proxied: string;

  beforeAll(async () => {
    const url = new URL(testDsn());
    proxy = await TcpProxy.start(url.hostname, Number(url.port || 5432));
    url.port = String(proxy.port);
    url.hostname = '127.0.0.1';
    proxied = url.toString();
  });

  afterAll(async () => {
    await proxy?.close();
  });

  afterEach(() => {
    proxy.resume();
    proxy.refuse = false;
  });

  it('dropped: queries in flight fail with OperationalError, broken, the pool reconnects', async () => {
    const pool = makePool({ min: 2, max: 2, check: Pool.checkConnection }, proxied);
    await pool.wait(5);
    const conn = await pool.acquire();
    const running = outcome(conn.query('select pg_sleep(10)'));
    await sleep(50);
    proxy.drop();
    const cut = (await running).error;
    expect(cut).toBeInstanceOf(errors.OperationalError);
    expect((cut as Error).message).not.toMatch(/bad file descriptor/);
    expect(conn.broken).toBe(true);
    await pool.release(conn);
    // the idle one was cut too: its check fails, and the pool replaces both
    await expectPoolWorks(pool);
    expect(await until(() => pool.stats().poolSize === 2 && pool.stats().poolAvailable === 2)).toBe(true);
  });

  it('refusing: connects fail with OperationalError, then work once it accepts again', async () => {
    proxy.refuse = true;
    expect(await errorOf(connect(proxied))).toBeInstanceOf(errors.OperationalError);
    const pool = makePool({ min: 1 }, proxied);
    expect(await errorOf(pool.acquire({ timeout: 0.3 }))).toBeInstanceOf(errors.PoolTimeout);
    proxy.refuse = false;
    await expectPoolWorks(pool, 10);
  });

  it('stalled while connecting: ConnectionTimeout', async () => {
    proxy.stall();
    const started = Date.now();
    const error = await errorOf(connect(proxied, { connectTimeout: 0.3 }));
    expect(error).toBeInstanceOf(errors.ConnectionTimeout);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('stalled under an idle pooled connection: the check is cut short by the timeout, the pool recovers', async () => {
    const pool = makePool({ min: 1, max: 1, timeout: 0.4, check: Pool.checkConnection, connectOptions: { connectTimeout: 0.5 } }, proxied);
    await pool.wait(5);
    proxy.stall();
    const started = Date.now();
    expect(await errorOf(pool.acquire())).toBeInstanceOf(errors.PoolTimeout);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(pool.stats().connectionsLost).toBe(1);
    proxy.resume();
    await expectPoolWorks(pool, 10);
  });

  it('stalled mid-query: close() ends the wait with InterfaceError', async () => {
    const pool = makePool({ min: 1, max: 1 }, proxied);
    const conn = await pool.acquire();
    proxy.stall();
    const running = outcome(conn.query('select 1'));
    await sleep(100);
    await pool.close(0.1);
    expect((await running).error).toBeInstanceOf(errors.InterfaceError);
  });
});
