// 01 — Connect, run a query, close.
//
// psycopg2:
//
//   conn = psycopg2.connect(dsn)
//   cur = conn.cursor()
//   cur.execute("SELECT version()")
//   print(cur.fetchone()[0])
//   conn.close()
//
// pqnode is asynchronous: connect() and every query return promises. For one-off statements
// a connection has query(), which takes PostgreSQL's own $1, $2 placeholders and returns
// rows as objects. Cursors, the DB-API way, come in 02.
import assert from 'node:assert/strict';
import { connect, errors } from '../dist/index.mjs';

// A URI, a 'host=... dbname=...' string, or an object of libpq keywords. Whatever is left
// out comes from the PG* environment variables (PGHOST, PGPORT, PGUSER, PGDATABASE, ...),
// as with psycopg2 and psql. With no argument at all, the environment says everything.
const dsn = process.env.PQNODE_TEST_DSN;

const conn = await connect(dsn);
try {
  const result = await conn.query('SELECT version() AS version, current_user AS who, 6 * 7 AS answer');
  const row = result.rows[0];
  console.log(row.version);
  console.log(`connected as ${row.who}; the answer is ${row.answer}`);
  assert.equal(row.answer, 42);

  // A Result carries more than rows: the columns, how many rows, and the command tag.
  assert.deepEqual(
    result.fields.map((field) => field.name),
    ['version', 'who', 'answer'],
  );
  assert.equal(result.rowCount, 1);
  assert.equal(result.command, 'SELECT');

  // $1, $2 are sent as parameters, separately from the SQL text: never spliced into it.
  const sum = await conn.query('SELECT $1::int + $2::int AS sum', [40, 2]);
  assert.equal(sum.rows[0].sum, 42);

  // conn.info answers what psycopg2 spreads over conn.server_version, conn.get_backend_pid(),
  // conn.get_transaction_status() and conn.get_parameter_status().
  const { info } = conn;
  console.log(
    `server ${info.serverVersion}, libpq ${info.libpqVersion}, backend pid ${info.backendPid},`,
    `${info.user}@${info.host}:${info.port}/${info.dbname}, ssl ${info.ssl ? 'on' : 'off'}`,
  );
  console.log(`server encoding ${info.parameterStatus('server_encoding')}, TimeZone ${info.parameterStatus('TimeZone')}`);
  assert.equal(typeof info.serverVersion, 'number');
} finally {
  await conn.close();
}

// A closed connection refuses work with InterfaceError, like psycopg2.InterfaceError.
assert.equal(conn.closed, true);
await assert.rejects(conn.query('SELECT 1'), errors.InterfaceError);

// `with psycopg2.connect(dsn) as conn:` in psycopg2 ends the transaction but leaves the
// connection open. In JavaScript, `await using` closes the connection when the block ends,
// whichever way it ends:
//
//   {
//     await using conn = await connect(dsn);
//     await conn.query('SELECT 1');
//   } // conn.close() has run here
//
// The syntax needs Node 24+ (or TypeScript 5.2+, which compiles it for older Node). What it
// calls is conn[Symbol.asyncDispose](), which works on every supported Node:
const disposable = await connect(dsn);
await disposable[Symbol.asyncDispose]();
assert.equal(disposable.closed, true);

// Where the syntax is available, run the real thing (it lives in its own file, since older
// Node cannot even parse it).
if (supportsAwaitUsing()) {
  const { awaitUsingDemo } = await import('./await-using.mjs');
  await awaitUsingDemo(dsn);
}

// A server that cannot be reached is an OperationalError, as in psycopg2; the message never
// shows the password.
await assert.rejects(
  connect('postgresql://nobody:s3cret@127.0.0.1:1/nowhere', { connectTimeout: 2 }),
  (error) => error instanceof errors.OperationalError && !error.message.includes('s3cret'),
);

console.log('01-connect-and-query: ok');

function supportsAwaitUsing() {
  const AsyncFunction = (async () => {}).constructor;
  try {
    new AsyncFunction('{ await using x = null; }');
    return true;
  } catch {
    return false;
  }
}
