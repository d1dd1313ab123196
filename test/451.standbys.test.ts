// Reads spread over streaming standbys: a primary and two standbys made with pg_basebackup
// -R, multi-host conninfo choosing between them (target_session_attrs, load_balance_hosts),
// and a pool over both standbys that loses one of them under load. load_balance_hosts is
// libpq 16's: with an older libpq those tests skip, saying so (CI runs this file with the
// prebuilt binary too, which links libpq 18).
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { connect, errors, Pool, type Connection } from '../lib';
import { closedPort, sleep, until } from './fault-helpers';
import { loadTestServerModule, type TestServer } from './helpers';

let primary: TestServer;
let standbys: TestServer[] = [];
/** the libpq the binary under test links, e.g. 150018 */
let libpqVersion = 0;

beforeAll(async () => {
  const { startTestServer } = await loadTestServerModule();
  primary = await startTestServer();
  try {
    standbys = await Promise.all([0, 1].map(() => startTestServer({ standbyOf: { host: primary.host, port: primary.port } })));
  } catch (error) {
    await Promise.all(standbys.map((s) => s.stop()));
    await primary.stop();
    throw error;
  }
  const admin = await connect(primary.dsn, { autocommit: true });
  try {
    libpqVersion = admin.info.libpqVersion;
    await admin.query('create table standby_reads (id int primary key, v text)');
    await admin.query("insert into standby_reads select n, 'row ' || n from generate_series(1, 100) as n");
  } finally {
    await admin.close();
  }
  // both standbys replayed the rows
  for (const standby of standbys) {
    const conn = await connect(standby.dsn, { autocommit: true });
    try {
      const caughtUp = await until(async () => {
        const result = await conn.query<{ n: number }>("select count(*)::int as n from pg_class where relname = 'standby_reads'");
        if (result.rows[0].n === 0) return false;
        return (await conn.query<{ n: number }>('select count(*)::int as n from standby_reads')).rows[0].n === 100;
      }, 15_000);
      if (!caughtUp) throw new Error(`the standby on port ${standby.port} never caught up`);
    } finally {
      await conn.close();
    }
  }
}, 90_000);

afterAll(async () => {
  await Promise.all(standbys.map((s) => s.stop()));
  await primary?.stop();
});

function conninfo(ports: number[], extra: string): string {
  return `host=${ports.map(() => '127.0.0.1').join(',')} port=${ports.join(',')} user=postgres dbname=postgres connect_timeout=5 ${extra}`;
}

async function whereConnected(info: string): Promise<{ port: number; standby: boolean }> {
  const conn: Connection = await connect(info, { autocommit: true });
  try {
    const result = await conn.query<{ port: number; standby: boolean }>('select inet_server_port() as port, pg_is_in_recovery() as standby');
    return result.rows[0];
  } finally {
    await conn.close();
  }
}

/** Skips, saying why, where libpq has no load_balance_hosts. */
function needLoadBalancing(context: TestContext): void {
  if (libpqVersion < 160000) context.skip(`load_balance_hosts needs libpq 16+, and this binary links libpq ${Math.floor(libpqVersion / 10000)}`);
}

describe('choosing a server by its role', () => {
  it('prefer-standby takes a standby when one is up, the primary when none is', async () => {
    const [a, b] = standbys.map((s) => s.port);
    const chosen = await whereConnected(conninfo([primary.port, a, b], 'target_session_attrs=prefer-standby'));
    expect(chosen.standby).toBe(true);
    expect([a, b]).toContain(chosen.port);
    // no standby listening: the primary
    const none = await whereConnected(conninfo([await closedPort(), primary.port, await closedPort()], 'target_session_attrs=prefer-standby'));
    expect(none).toEqual({ port: primary.port, standby: false });
  });

  it('read-write takes the primary, listed last or first', async () => {
    const [a, b] = standbys.map((s) => s.port);
    expect(await whereConnected(conninfo([a, b, primary.port], 'target_session_attrs=read-write'))).toEqual({ port: primary.port, standby: false });
    expect(await whereConnected(conninfo([primary.port, a, b], 'target_session_attrs=read-write'))).toEqual({ port: primary.port, standby: false });
  });

  it('load_balance_hosts=random spreads connections over both standbys', async (context) => {
    needLoadBalancing(context);
    const info = conninfo(
      standbys.map((s) => s.port),
      'target_session_attrs=standby load_balance_hosts=random',
    );
    const seen = new Map<number, number>();
    for (let i = 0; i < 20; i++) {
      const { port, standby } = await whereConnected(info);
      expect(standby).toBe(true);
      seen.set(port, (seen.get(port) ?? 0) + 1);
    }
    // the chance that twenty random picks all fall on one of two is 2 in a million
    expect(new Set(seen.keys())).toEqual(new Set(standbys.map((s) => s.port)));
  });
});

const SLOW_READ = 'select inet_server_port() as port, pg_sleep(10)';

describe('a pool of reads over two standbys', () => {
  it('survives one standby stopping under load: in-flight reads fail with OperationalError, later ones all succeed on the other', async (context) => {
    needLoadBalancing(context);
    const info = conninfo(
      standbys.map((s) => s.port),
      'target_session_attrs=standby load_balance_hosts=random',
    );
    const allPorts = new Set(standbys.map((s) => s.port));
    // a pool whose connections landed on both standbys (each picks at random: a few tries at most)
    let pool: Pool | undefined;
    for (let attempt = 0; attempt < 6 && pool === undefined; attempt++) {
      const candidate = new Pool(info, { min: 6, max: 6, timeout: 10, connectOptions: { autocommit: true } });
      await candidate.wait(10);
      const ports = await Promise.all(
        Array.from({ length: 6 }, () => candidate.connection(async (conn) => (await conn.query<{ port: number }>('select inet_server_port() as port, pg_sleep(0.05)')).rows[0].port)),
      );
      if (new Set(ports).size === 2) pool = candidate;
      else await candidate.close(1);
    }
    if (pool === undefined) throw new Error('six pools of six connections never reached both standbys');
    const reads = new Map<number, number>();
    const failures: unknown[] = [];
    let running = true;
    let consecutiveAfterStop = 0;
    let stoppedAt = Infinity;
    const worker = async () => {
      const hardStop = Date.now() + 25_000;
      while (running && Date.now() < hardStop) {
        const id = 1 + Math.floor(Math.random() * 100);
        try {
          const result = await pool.query<{ port: number; v: string }>('select inet_server_port() as port, v from standby_reads, pg_sleep(0.005) where id = $1', [id]);
          expect(result.rows).toEqual([{ port: result.rows[0].port, v: `row ${id}` }]);
          const port = result.rows[0].port;
          reads.set(port, (reads.get(port) ?? 0) + 1);
          if (Date.now() > stoppedAt) consecutiveAfterStop++;
        } catch (error) {
          failures.push(error);
          consecutiveAfterStop = 0;
          await sleep(10);
        }
      }
    };
    let survivor: TestServer | undefined;
    try {
      const workers = Array.from({ length: 6 }, () => worker());
      expect(await until(() => [...allPorts].every((port) => (reads.get(port) ?? 0) >= 20), 10_000)).toBe(true);
      // a read surely in flight on the standby that goes: it runs for seconds, and the stop
      // waits until that standby shows it running
      const slow = pool.query(SLOW_READ).then(
        () => undefined,
        (error: unknown) => error,
      );
      let victim: TestServer | undefined;
      await until(async () => {
        for (const standby of standbys) {
          const watcher = await connect(standby.dsn, { autocommit: true });
          try {
            const result = await watcher.query<{ n: number }>("select count(*)::int as n from pg_stat_activity where query = $1 and state = 'active'", [SLOW_READ]);
            if (result.rows[0].n > 0) victim = standby;
          } finally {
            await watcher.close();
          }
        }
        return victim !== undefined;
      }, 5_000);
      if (victim === undefined) throw new Error('the slow read never showed on a standby');
      survivor = standbys.find((s) => s !== victim);
      const readsBefore = new Map(reads);
      await victim.halt('immediate');
      stoppedAt = Date.now();
      failures.push(await slow);
      // the pool replaced what broke, and reads go on, on the standby still up
      expect(await until(() => consecutiveAfterStop >= 100, 15_000)).toBe(true);
      running = false;
      await Promise.all(workers);
      expect(reads.get(victim.port)).toBeLessThanOrEqual((readsBefore.get(victim.port) ?? 0) + 6);
      expect(reads.get(survivor!.port)).toBeGreaterThan((readsBefore.get(survivor!.port) ?? 0) + 100);
      // later reads all land on the survivor
      const after = await Promise.all(Array.from({ length: 30 }, () => pool!.query<{ port: number }>('select inet_server_port() as port')));
      expect(new Set(after.map((r) => r.rows[0].port))).toEqual(new Set([survivor!.port]));
      expect(pool.stats().poolSize).toBe(6);
    } finally {
      running = false;
      await pool.close(1);
    }
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) {
      expect(failure).toBeInstanceOf(errors.OperationalError);
    }
  }, 60_000);
});
