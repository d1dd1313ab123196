// 08 — A throwaway database per test suite.
//
// The psycopg2 recipe: a fixture that connects to a maintenance database with autocommit on,
// runs CREATE DATABASE, loads the schema, hands the test a connection, and drops the database
// afterwards:
//
//   admin = psycopg2.connect(dsn); admin.autocommit = True
//   admin.cursor().execute("CREATE DATABASE test_xyz TEMPLATE app_template")
//   conn = psycopg2.connect(dbname="test_xyz", ...)
//   ... run the tests ...
//   conn.close()
//   admin.cursor().execute("DROP DATABASE test_xyz")
//
// Loading the schema into a template once and cloning it per suite (CREATE DATABASE ...
// TEMPLATE ...) is much faster than running the schema SQL every time: the clone is a file
// copy on the server. Each suite gets a database nobody else touches, so suites can run in
// parallel.
import assert from 'node:assert/strict';
import { connect, errors } from '../dist/index.mjs';

const dsn = process.env.PQNODE_TEST_DSN;
const prefix = `pqnode_example_${process.pid}`;
const templateName = `${prefix}_template`;

// The schema as one multi-statement string, as it would be read from a schema.sql file.
// conn.query() runs a string of several statements in one round trip when it has no
// parameters, like psycopg2's cur.execute(open("schema.sql").read()).
const SCHEMA = `
  CREATE TABLE authors (
    id   serial PRIMARY KEY,
    name text NOT NULL UNIQUE
  );
  CREATE TABLE posts (
    id        serial PRIMARY KEY,
    author_id int NOT NULL REFERENCES authors (id),
    title     text NOT NULL,
    tags      text[] NOT NULL DEFAULT '{}',
    published boolean NOT NULL DEFAULT false
  );
  CREATE INDEX posts_author_idx ON posts (author_id);
  -- reference data every test expects
  INSERT INTO authors (name) VALUES ('editor');
`;

// CREATE DATABASE and DROP DATABASE cannot run inside a transaction block: the admin
// connection uses autocommit, as psycopg2's fixtures set conn.autocommit = True.
const admin = await connect(dsn, { autocommit: true });

async function createTemplate() {
  await admin.query(`DROP DATABASE IF EXISTS ${templateName}`);
  await admin.query(`CREATE DATABASE ${templateName}`);
  const conn = await connect(withDatabase(dsn, templateName), { autocommit: true });
  try {
    await conn.query(SCHEMA);
  } finally {
    // A template may have no one connected to it while it is being cloned.
    await conn.close();
  }
}

/** Run `suite` against a fresh database cloned from the template; drop it afterwards. */
async function withTestDatabase(name, suite) {
  const dbname = `${prefix}_${name}`;
  await admin.query(`CREATE DATABASE ${dbname} TEMPLATE ${templateName}`);
  const conn = await connect(withDatabase(dsn, dbname));
  try {
    return await suite(conn);
  } finally {
    await conn.close();
    await admin.query(`DROP DATABASE IF EXISTS ${dbname}`);
  }
}

try {
  await createTemplate();

  // Two suites at once, each in a database of its own: neither sees what the other writes.
  const [authorsSuite, postsSuite] = await Promise.all([
    withTestDatabase('authors', async (conn) => {
      await conn.query('INSERT INTO authors (name) VALUES ($1), ($2)', ['ann', 'bob']);
      await conn.commit();
      await assert.rejects(conn.query('INSERT INTO authors (name) VALUES ($1)', ['ann']), errors.UniqueViolation);
      await conn.rollback();
      const { rows } = await conn.query('SELECT name FROM authors ORDER BY id');
      assert.deepEqual(
        rows.map((row) => row.name),
        ['editor', 'ann', 'bob'],
      );
      return `authors suite ran in ${conn.info.dbname}`;
    }),
    withTestDatabase('posts', async (conn) => {
      const cur = conn.cursor();
      await cur.execute('INSERT INTO posts (author_id, title, tags) VALUES (%s, %s, %s) RETURNING id', [
        1,
        'Hello',
        ['intro', 'news'],
      ]);
      const [postId] = await cur.fetchone();
      await cur.execute('SELECT title, tags, published FROM posts WHERE id = %s', [postId]);
      assert.deepEqual(await cur.fetchone(), ['Hello', ['intro', 'news'], false]);
      await assert.rejects(
        cur.execute('INSERT INTO posts (author_id, title) VALUES (%s, %s)', [999, 'orphan']),
        errors.ForeignKeyViolation,
      );
      await conn.rollback();
      // the other suite's authors are not here
      await cur.execute('SELECT count(*) FROM authors');
      assert.deepEqual(await cur.fetchone(), [1n]);
      return `posts suite ran in ${conn.info.dbname}`;
    }),
  ]);
  console.log(authorsSuite);
  console.log(postsSuite);

  // A lighter alternative inside one database: a schema per suite, created in a transaction
  // that is rolled back at the end (DDL is transactional in PostgreSQL). Or keep it committed
  // and DROP SCHEMA ... CASCADE afterwards.
  const conn = await connect(dsn);
  try {
    const schema = `${prefix}_suite`;
    await conn.query(`CREATE SCHEMA ${schema}; SET search_path TO ${schema}; ${SCHEMA}`);
    const { rows } = await conn.query('SELECT count(*) AS n FROM authors');
    assert.equal(rows[0].n, 1n);
    await conn.rollback(); // the schema, its tables and its rows are all gone
    const gone = await conn.query('SELECT count(*) AS n FROM pg_namespace WHERE nspname = $1', [schema]);
    assert.equal(gone.rows[0].n, 0n);
    await conn.rollback();
  } finally {
    await conn.close();
  }
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${templateName}`);
  const left = await admin.query('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${prefix}%`]);
  await admin.close();
  assert.deepEqual(left.rows, [], 'every throwaway database was dropped');
}

// The same server, another database: the DSN with its dbname replaced.
function withDatabase(conninfo, dbname) {
  if (!conninfo) return { dbname };
  if (/^postgres(ql)?:\/\//.test(conninfo)) {
    const url = new URL(conninfo);
    url.pathname = `/${encodeURIComponent(dbname)}`;
    return url.toString();
  }
  return `${conninfo} dbname='${dbname}'`;
}

console.log('08-test-database-setup: ok');
