// 07 — Moving a table from one database to another.
//
// The psycopg2 way reads every row into Python and inserts them again:
//
//   source_cur.execute("SELECT * FROM old_table")
//   rows = source_cur.fetchall()
//   target_cur.executemany("INSERT INTO new_table VALUES (%s, %s, %s)", rows)
//   target_conn.commit()
//
// That holds the whole table in memory and pays a round of parsing per value. The faster
// psycopg2 idiom is COPY on both ends (copy_expert into a buffer, then out of it). pqnode
// streams one COPY straight into the other: copyTo() on the source is a Readable, and
// copyFrom() takes a Readable. Rows are never parsed, and backpressure keeps memory flat.
//
// The target database is created here in the same server (CREATE DATABASE) and dropped at the
// end; with two servers, only the connection strings change.
import assert from 'node:assert/strict';
import { connect, errors } from '../dist/index.mjs';

const dsn = process.env.PQNODE_TEST_DSN;
const targetName = `pqnode_example_target_${process.pid}`;

// --- set up: a source table, and a target database --------------------------------------------
const admin = await connect(dsn, { autocommit: true }); // CREATE/DROP DATABASE refuse to run in a transaction
await admin.query(`DROP DATABASE IF EXISTS ${targetName}`);
await admin.query(`CREATE DATABASE ${targetName}`);

const source = await connect(dsn);
let target;
try {
  await source.query('DROP TABLE IF EXISTS orders');
  await source.query(`
    CREATE TABLE orders (
      id         bigint PRIMARY KEY,
      customer   text NOT NULL,
      amount     numeric(12, 2) NOT NULL,
      items      jsonb NOT NULL,
      created_at timestamptz NOT NULL
    )`);
  await source.query(`
    INSERT INTO orders
    SELECT n, 'customer ' || (n % 997), (n % 10000) / 100.0,
           jsonb_build_array(jsonb_build_object('sku', 'sku-' || (n % 50), 'qty', 1 + n % 3)),
           timestamptz '2026-01-01' + n * interval '1 minute'
    FROM generate_series(1, 100000) AS n`);
  await source.commit();

  // --- the migration ----------------------------------------------------------------------------
  target = await connect(withDatabase(dsn, targetName));
  assert.equal(target.info.dbname, targetName);

  await target.transaction(async (tx) => {
    await tx.query(`
      CREATE TABLE orders (
        id         bigint PRIMARY KEY,
        customer   text NOT NULL,
        amount     numeric(12, 2) NOT NULL,
        items      jsonb NOT NULL,
        created_at timestamptz NOT NULL
      )`);
    // Binary COPY skips text formatting on one end and parsing on the other; the two tables
    // must have the same column types. FORMAT csv or the default text format work the same way.
    const started = performance.now();
    const copied = await tx.copyFrom(
      'COPY orders FROM STDIN WITH (FORMAT binary)',
      source.copyTo('COPY orders TO STDOUT WITH (FORMAT binary)'),
    );
    console.log(`copied ${copied} rows in ${Math.round(performance.now() - started)} ms`);
    // If anything above throws, transaction() rolls back: the target is left as it was.
  });
  await source.commit(); // the COPY TO opened a transaction on the source; end it

  // --- verify ----------------------------------------------------------------------------------
  // Counts, and a checksum over the content, on both sides.
  const check = `
    SELECT count(*) AS rows, sum(amount) AS total,
           md5(string_agg(id || customer || amount || items::text || created_at, ',' ORDER BY id)) AS digest
    FROM orders`;
  const [before, after] = await Promise.all([source.query(check), target.query(check)]);
  console.log('source:', before.rows[0]);
  console.log('target:', after.rows[0]);
  assert.equal(after.rows[0].rows, 100000n);
  assert.deepEqual(after.rows[0], before.rows[0]);
  await Promise.all([source.commit(), target.commit()]);

  // --- the same, with a transformation on the way --------------------------------------------------
  // COPY (SELECT ...) on the source shapes the rows; here, one summary row per customer.
  await target.query('CREATE TABLE customer_totals (customer text PRIMARY KEY, orders int, total numeric)');
  const summarized = await target.copyFrom(
    'COPY customer_totals FROM STDIN',
    source.copyTo('COPY (SELECT customer, count(*), sum(amount) FROM orders GROUP BY customer) TO STDOUT'),
  );
  await target.commit();
  await source.commit();
  assert.equal(summarized, 997);
} finally {
  await target?.close();
  await source.query('DROP TABLE IF EXISTS orders').catch(() => undefined);
  await source.commit().catch(() => undefined);
  await source.close();
  // --- clean up: the target database goes ----------------------------------------------------------
  // DROP DATABASE fails while anyone is connected to it; WITH (FORCE) (PostgreSQL 13+) would
  // disconnect them. Here every connection to it is closed already.
  await admin.query(`DROP DATABASE IF EXISTS ${targetName}`);
  await admin.close();
}

// The same server, another database: the DSN with its dbname replaced. Works for URIs
// (postgresql://user@host:port/dbname) and for 'key=value' strings; with no DSN at all,
// the PG* variables give the rest.
function withDatabase(conninfo, dbname) {
  if (!conninfo) return { dbname };
  if (/^postgres(ql)?:\/\//.test(conninfo)) {
    const url = new URL(conninfo);
    url.pathname = `/${encodeURIComponent(dbname)}`;
    return url.toString();
  }
  return `${conninfo} dbname='${dbname}'`; // a later keyword wins in libpq
}

// A lost database shows up as an OperationalError (psycopg2 raises the same).
await assert.rejects(connect(withDatabase(dsn, targetName)), errors.OperationalError);

console.log('07-migrate-between-databases: ok');
