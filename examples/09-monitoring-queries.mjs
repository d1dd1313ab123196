// 09 — Monitoring queries, as a DBA's psycopg2 script runs them.
//
//   cur.execute("SELECT count(*) FROM pg_stat_activity WHERE state = 'active'")
//   print("active connections:", cur.fetchone()[0])
//   cur.execute("VACUUM (ANALYZE) my_table")   # with autocommit on
//
// Everything here is plain SQL over the statistics views; pqnode's part is the types:
// counters (int8) arrive as bigint, timestamps as Date, arrays as arrays, sizes from
// pg_total_relation_size() as bigint. Numbers that must stay exact (numeric) arrive as strings.
//
// To have something to look at, the script first makes some trouble: a session that holds a
// row lock and goes idle in its transaction, a second one blocked behind it, and a third
// running a long query. Then it reports on them, and cancels them.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, errors } from '../dist/index.mjs';

const dsn = process.env.PQNODE_TEST_DSN;
const tag = `pqnode-example-${process.pid}`;

/** A connection that says who it is in pg_stat_activity.application_name. */
async function connectAs(role, options) {
  const conn = await connect(dsn, options);
  await conn.query("SELECT set_config('application_name', $1, false)", [`${tag}-${role}`]);
  if (!conn.autocommit) await conn.commit();
  return conn;
}

// Monitoring wants autocommit: each query sees fresh statistics, and no transaction is left
// open on the server being watched (VACUUM also refuses to run inside one).
const monitor = await connectAs('monitor', { autocommit: true });
const holder = await connectAs('holder');
const waiter = await connectAs('waiter');
const sleeper = await connectAs('sleeper');
let waiting;
let sleeping;
try {
  await monitor.query('DROP TABLE IF EXISTS monitored');
  await monitor.query(`
    CREATE TABLE monitored AS
    SELECT n AS id, md5(n::text) AS payload FROM generate_series(1, 20000) AS n`);
  await monitor.query('ALTER TABLE monitored ADD PRIMARY KEY (id)');
  await monitor.query('VACUUM (ANALYZE) monitored');

  // --- make some trouble ------------------------------------------------------------------------
  await holder.query("UPDATE monitored SET payload = 'held' WHERE id = 1"); // transaction left open
  waiting = waiter.query("UPDATE monitored SET payload = 'waiting' WHERE id = 1"); // blocks on the row lock
  sleeping = sleeper.query('SELECT pg_sleep(60)'); // a long-running query
  waiting.catch(() => undefined);
  sleeping.catch(() => undefined);
  await waitFor(async () => {
    const { rows } = await monitor.query(
      "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name LIKE $1 AND state = 'active' AND query NOT LIKE '%pg_stat_activity%'",
      [`${tag}-%`],
    );
    return rows[0].n === 2n;
  });
  await sleep(250); // long enough to count as long-running below

  // --- connections by state -------------------------------------------------------------------
  const byState = await monitor.query(`
    SELECT coalesce(state, backend_type) AS state, count(*) AS connections
    FROM pg_stat_activity
    GROUP BY 1 ORDER BY 2 DESC, 1`);
  console.log('connections by state:');
  for (const row of byState.rows) console.log(`  ${String(row.connections).padStart(3)}  ${row.state}`);

  // --- long-running queries ---------------------------------------------------------------------
  // now() - query_start is an interval; extract(epoch ...) makes it seconds (cast to float8,
  // since PostgreSQL 14 returns numeric, which arrives as a string).
  const longRunning = await monitor.query(
    `SELECT pid, application_name, state, wait_event_type, query_start,
            extract(epoch FROM now() - query_start)::float8 AS seconds, left(query, 60) AS query
     FROM pg_stat_activity
     WHERE state <> 'idle' AND pid <> pg_backend_pid() AND now() - query_start > $1::interval
     ORDER BY query_start`,
    ['100 milliseconds'],
  );
  console.log('running for more than 100 ms:');
  for (const row of longRunning.rows) {
    console.log(`  pid ${row.pid} ${row.application_name}: ${row.state}, ${row.seconds.toFixed(2)} s, ${JSON.stringify(row.query)}`);
  }
  const sleeperRow = longRunning.rows.find((row) => row.application_name === `${tag}-sleeper`);
  assert.ok(sleeperRow, 'the sleeping query shows up');
  assert.ok(sleeperRow.query_start instanceof Date);
  assert.equal(sleeperRow.pid, sleeper.info.backendPid);

  // --- idle in transaction: the sessions that hold locks and do nothing -----------------------------
  const idleInTransaction = await monitor.query(`
    SELECT pid, application_name, now() - state_change AS idle_for
    FROM pg_stat_activity WHERE state = 'idle in transaction'`);
  console.log('idle in transaction:', idleInTransaction.rows.map((row) => `${row.application_name} for ${row.idle_for}`));
  assert.ok(idleInTransaction.rows.some((row) => row.pid === holder.info.backendPid));

  // --- locks: who blocks whom --------------------------------------------------------------------
  // pg_blocking_pids() returns int4[]: it arrives as an array of numbers.
  const blocked = await monitor.query(`
    SELECT a.pid, a.application_name, pg_blocking_pids(a.pid) AS blocked_by,
           a.wait_event_type, left(a.query, 60) AS query
    FROM pg_stat_activity AS a
    WHERE cardinality(pg_blocking_pids(a.pid)) > 0`);
  for (const row of blocked.rows) {
    console.log(`  pid ${row.pid} (${row.application_name}) waits on ${row.wait_event_type}, blocked by ${row.blocked_by.join(', ')}: ${row.query}`);
  }
  const waiterRow = blocked.rows.find((row) => row.pid === waiter.info.backendPid);
  assert.deepEqual(waiterRow.blocked_by, [holder.info.backendPid]);

  const locks = await monitor.query(`
    SELECT l.pid, l.locktype, l.mode, l.granted, c.relname
    FROM pg_locks AS l LEFT JOIN pg_class AS c ON c.oid = l.relation
    WHERE l.pid IN (SELECT pid FROM pg_stat_activity WHERE application_name LIKE $1 AND pid <> pg_backend_pid())
      AND l.locktype IN ('relation', 'transactionid', 'tuple')
    ORDER BY l.pid, l.granted DESC, l.locktype`,
    [`${tag}-%`],
  );
  console.log('locks:');
  for (const row of locks.rows) {
    console.log(`  pid ${row.pid} ${row.granted ? 'holds  ' : 'AWAITS '} ${row.mode} on ${row.locktype}${row.relname ? ` of ${row.relname}` : ''}`);
  }
  assert.ok(locks.rows.some((row) => row.granted === false));

  // --- database statistics ------------------------------------------------------------------------
  // The counters are int8: bigint in JS, exact however large they grow.
  const database = await monitor.query(`
    SELECT datname, numbackends, xact_commit, xact_rollback, blks_read, blks_hit,
           round(100.0 * blks_hit / nullif(blks_hit + blks_read, 0), 2) AS cache_hit_pct,
           pg_database_size(datname) AS bytes, pg_size_pretty(pg_database_size(datname)) AS size,
           stats_reset
    FROM pg_stat_database WHERE datname = current_database()`);
  const db = database.rows[0];
  console.log(
    `database ${db.datname}: ${db.numbackends} backends, ${db.xact_commit} commits, ${db.xact_rollback} rollbacks,`,
    `cache hit ${db.cache_hit_pct}%, size ${db.size}`,
  );
  assert.equal(typeof db.xact_commit, 'bigint');
  assert.equal(typeof db.bytes, 'bigint');

  // --- the largest tables ----------------------------------------------------------------------------
  const tables = await monitor.query(`
    SELECT relname, n_live_tup, n_dead_tup, last_autovacuum, last_vacuum, last_analyze,
           pg_total_relation_size(relid) AS total_bytes,
           pg_size_pretty(pg_total_relation_size(relid)) AS total,
           pg_size_pretty(pg_indexes_size(relid)) AS indexes
    FROM pg_stat_user_tables
    ORDER BY pg_total_relation_size(relid) DESC
    LIMIT 5`);
  console.log('largest tables:');
  for (const row of tables.rows) {
    console.log(`  ${row.relname}: ${row.total} (indexes ${row.indexes}), ~${row.n_live_tup} live rows, last vacuum ${row.last_vacuum?.toISOString() ?? 'never'}`);
  }
  const monitored = tables.rows.find((row) => row.relname === 'monitored');
  assert.ok(monitored.total_bytes > 1_000_000n);
  assert.ok(monitored.last_vacuum instanceof Date);

  // --- doing something about it ---------------------------------------------------------------------
  // psycopg2's conn.cancel() from the client that runs the query...
  await sleeper.cancel();
  await assert.rejects(sleeping, errors.QueryCanceled);
  // ...or, from the monitoring session, pg_cancel_backend(pid) / pg_terminate_backend(pid).
  const canceled = await monitor.query('SELECT pg_cancel_backend($1) AS ok', [waiter.info.backendPid]);
  assert.equal(canceled.rows[0].ok, true);
  await assert.rejects(waiting, errors.QueryCanceled);
  await holder.rollback();
  await waiter.rollback();
  await sleeper.rollback();
} finally {
  await Promise.all([holder.close(), waiter.close(), sleeper.close()]);
  await monitor.query('DROP TABLE IF EXISTS monitored');
  await monitor.close();
}

async function waitFor(condition, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the sessions to get busy');
    await sleep(50);
  }
}

console.log('09-monitoring-queries: ok');
