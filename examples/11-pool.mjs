// 11 — A connection pool.
//
// psycopg2's pools hand out connections with getconn() and take them back with putconn();
// psycopg 3's psycopg_pool adds `with pool.connection() as conn:`, which commits or rolls
// back, and a pool that checks, resets and replaces connections on its own.
//
//   pool = ThreadedConnectionPool(2, 5, dsn)
//   conn = pool.getconn()
//   try:
//       with conn:
//           cur.execute(...)
//   finally:
//       pool.putconn(conn)
//
// pqnode's Pool: pool.connection(fn) commits when fn resolves and rolls back when it throws;
// acquire()/release() are getconn()/putconn().
import assert from 'node:assert/strict';
import { errors, Pool } from '../dist/index.mjs';

const dsn = process.env.PQNODE_TEST_DSN;
const pool = new Pool(dsn, { min: 2, max: 5, timeout: 5, check: Pool.checkConnection });
try {
  await pool.wait();

  await pool.query('DROP TABLE IF EXISTS pool_visits');
  await pool.query('CREATE TABLE pool_visits (page text, at timestamptz DEFAULT now())');

  // --- pool.connection(fn): one transaction per call ---------------------------------------------
  await pool.connection(async (conn) => {
    await conn.query('INSERT INTO pool_visits (page) VALUES ($1), ($2)', ['/', '/about']);
  });
try {
    await pool.connection(async (conn) => {
      await conn.query('INSERT INTO pool_visits (page) VALUES ($1)', ['/lost']);
      throw new Error('changed my mind'); // rolled back
    });
  } catch (error) {
    assert.equal(error.message, 'changed my mind');
  }

  // --- many callers at once: at most `max` connections, the rest wait in line ----------------------
  const pages = Array.from({ length: 50 }, (_, i) => `/page/${i}`);
  await Promise.all(pages.map((page) => pool.query('INSERT INTO pool_visits (page) VALUES ($1)', [page])));
  const { rows } = await pool.query('SELECT count(*)::int AS n FROM pool_visits');
  assert.equal(rows[0].n, 52);

  // --- acquire() / release(): a transaction left open is rolled back -------------------------------
  const conn = await pool.acquire();
  await conn.query('DELETE FROM pool_visits');
  await pool.release(conn); // not committed: rolled back
  assert.equal((await pool.query('SELECT count(*)::int AS n FROM pool_visits')).rows[0].n, 52);

  // --- an exhausted pool --------------------------------------------------------------------------
  const held = await Promise.all(Array.from({ length: 5 }, () => pool.acquire()));
try {
    await pool.acquire({ timeout: 0.2 });
  } catch (error) {
    assert.ok(error instanceof errors.PoolTimeout);
  }
  await Promise.all(held.map((c) => pool.release(c)));

  const stats = pool.stats();
  console.log(`pool: ${stats.poolSize} connections, ${stats.requestsNum} requests, ${stats.requestsQueued} waited, ${stats.requestsErrors} timed out`);
  await pool.query('DROP TABLE pool_visits');
} finally {
  // waits for connections still in use (up to 5 s), then closes everything
  await pool.close();
}
