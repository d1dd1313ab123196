// Failover with PostgreSQL's own streaming replication: a primary and a standby made with
// pg_basebackup -R, multi-host conninfo choosing between them, and a promotion under load.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, errors, Pool, type Connection } from '../lib';
import { sleep, until } from './fault-helpers';
import { loadTestServerModule, type TestServer } from './helpers';

let primary: TestServer;
let standby: TestServer;

beforeAll(async () => {
  const { startTestServer } = await loadTestServerModule();
  // Synchronous replication: a commit the primary acknowledged is on the standby too, so a
  // failover loses nothing a client was told was committed.
  primary = await startTestServer({ settings: { synchronous_commit: 'on', synchronous_standby_names: '*' } });
  try {
    standby = await startTestServer({ standbyOf: { host: primary.host, port: primary.port }, settings: { synchronous_standby_names: '' } });
  } catch (error) {
    await primary.stop();
    throw error;
  }
  const admin = await connect(primary.dsn, { autocommit: true });
  try {
    await admin.query('create table failover_rows (id int primary key, port int)');
  } finally {
    await admin.close();
  }
  // the table exists on the standby once replication caught up
  const onStandby = await connect(standby.dsn, { autocommit: true });
  try {
    const seen = await until(async () => {
      const result = await onStandby.query<{ n: number }>("select count(*)::int as n from pg_class where relname = 'failover_rows'");
      return result.rows[0].n === 1;
    }, 10_000);
    if (!seen) throw new Error('the standby never caught up');
  } finally {
    await onStandby.close();
  }
}, 90_000);

afterAll(async () => {
  await standby?.stop();
  await primary?.stop();
});

function hosts(attrs: string, order: 'standby-first' | 'primary-first' = 'standby-first'): string {
  const ports = order === 'standby-first' ? [standby.port, primary.port] : [primary.port, standby.port];
  return `host=127.0.0.1,127.0.0.1 port=${ports.join(',')} user=postgres dbname=postgres target_session_attrs=${attrs} connect_timeout=5`;
}

async function portOf(conninfo: string): Promise<{ port: number; readOnly: boolean }> {
  const conn: Connection = await connect(conninfo, { autocommit: true });
  try {
    const result = await conn.query<{ port: number; ro: boolean }>('select inet_server_port() as port, pg_is_in_recovery() as ro');
    expect(conn.info.port).toBe(result.rows[0].port);
    return { port: result.rows[0].port, readOnly: result.rows[0].ro };
  } finally {
    await conn.close();
  }
}

describe('multi-host conninfo', () => {
  it('target_session_attrs=read-write and primary pick the primary, whatever the order', async () => {
    expect((await portOf(hosts('read-write'))).port).toBe(primary.port);
    expect((await portOf(hosts('primary'))).port).toBe(primary.port);
    expect((await portOf(hosts('read-write', 'primary-first'))).port).toBe(primary.port);
  });

  it('standby, prefer-standby and read-only pick the standby', async () => {
    for (const attrs of ['standby', 'prefer-standby', 'read-only']) {
      const chosen = await portOf(hosts(attrs, 'primary-first'));
      expect(chosen).toEqual({ port: standby.port, readOnly: true });
    }
  });

  it('load_balance_hosts where libpq has it (16+), a clear error where it does not', async () => {
    const conninfo = `${hosts('any')} load_balance_hosts=random`;
    const version = (await connect(primary.dsn).then(async (conn) => {
      const v = conn.info.libpqVersion;
      await conn.close();
      return v;
    })) as number;
    if (version >= 160000) {
      const seen = new Set<number>();
      for (let i = 0; i < 20 && seen.size < 2; i++) seen.add((await portOf(conninfo)).port);
      expect(seen).toEqual(new Set([primary.port, standby.port]));
    } else {
      const error = await connect(conninfo).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(errors.OperationalError);
      expect((error as Error).message).toMatch(/load_balance_hosts/);
    }
  });

  it('a standby refuses writes with ReadOnlySqlTransaction', async () => {
    const conn = await connect(standby.dsn, { autocommit: true });
    try {
      await expect(conn.query('insert into failover_rows values (-1, 0)')).rejects.toBeInstanceOf(errors.ReadOnlySqlTransaction);
    } finally {
      await conn.close();
    }
  });
});

const SLOW_STATEMENT = 'select pg_sleep(10)';

describe('failover under load', () => {
  it('in-flight queries fail with OperationalError, later ones reach the promoted standby, nothing committed is lost', async () => {
    const pool = new Pool(hosts('read-write', 'primary-first'), { min: 2, max: 4, timeout: 10, check: Pool.checkConnection });
    const committed = new Map<number, number>();
    const failures: unknown[] = [];
    let nextId = 1;
    let running = true;
    let promotedAt = Infinity;
    const committedAfterPromotion = () => [...committed.entries()].filter(([, port]) => port === standby.port).length;
    const worker = async () => {
      const hardStop = Date.now() + 20_000;
      while (running && Date.now() < hardStop) {
        const id = nextId++;
        try {
          // each statement lasts 10 ms, next to well under 1 ms for the pool's check before it:
          // when the primary goes, statements (not only checks, which are retried) are in flight
          const result = await pool.query<{ port: number }>(
            'insert into failover_rows (id, port) select $1, inet_server_port() from pg_sleep(0.01) returning port',
            [id],
          );
          committed.set(id, result.rows[0].port);
        } catch (error) {
          failures.push(error);
          await sleep(20);
        }
      }
    };
    try {
      await pool.wait(10);
      const workers = [worker(), worker(), worker(), worker()];
      expect(await until(() => committed.size >= 50, 10_000)).toBe(true);
      // One pool statement surely in flight when the primary goes: it runs for seconds, and
      // the halt waits until the server shows it running. The workers' statements last 10 ms
      // each and may all fall between two (rarely, but it happened).
      const slow = pool.query(SLOW_STATEMENT).then(
        () => undefined,
        (error: unknown) => error,
      );
      const watcher = await connect(primary.dsn, { autocommit: true });
      try {
        const running = async () => {
          const result = await watcher.query<{ n: number }>(
            "select count(*)::int as n from pg_stat_activity where query = $1 and state = 'active'",
            [SLOW_STATEMENT],
          );
          return result.rows[0].n > 0;
        };
        expect(await until(running, 5_000)).toBe(true);
      } finally {
        await watcher.close();
      }
      // the primary goes away with statements in flight, then the standby takes over
      await primary.halt('immediate');
      failures.push(await slow);
      const admin = await connect(standby.dsn, { autocommit: true });
      try {
        await admin.query('select pg_promote(true, 20)');
        promotedAt = Date.now();
      } finally {
        await admin.close();
      }
      expect(await until(() => committedAfterPromotion() >= 50, 15_000)).toBe(true);
      running = false;
      await Promise.all(workers);
    } finally {
      running = false;
      await pool.close(1);
    }
    expect(promotedAt).toBeLessThan(Infinity);
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) {
      expect(failure).toBeInstanceOf(errors.OperationalError);
      expect((failure as Error).message).not.toMatch(/bad file descriptor/);
    }
    // every commit a caller saw succeed is on the new primary
    const check = await connect(standby.dsn, { autocommit: true });
    try {
      const result = await check.query<{ id: number }>('select id from failover_rows');
      const present = new Set(result.rows.map((row) => row.id));
      const lost = [...committed.keys()].filter((id) => !present.has(id));
      expect(lost).toEqual([]);
      expect(committed.size).toBeGreaterThanOrEqual(100);
      const ports = new Set(committed.values());
      expect(ports).toEqual(new Set([primary.port, standby.port]));
    } finally {
      await check.close();
    }
  }, 45_000);
});
