// Every path of the native layer once or a few times, for a memory checker to watch:
// connect (and failing to), queries of many types, errors, notices, notifications, COPY
// both ways, a logical replication stream (COPY BOTH), pqnode/pg's rows decoded and made in
// C++ by node-postgres's rules (timestamptz edge values included), cancel (answered, timed out,
// abandoned by close), a killed backend, a pool, close, connections left to the GC, and
// workers terminated while they hold connections.
//
//   node --expose-gc scripts/native-smoke.mjs   (PQNODE_TEST_DSN names the server)
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

import { stallingProxy } from '../test/support/stalling-proxy.cjs';

// imported once the workers have run without it (see main)
let connect, errors, Pool, replicate;

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const dsn = process.env.PQNODE_TEST_DSN;
const rounds = Number(process.env.PQNODE_SMOKE_ROUNDS || 2);

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function expectError(promise, Class) {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof Class)) throw new Error(`expected ${Class.name}, got ${error && error.name}: ${error && error.message}`);
    return;
  }
  throw new Error(`expected ${Class.name}, the promise resolved`);
}

/** Slow under a memory checker: wait for the server to be running the statement before acting. */
async function untilRunning(admin, pid) {
  for (let i = 0; i < 500; i++) {
    const result = await admin.query("select count(*)::int as n from pg_stat_activity where pid = $1 and state = 'active'", [pid]);
    if (result.rows[0].n === 1) return;
    await sleep(20);
  }
  throw new Error(`backend ${pid} never started its statement`);
}

async function oneRound(admin) {
  const conn = await connect(dsn);
  await conn.query(
    `select $1::int as i, $2::text as t, $3::bytea as b, now() as ts, 1.5::float8 as f, 12345678901234::int8 as big,
            null as n, array[1, null, 3] as arr, '{"a": [1, 2]}'::jsonb as j, 'infinity'::timestamptz as inf,
            '2024-02-29'::date as d, 12.50::numeric as num, true as flag, '1 day'::interval as iv`,
    [7, 'héllo', Buffer.from([0, 1, 2, 255])],
  );
  await conn.query('select i, md5(i::text) as h from generate_series(1, 3000) i');
  // several chunks merged into one result (libpq 17+), as objects and as arrays, and cut short
  await conn.query('select i, md5(i::text) as h, i % 2 = 0 as even from generate_series(1, 20000) i');
  await conn.query('select i, md5(i::text) as h from generate_series(1, 20000) i', undefined, { rowFactory: 'tuple' });
  await expectError(conn.query('select 1 / (12000 - i) from generate_series(1, 20000) i'), errors.DivisionByZero);
  await conn.rollback();
  await conn.query('select 1; select 2; select 3');
  await Promise.all([conn.query('select 1'), conn.query('select $1::text', ['x']), conn.query('select pg_sleep(0.01)')]);
  // parameters past the inline storage: long texts (moved as the bytes grow), more than eight, a Buffer
  const many = ['x'.repeat(600), 'é'.repeat(300), null, Buffer.from([0, 1, 2]), ...Array.from({ length: 8 }, (_, i) => `p${i}`), 'z'.repeat(70000)];
  const selectMany = `select ${many.map((value, i) => `$${i + 1}::${Buffer.isBuffer(value) ? 'bytea' : 'text'}`).join(', ')}`;
  await conn.query(selectMany, many);
  // prepared statements: values as the call's arguments and, past a handful, as one array
  await conn.query('select 1 as none', undefined, { prepare: true });
  await conn.query('select $1::text || $2::text as ab', ['a', null], { prepare: true });
  await conn.query(selectMany, many, { prepare: true });
  await conn.query(`select '${'😀'.repeat(100)}' as long_text`);
  await expectError(conn.query('select 1/0'), errors.DivisionByZero);
  await conn.rollback();
  await expectError(conn.query('select * from no_such_table'), errors.UndefinedTable);
  await conn.rollback();
  await expectError(conn.query('select $1::int', ['not a number']), errors.InvalidTextRepresentation);
  await conn.rollback();
  await conn.transaction(async () => {
    await conn.transaction(async () => conn.query('select 1'));
  });
  const cursor = await conn.execute('select %s::int as a, %(b)s::text as b'.replace('%(b)s', '%s'), [1, 'two']);
  await cursor.fetchall();
  await conn.commit();

  conn.autocommit = true;
  const notices = [];
  conn.on('notice', (notice) => notices.push(notice));
  await conn.query("do $$ begin raise notice 'smoke %', 1; raise warning 'careful'; end $$");
  if (notices.length !== 2) throw new Error(`expected 2 notices, got ${notices.length}`);

  await conn.listen('smoke');
  const arrived = new Promise((resolve) => conn.once('notification', resolve));
  await admin.notify('smoke', 'payload');
  await arrived;
  await conn.unlisten('smoke');

  await conn.query('create temp table smoke (a int, b text)');
  const rows = [];
  for (let i = 0; i < 2000; i++) rows.push(`${i}\trow ${i}\n`);
  const copied = await conn.copyFrom('copy smoke from stdin', rows);
  if (copied !== 2000) throw new Error(`copied ${copied} rows`);
  await expectError(conn.copyFrom('copy smoke from stdin', ['not\ta number\n']), errors.InvalidTextRepresentation);
  let bytes = 0;
  for await (const chunk of conn.copyTo('copy smoke to stdout')) bytes += chunk.length;
  if (bytes === 0) throw new Error('COPY TO gave nothing');

  await replication(conn, admin);
  await nodePostgresRows();

  const sleeping = expectError(conn.query('select pg_sleep(5)'), errors.QueryCanceled);
  await untilRunning(admin, conn.info.backendPid);
  await conn.cancel();
  await sleeping;

  const aborted = new AbortController();
  const waiting = expectError(conn.query('select pg_sleep(5)', undefined, { signal: aborted.signal }), errors.QueryCanceledError);
  await untilRunning(admin, conn.info.backendPid);
  aborted.abort();
  await waiting;

  await conn.close();

  const victim = await connect(dsn, { autocommit: true });
  const running = expectError(victim.query('select pg_sleep(5)'), errors.OperationalError);
  await untilRunning(admin, victim.info.backendPid);
  await admin.query('select pg_terminate_backend($1)', [victim.info.backendPid]);
  await running;
  await victim.close();

  await expectError(connect('host=127.0.0.1 port=1 connect_timeout=2'), errors.OperationalError);
  await expectError(connect('host=127.0.0.1 port=notaport'), errors.OperationalError);
  await expectError(connect(`${dsn}?password=secret&bad_option=1`), errors.OperationalError);

  const pool = new Pool(dsn, { min: 2, max: 3, check: Pool.checkConnection });
  await pool.wait(10);
  await Promise.all([1, 2, 3, 4, 5].map((n) => pool.query('select $1::int as n', [n])));
  await pool.connection(async (pooled) => pooled.query('select 1'));
  await pool.close();
}

/** COPY BOTH: pgoutput read through its commits with a small buffer, status updates, a lost walsender. */
async function replication(conn, admin) {
  const name = `smoke_${process.pid}`;
  await conn.query(`create table if not exists ${name} (id int primary key, v text)`);
  await conn.query(`drop publication if exists ${name}; create publication ${name} for table ${name}`);
  const stream = replicate(dsn, { slot: name, create: true, temporary: true, maxBuffered: 4096, statusInterval: 0.05, options: { publication_names: name } });
  await stream.ready;
  await conn.query(`insert into ${name} select i, md5(i::text) from generate_series(1, 2000) i`);
  await conn.query(`update ${name} set v = 'x' where id < 10`);
  let commits = 0;
  for await (const { lsn, message } of stream) {
    if (message.type !== 'commit') continue;
    stream.acknowledge(lsn);
    if (++commits === 2) break;
  }
  const lost = replicate(dsn, { slot: `${name}_lost`, plugin: 'test_decoding', create: true, temporary: true });
  await lost.ready;
  const pending = lost.next();
  const { rows } = await admin.query('select active_pid from pg_replication_slots where slot_name = $1', [`${name}_lost`]);
  await admin.query('select pg_terminate_backend($1)', [rows[0].active_pid]);
  await expectError(pending, errors.OperationalError);
  await lost.close();
  await expectError(replicate(dsn, { slot: `${name}_missing` }).next(), errors.UndefinedObject);
  await conn.query(`drop publication ${name}; drop table ${name}`);
}

/**
 * Connections dropped without close(), with and without a statement run, for the finalizer;
 * one leaves a method of its native connection behind, to be called once it is collected.
 */
async function leaveToTheCollector() {
  for (let i = 0; i < 3; i++) {
    const conn = await connect(dsn);
    await conn.query('select 1');
  }
  await connect(dsn);
  // a method of the native connection itself, reached through the core that holds it
  const { coreOf } = await import('../dist/core/interface.js');
  const kept = coreOf(await connect(dsn)).nativeUnchecked.transactionStatus;
  return kept;
}

/**
 * Cancel requests on a network that stopped answering: one given up by its timeout, one
 * abandoned by close(). The network then comes back, and what was left blocked (with
 * libpq < 17, a thread in PQcancel) ends and frees what it held.
 */
async function stuckCancels() {
  const proxy = await stallingProxy(dsn);
  const conn = await connect(proxy.dsn, { autocommit: true, cancelTimeout: 0.5 });
  await conn.query('select 1');
  proxy.stall();
  const running = expectError(conn.query('select 2'), errors.InterfaceError);
  await expectError(conn.cancel(), errors.OperationalError);
  const abandoned = expectError(conn.cancel({ timeout: 60 }), errors.InterfaceError);
  await sleep(100);
  await conn.close();
  await abandoned;
  await running;
  proxy.close();
  // slow under a memory checker: time for the blocked threads to return and let go
  await sleep(2000);
}

// A worker holding a connection that is idle, waiting for a statement, or receiving rows.
const WORKER_SOURCE = `
  const { parentPort, workerData } = require('node:worker_threads');
  const { connect } = require(workerData.entry);
  (async () => {
    const conn = await connect(workerData.dsn);
    if (workerData.state === 'idle') await conn.query('select 1');
    if (workerData.state === 'sleeping') conn.query('select pg_sleep(5)').catch(() => undefined);
    if (workerData.state === 'receiving') conn.query('select i, md5(i::text) from generate_series(1, 100000) i').catch(() => undefined);
    parentPort.postMessage('ready');
  })();
`;

/**
 * Workers terminated while they hold a connection: their teardown closes it without calling
 * into JS, and ends only once libuv is done with the addon's handles (it may be unloaded next).
 */
async function terminateWorkers() {
  for (const state of ['idle', 'sleeping', 'receiving']) {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { entry: path.join(dist, 'index.js'), dsn, state } });
    await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`a worker (${state}) exited with ${code} before it was ready`)));
    });
    const code = await worker.terminate();
    if (code !== 1) throw new Error(`a terminated worker (${state}) exited with ${code}`);
  }
}

/**
 * pqnode/pg's rows: C++ decodes the values node-postgres's default parsers would make
 * (timestamptz among them, edge values included) and builds the row objects itself.
 */
async function nodePostgresRows() {
  const pg = (await import('../dist/pg/index.js')).default;
  const client = new pg.Client({ connectionString: dsn });
  await client.connect();
  const edges = "values ('infinity'::timestamptz), ('-infinity'), ('0001-02-03 04:05:06.789+00 BC'), ('0099-12-31 23:59:59.999999+00'), ('294276-12-31 23:59:59+00'), (null), ('2024-02-29 12:00:00.5+05:30')";
  await client.query(`select * from (${edges}) t(ts)`);
  await client.query('select i, i::int8 as big, i::float8 / 3 as f, md5(i::text) as h, i % 2 = 0 as even, now() + i * interval \'1 s\' as at from generate_series(1, 5000) i');
  await client.query({ text: 'select i, md5(i::text) as h from generate_series(1, 2000) i', rowMode: 'array' });
  await client.query("select '\\x00ff'::bytea as b, 12345678901234567890::numeric as n, 'x'::text as t");
  await client.end();
}

async function main() {
  if (!dsn) throw new Error('PQNODE_TEST_DSN is not set');
  // before this thread loads the addon: it is unloaded with each worker
  await terminateWorkers();
  ({ connect, errors, Pool, replicate } = await import('../dist/index.mjs'));
  // and with the addon kept loaded by this thread
  await terminateWorkers();
  const admin = await connect(dsn, { autocommit: true });
  for (let round = 0; round < rounds; round++) await oneRound(admin);
  await stuckCancels();
  const kept = await leaveToTheCollector();
  for (let i = 0; i < 5; i++) {
    global.gc?.();
    await sleep(50);
  }
  if (global.gc !== undefined) {
    try {
      kept();
      throw new Error('a method of a collected connection still ran');
    } catch (error) {
      if (!/no longer exists/.test(error.message)) throw error;
    }
  }
  await admin.close();
  process.stdout.write('native smoke: ok\n');
}

main().catch((error) => {
  process.stderr.write(`native smoke failed: ${error && error.stack ? error.stack : error}\n`);
  process.exitCode = 1;
});
