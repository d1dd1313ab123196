// 02 — Cursors and parameters, the DB-API way.
//
// psycopg2:
//
//   cur = conn.cursor()
//   cur.execute("SELECT * FROM users WHERE id = %s AND name = %s", (user_id, name))
//   row = cur.fetchone()
//   cur.execute("SELECT * FROM users WHERE name = %(name)s", {"name": name})
//   for row in cur: ...
//
// A pqnode cursor takes the same placeholders: %s with an array, %(name)s with an object,
// %% for a literal %. The values travel as parameters (server-side binding): they are never
// pasted into the SQL text, so there is nothing to escape and no SQL injection.
// Cursor rows are arrays, like psycopg2's tuples.
import assert from 'node:assert/strict';
import { connect } from '../dist/index.mjs';

const conn = await connect(process.env.PQNODE_TEST_DSN);
try {
  const cur = conn.cursor();

  // A temporary table: it disappears when the connection closes.
  await cur.execute(`
    CREATE TEMPORARY TABLE users (
      id      serial PRIMARY KEY,
      name    text NOT NULL,
      email   text,
      karma   int NOT NULL DEFAULT 0
    )`);

  // executemany() runs the statement once per parameter set; pqnode pipelines them all.
  await cur.executemany('INSERT INTO users (name, email, karma) VALUES (%s, %s, %s)', [
    ['alice', 'alice@example.com', 10],
    ['bob', null, 3],
    ['carol', 'carol@example.com', 7],
    ['dave', 'dave@example.com', 0],
    ['erin', "erin'); DROP TABLE users; --@example.com", 1],
  ]);
  assert.equal(cur.rowcount, 5);

  // %s with an array. Like psycopg2, execute() only runs the statement; fetch the rows after.
  // (It also resolves to the cursor itself, so the two can be chained.)
  await cur.execute('SELECT id, name, email FROM users WHERE name = %s', ['alice']);
  const alice = await cur.fetchone();
  console.log('fetchone:', alice);
  assert.deepEqual(alice, [1, 'alice', 'alice@example.com']);
  assert.equal(await cur.fetchone(), null); // no more rows: null, where psycopg2 gives None

  // %(name)s with an object; a name can be used more than once.
  await cur.execute('SELECT name FROM users WHERE karma >= %(min)s AND karma <= %(min)s * 10 ORDER BY name', { min: 3 });
  console.log('fetchall:', await cur.fetchall());

  // fetchmany(size): the next `size` rows (cursor.arraysize when no size is given).
  await cur.execute('SELECT id FROM users ORDER BY id');
  assert.deepEqual(await cur.fetchmany(2), [[1], [2]]);
  assert.deepEqual(await cur.fetchmany(2), [[3], [4]]);
  assert.deepEqual(await cur.fetchmany(2), [[5]]);
  assert.deepEqual(await cur.fetchmany(2), []);

  // `for row in cur:` becomes `for await (const row of cur)`.
  await cur.execute('SELECT name, karma FROM users ORDER BY karma DESC');
  for await (const [name, karma] of cur) {
    console.log(`  ${name.padEnd(6)} ${karma}`);
  }

  // description: one entry per column, with the DB-API fields (name, typeCode, ...).
  await cur.execute('SELECT id, name, karma::numeric(10, 2) AS score FROM users LIMIT 1');
  for (const column of cur.description) {
    console.log(`  column ${column.name}: type oid ${column.typeCode}, precision ${column.precision}, scale ${column.scale}`);
  }
  assert.deepEqual(
    cur.description.map((column) => column.name),
    ['id', 'name', 'score'],
  );
  assert.equal(cur.description[2].precision, 10);
  assert.equal(cur.description[2].scale, 2);

  // rowcount: rows returned, or rows touched by INSERT/UPDATE/DELETE; statusmessage: the tag.
  await cur.execute('UPDATE users SET karma = karma + 1 WHERE email IS NOT NULL');
  console.log(`updated ${cur.rowcount} rows (${cur.statusmessage})`);
  assert.equal(cur.rowcount, 4);
  assert.equal(cur.statusmessage, 'UPDATE 4');

  // The hostile-looking email went in as data, untouched.
  await cur.execute('SELECT email FROM users WHERE name = %s', ['erin']);
  assert.deepEqual(await cur.fetchone(), ["erin'); DROP TABLE users; --@example.com"]);

  // %% is a literal percent sign when the statement has parameters.
  await cur.execute("SELECT name FROM users WHERE email LIKE '%%' || %s ORDER BY id", ['@example.com']);
  assert.equal((await cur.fetchall()).length, 4);

  // mogrify() shows the statement with its values quoted in, for logs and debugging. It is
  // never what is sent: execute() sends the values apart from the text.
  const shown = cur.mogrify('SELECT * FROM users WHERE name = %s AND karma > %s', ["o'reilly", 5]);
  console.log('mogrify:', shown);
  assert.match(shown, /'o''reilly'/);

  // cursor.query is the text that was sent, with PostgreSQL's own $n placeholders.
  await cur.execute('SELECT %s::text AS greeting', ['hello']);
  console.log('sent as:', cur.query);
  assert.equal(cur.query, 'SELECT $1::text AS greeting');

  // conn.execute() is a shortcut: a new cursor, executed (as in psycopg 3).
  const other = await conn.execute('SELECT count(*) FROM users WHERE karma > %s', [2]);
  const [[count]] = await other.fetchall();
  console.log('users with karma > 2:', count); // count(*) is int8: a bigint in JS
  assert.equal(count, 3n);

  // Rows as objects instead of arrays, like psycopg2's RealDictCursor.
  const dictCursor = conn.cursor({ rowFactory: 'object' });
  await dictCursor.execute('SELECT id, name FROM users WHERE id = %s', [2]);
  assert.deepEqual(await dictCursor.fetchone(), { id: 2, name: 'bob' });

  // ... or arrays that can also be read by column name, like NamedTupleCursor.
  const namedCursor = conn.cursor({ rowFactory: 'named' });
  await namedCursor.execute('SELECT id, name FROM users WHERE id = %s', [3]);
  const named = await namedCursor.fetchone();
  assert.equal(named.name, 'carol');
  assert.equal(named[0], 3);

  await cur.close();
  await conn.commit();
} finally {
  await conn.close();
}

console.log('02-cursor-and-parameters: ok');
