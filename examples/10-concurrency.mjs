// 10 — Many queries in flight on one connection.
//
// A psycopg2 connection runs one statement at a time: execute() sends it and blocks until the
// result is back, so N statements cost N network round trips. Threads sharing the connection
// take turns on it.
//
// A pqnode connection sends a statement as soon as you call query(), without waiting for the
// ones before it: statements issued together (Promise.all, or simply not awaited yet) travel
// together in libpq's pipeline mode. The server still runs them one after the other, in the
// order they were issued, and each promise settles with its own result, in that same order.
// What pipelining saves is the waiting between them: the round trips.
import assert from 'node:assert/strict';
import { connect, errors } from '../dist/index.mjs';

const conn = await connect(process.env.PQNODE_TEST_DSN, { autocommit: true });
try {
  // --- one at a time vs. all in flight --------------------------------------------------------
  const N = 2000;
  let started = performance.now();
  for (let i = 0; i < N; i++) {
    await conn.query('SELECT $1::int AS i', [i]); // one round trip each
  }
  const oneAtATime = performance.now() - started;

  started = performance.now();
  const results = await Promise.all(Array.from({ length: N }, (_, i) => conn.query('SELECT $1::int AS i', [i])));
  const pipelined = performance.now() - started;
  console.log(`${N} queries: ${oneAtATime.toFixed(0)} ms one at a time, ${pipelined.toFixed(0)} ms in flight together`);
  // Each promise has its own statement's result.
  assert.deepEqual(
    results.map((result) => result.rows[0].i),
    Array.from({ length: N }, (_, i) => i),
  );

  // --- the ordering guarantee -------------------------------------------------------------------
  // Statements run in the order they were issued, even when nothing awaits in between: the
  // SELECT issued after the INSERT sees its row.
  await conn.query('CREATE TEMPORARY TABLE events (id serial PRIMARY KEY, what text)');
  const insert = conn.query("INSERT INTO events (what) VALUES ('first') RETURNING id");
  const update = conn.query("UPDATE events SET what = what || ', then updated'");
  const select = conn.query('SELECT what FROM events');
  const [inserted, updated, selected] = await Promise.all([insert, update, select]);
  assert.equal(inserted.rows[0].id, 1);
  assert.equal(updated.rowCount, 1);
  assert.deepEqual(selected.rows, [{ what: 'first, then updated' }]);

  // Promises also settle in issue order.
  const settled = [];
  await Promise.all(
    ['a', 'b', 'c', 'd'].map((name, i) =>
      conn.query(`SELECT pg_sleep($1::float8 / 100), $2::text AS name`, [4 - i, name]).then(() => settled.push(name)),
    ),
  );
  assert.deepEqual(settled, ['a', 'b', 'c', 'd']);

  // --- an error touches only its own statement ------------------------------------------------
  // With autocommit on, each statement stands alone: the one that fails rejects, the ones
  // around it succeed.
  const outcomes = await Promise.allSettled([
    conn.query('SELECT 1 AS ok'),
    conn.query('SELECT 1 / 0'),
    conn.query('SELECT 3 AS ok'),
  ]);
  assert.deepEqual(
    outcomes.map((outcome) => outcome.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  assert.ok(outcomes[1].reason instanceof errors.DivisionByZero);

  // Inside a transaction the usual PostgreSQL rule applies: after an error, the statements
  // that follow in the same transaction fail with InFailedSqlTransaction until it ends.
  await assert.rejects(
    conn.transaction(async (tx) => {
      const inTransaction = await Promise.allSettled([
        tx.query("INSERT INTO events (what) VALUES ('lost')"),
        tx.query('SELECT 1 / 0'),
        tx.query("INSERT INTO events (what) VALUES ('never')"),
      ]);
      assert.deepEqual(
        inTransaction.map((outcome) => outcome.reason?.constructor.name ?? 'ok'),
        ['ok', 'DivisionByZero', 'InFailedSqlTransaction'],
      );
      throw inTransaction[1].reason;
    }),
    errors.DivisionByZero,
  );
  const count = await conn.query('SELECT count(*) AS n FROM events');
  assert.equal(count.rows[0].n, 1n); // the transaction was rolled back as a whole

  // --- cursors and executemany() pipeline too -------------------------------------------------
  const cur = conn.cursor();
  await cur.executemany(
    'INSERT INTO events (what) VALUES (%s)',
    Array.from({ length: 500 }, (_, i) => [`event ${i}`]),
  );
  assert.equal(cur.rowcount, 500);

  // --- what pipelining does not do ------------------------------------------------------------
  // The server runs one connection's statements one at a time. Ten half-second queries on one
  // connection take five seconds however they are sent; to run them side by side, use several
  // connections (a Pool: see 11-pool.mjs).
  const sleepers = await Promise.all(Array.from({ length: 3 }, () => connect(process.env.PQNODE_TEST_DSN, { autocommit: true })));
  try {
    started = performance.now();
    await Promise.all(Array.from({ length: 3 }, () => conn.query('SELECT pg_sleep(0.2)')));
    const serial = performance.now() - started;
    started = performance.now();
    await Promise.all(sleepers.map((other) => other.query('SELECT pg_sleep(0.2)')));
    const parallel = performance.now() - started;
    console.log(`3 × pg_sleep(0.2): ${serial.toFixed(0)} ms on one connection, ${parallel.toFixed(0)} ms on three`);
    assert.ok(serial >= 590); // pg_sleep sleeps at least as long as asked
    assert.ok(parallel < serial);
  } finally {
    await Promise.all(sleepers.map((other) => other.close()));
  }
} finally {
  await conn.close();
}

console.log('10-concurrency: ok');
