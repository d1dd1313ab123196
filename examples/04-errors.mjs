// 04 — Errors.
//
// psycopg2:
//
//   from psycopg2 import errors
//   try:
//       cur.execute("INSERT INTO users (email) VALUES (%s)", (email,))
//   except errors.UniqueViolation as e:
//       print(e.pgcode, e.diag.constraint_name)
//       conn.rollback()
//
// pqnode has the same hierarchy: errors.Error > errors.DatabaseError > errors.IntegrityError
// > errors.UniqueViolation, one class per SQLSTATE, named as psycopg2.errors names them.
// pgcode is `sqlstate`; diag's fields are camelCase (constraint_name → constraintName).
import assert from 'node:assert/strict';
import { connect, errors } from '../dist/index.mjs';

const conn = await connect(process.env.PQNODE_TEST_DSN);
try {
  await conn.query('CREATE TEMPORARY TABLE users (id serial PRIMARY KEY, email text UNIQUE NOT NULL)');
  await conn.query('INSERT INTO users (email) VALUES ($1)', ['ann@example.com']);
  await conn.commit();

  // --- catch the precise class ---------------------------------------------------------------
  try {
    await conn.query('INSERT INTO users (email) VALUES ($1)', ['ann@example.com']);
    assert.fail('the duplicate should have been refused');
  } catch (error) {
    if (!(error instanceof errors.UniqueViolation)) throw error;
    console.log(`${error.name} (${error.sqlstate}): ${error.diag.messagePrimary}`);
    console.log(`  detail: ${error.diag.messageDetail}`);
    console.log(`  table ${error.diag.tableName}, constraint ${error.diag.constraintName}`);
    assert.equal(error.sqlstate, '23505');
    assert.equal(error.diag.constraintName, 'users_email_key');
    // Each class sits under its DB-API class, so broader catches work as in psycopg2.
    assert.ok(error instanceof errors.IntegrityError);
    assert.ok(error instanceof errors.DatabaseError);
    assert.ok(error instanceof errors.Error);
    assert.ok(error instanceof Error);
  }

  // --- the transaction is aborted until rolled back ------------------------------------------
  // As in psycopg2, the failed statement leaves the transaction in error: every further
  // statement fails with InFailedSqlTransaction until rollback().
  assert.equal(conn.info.transactionStatus, 'inerror');
  await assert.rejects(conn.query('SELECT 1'), errors.InFailedSqlTransaction);
  await conn.rollback();

  // The connection itself is fine: after the rollback it works as before.
  const { rows } = await conn.query('SELECT count(*) AS n FROM users');
  assert.equal(rows[0].n, 1n);

  // --- catch by DB-API family -----------------------------------------------------------------
  try {
    await conn.query('INSERT INTO users (email) VALUES (NULL)');
  } catch (error) {
    assert.ok(error instanceof errors.IntegrityError); // NotNullViolation is an IntegrityError
    console.log(`${error.name}: column ${error.diag.columnName} (sqlstate ${error.sqlstate})`);
    await conn.rollback();
  }

  // --- syntax errors, unknown tables: ProgrammingError -------------------------------------
  const cur = conn.cursor();
  await assert.rejects(cur.execute('SELECT * FROM no_such_table'), (error) => {
    assert.ok(error instanceof errors.UndefinedTable);
    assert.ok(error instanceof errors.ProgrammingError);
    // statementPosition points into the query text, 1-based, as a string (as libpq gives it)
    assert.equal(error.diag.statementPosition, '15');
    return true;
  });
  await conn.rollback();

  // --- bad data: DataError ------------------------------------------------------------------
  await assert.rejects(conn.query('SELECT 1 / 0'), errors.DivisionByZero);
  await conn.rollback();
  await assert.rejects(conn.query('SELECT $1::int', ['forty-two']), errors.InvalidTextRepresentation);
  await conn.rollback();

  // --- errors raised by the server on purpose -------------------------------------------------
  // RAISE with a SQLSTATE of your choosing comes back as its class, with hint and all.
  await assert.rejects(
    conn.query(`DO $$ BEGIN RAISE EXCEPTION 'quota exceeded' USING ERRCODE = 'check_violation', HINT = 'upgrade your plan'; END $$`),
    (error) => error instanceof errors.CheckViolation && error.diag.messageHint === 'upgrade your plan',
  );
  await conn.rollback();

  // --- errors.lookup(): from a code (or a condition name) to its class ----------------------
  assert.equal(errors.lookup('23505'), errors.UniqueViolation);
  assert.equal(errors.lookup('unique_violation'), errors.UniqueViolation);
  assert.equal(errors.lookup('40001'), errors.SerializationFailure);

  // --- a pattern: retry on a conflict ------------------------------------------------------
  // Catch UniqueViolation inside a transaction() block to turn "insert" into "find or insert".
  async function findOrCreate(email) {
    try {
      return await conn.transaction(async (tx) => {
        const inserted = await tx.query('INSERT INTO users (email) VALUES ($1) RETURNING id', [email]);
        return inserted.rows[0].id;
      });
    } catch (error) {
      if (!(error instanceof errors.UniqueViolation)) throw error;
      const existing = await conn.query('SELECT id FROM users WHERE email = $1', [email]);
      return existing.rows[0].id;
    }
  }
  const first = await findOrCreate('bea@example.com');
  const again = await findOrCreate('bea@example.com');
  assert.equal(first, again);

  // --- client-side errors ---------------------------------------------------------------------
  // Misuse that never reaches the server is a ProgrammingError or an InterfaceError.
  await assert.rejects(cur.execute('SELECT %s, %s', [1]), errors.ProgrammingError);
  await cur.close();
  await assert.rejects(cur.execute('SELECT 1'), errors.InterfaceError);
  await conn.rollback();
} finally {
  await conn.close();
}

console.log('04-errors: ok');
