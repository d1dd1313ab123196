// 03 — Transactions.
//
// psycopg2 opens a transaction with the first statement and keeps it open until
// conn.commit() or conn.rollback(); `with conn:` commits on success and rolls back on an
// exception. pqnode does the same: autocommit is false by default.
//
//   conn = psycopg2.connect(dsn)
//   cur.execute("INSERT ...")       # BEGIN is sent first, implicitly
//   conn.commit()
//
//   with conn:                      # commit, or rollback on exception
//       cur.execute(...)
//
// conn.transaction(fn) is the `with conn:` block: it commits when fn resolves and rolls back
// when it throws. Nested calls use savepoints, like psycopg 3's conn.transaction().
import assert from 'node:assert/strict';
import { connect } from '../dist/index.mjs';

const dsn = process.env.PQNODE_TEST_DSN;
const conn = await connect(dsn);
const observer = await connect(dsn, { autocommit: true }); // a second session, to see what is committed
try {
  await conn.query('DROP TABLE IF EXISTS accounts');
  await conn.query('CREATE TABLE accounts (owner text PRIMARY KEY, balance numeric NOT NULL CHECK (balance >= 0))');
  await conn.commit();

  const visibleToOthers = async () =>
    (await observer.query('SELECT owner FROM accounts ORDER BY owner')).rows.map((row) => row.owner);

  // --- implicit transaction, explicit commit --------------------------------------------
  assert.equal(conn.autocommit, false);
  await conn.query('INSERT INTO accounts VALUES ($1, $2)', ['bob', 100]);
  // The INSERT opened a transaction: nothing is visible outside it yet.
  assert.equal(conn.info.transactionStatus, 'intrans');
  assert.deepEqual(await visibleToOthers(), []);
  await conn.commit();
  assert.equal(conn.info.transactionStatus, 'idle');
  assert.deepEqual(await visibleToOthers(), ['bob']);

  // --- explicit rollback -----------------------------------------------------------------
  await conn.query('INSERT INTO accounts VALUES ($1, $2)', ['mallory', 1000000]);
  await conn.rollback();
  assert.deepEqual(await visibleToOthers(), ['bob']);

  // --- transaction(): the `with conn:` block ---------------------------------------------
  await conn.transaction(async (tx) => {
    await tx.query('INSERT INTO accounts VALUES ($1, $2)', ['alice', 200]);
    await tx.query('UPDATE accounts SET balance = balance - 50 WHERE owner = $1', ['bob']);
    await tx.query('UPDATE accounts SET balance = balance + 50 WHERE owner = $1', ['alice']);
  });
  assert.deepEqual(await visibleToOthers(), ['alice', 'bob']);

  // A throw inside rolls everything back, and the error reaches the caller.
  await assert.rejects(
    conn.transaction(async (tx) => {
      await tx.query('UPDATE accounts SET balance = balance + 500 WHERE owner = $1', ['alice']);
      throw new Error('payment provider said no');
    }),
    /payment provider said no/,
  );
  const balances = await observer.query('SELECT owner, balance FROM accounts ORDER BY owner');
  console.log('balances:', balances.rows); // numeric arrives as a string: no precision lost
  assert.deepEqual(balances.rows, [
    { owner: 'alice', balance: '250' },
    { owner: 'bob', balance: '50' },
  ]);

  // --- nested transaction(): savepoints -------------------------------------------------
  // The inner block fails and is rolled back to its savepoint; the outer block goes on and
  // commits what it did itself.
  await conn.transaction(async (tx) => {
    await tx.query('INSERT INTO accounts VALUES ($1, $2)', ['carol', 10]);
    try {
      await tx.transaction(async (inner) => {
        await inner.query('INSERT INTO accounts VALUES ($1, $2)', ['dave', 10]);
        await inner.query('UPDATE accounts SET balance = balance - 100 WHERE owner = $1', ['carol']); // CHECK fails
      });
    } catch (error) {
      console.log(`inner block rolled back: ${error.constructor.name}: ${error.diag.messagePrimary}`);
    }
  });
  assert.deepEqual(await visibleToOthers(), ['alice', 'bob', 'carol']); // no dave

  // Inside a transaction the psycopg2 idiom works too: start with a statement, then call
  // transaction() — it uses a savepoint inside the transaction already open.
  await conn.query('INSERT INTO accounts VALUES ($1, $2)', ['erin', 5]);
  await assert.rejects(
    conn.transaction(async (tx) => {
      await tx.query('INSERT INTO accounts VALUES ($1, $2)', ['frank', 5]);
      throw new Error('undo frank only');
    }),
  );
  await conn.commit();
  assert.deepEqual(await visibleToOthers(), ['alice', 'bob', 'carol', 'erin']);

  // --- setSession(): psycopg2's conn.set_session() --------------------------------------
  // It sets the characteristics of the transactions that follow.
  await conn.setSession({ isolationLevel: 'serializable', readonly: true });
  const { rows } = await conn.query('SHOW transaction_isolation');
  assert.equal(rows[0].transaction_isolation, 'serializable');
  await assert.rejects(conn.query("DELETE FROM accounts WHERE owner = 'bob'"), /read-only transaction/);
  await conn.rollback();
  await conn.setSession({ isolationLevel: 'read committed', readonly: false });

  // A transaction() call can set them for itself alone.
  const total = await conn.transaction(
    async (tx) => (await tx.query('SELECT sum(balance) AS total FROM accounts')).rows[0].total,
    { isolationLevel: 'repeatable read', readonly: true },
  );
  console.log('total balance:', total);
  assert.equal(total, '315');

  // --- autocommit ---------------------------------------------------------------------------
  // psycopg2's conn.autocommit = True: every statement commits on its own. Needed for
  // statements that cannot run in a transaction (CREATE DATABASE, VACUUM, ...).
  await conn.setSession({ autocommit: true }); // or conn.autocommit = true
  await conn.query("DELETE FROM accounts WHERE owner = 'erin'");
  assert.equal(conn.info.transactionStatus, 'idle');
  assert.deepEqual(await visibleToOthers(), ['alice', 'bob', 'carol']);
  await conn.query('VACUUM accounts');

  // With autocommit on, transaction() is the way to group statements.
  await conn.transaction(async (tx) => {
    await tx.query("UPDATE accounts SET balance = balance + 1 WHERE owner = 'carol'");
    await tx.query("UPDATE accounts SET balance = balance - 1 WHERE owner = 'alice'");
  });

  await conn.query('DROP TABLE accounts');
} finally {
  await conn.close();
  await observer.close();
}

console.log('03-transactions: ok');
