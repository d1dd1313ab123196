// pqnode, from the built dist/ of this checkout, with the native binary run.mjs chose.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { SQL, copyChunks, insertPages, POOL_SIZE, timedMixed, timedRuns } from '../workloads.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const pq = await import(pathToFileURL(path.join(root, 'dist', 'index.mjs')).href);

// the other drivers commit each statement on its own: so does pqnode here
const OPTIONS = { autocommit: true };

/**
 * run.mjs names the binary to measure (BENCH_PQNODE_BINARY) and its libpq
 * (BENCH_PQNODE_LIBPQ), and sets the environment node-gyp-build picks it by: a result of
 * another binary must not pass for this one's.
 */
async function checkBinary() {
  const expected = process.env.BENCH_PQNODE_BINARY;
  if (!expected) return;
  // the same node-gyp-build, in the same environment, as pqnode's loader
  const loaded = createRequire(path.join(root, 'package.json'))('node-gyp-build').resolve(root);
  if (loaded !== expected) throw new Error(`pqnode loads ${loaded}, not the binary to measure: ${expected}`);
  // the addon pqnode has loaded, asked without a connection
  const { native } = await import(pathToFileURL(path.join(root, 'dist', 'native.js')).href);
  const libpqVersion = native().libpqVersion();
  if (String(libpqVersion) !== process.env.BENCH_PQNODE_LIBPQ) {
    throw new Error(`pqnode runs on libpq ${libpqVersion}, the binary to measure (${expected}) on ${process.env.BENCH_PQNODE_LIBPQ}`);
  }
}

await checkBinary();

export const notes = { 'pool-pgbouncer': 'prepareThreshold: null, as its README advises for transaction pooling' };
if (typeof pq.Pool !== 'function') {
  notes.pool = 'pqnode has no Pool yet: 4 connections taken in turn';
}

async function selectOne(conn, i) {
  const result = await conn.query(SQL.select1, [i]);
  return result.rows[0].int4;
}

export const workloads = {
  async select1({ dsn, count, timer }) {
    const conn = await pq.connect(dsn, OPTIONS);
    await timedRuns(count, 1, timer, (i) => selectOne(conn, i));
    await conn.close();
  },

  async concurrent({ dsn, count, timer }) {
    const conn = await pq.connect(dsn, OPTIONS);
    await timedRuns(count, 100, timer, (i) => selectOne(conn, i));
    await conn.close();
  },

  async wide({ dsn, count, timer }) {
    const conn = await pq.connect(dsn, OPTIONS);
    timer.start();
    const result = await conn.query(SQL.wide);
    timer.stop();
    if (result.rows.length !== count) throw new Error(`wide: ${result.rows.length} rows, expected ${count}`);
    await conn.close();
  },

  async insert({ dsn, count, timer }) {
    const pages = insertPages(count);
    const conn = await pq.connect(dsn, OPTIONS);
    await conn.query('truncate bench_insert');
    timer.start();
    for (const page of pages) await conn.query(SQL.insert, [page.ids, page.names, page.scores, page.flags]);
    timer.stop();
    await conn.close();
  },

  async 'copy-in'({ dsn, count, timer }) {
    const { chunks, bytes } = copyChunks(count);
    const conn = await pq.connect(dsn, OPTIONS);
    await conn.query('truncate bench_copy_in');
    timer.start();
    const rows = await conn.copyFrom(SQL.copyIn, chunks);
    timer.stop();
    if (rows !== count) throw new Error(`copy-in: ${rows} rows, expected ${count}`);
    await conn.close();
    return { bytes };
  },

  async 'copy-out'({ dsn, timer }) {
    const conn = await pq.connect(dsn, OPTIONS);
    let bytes = 0;
    timer.start();
    for await (const chunk of conn.copyTo(SQL.copyOut)) bytes += chunk.length;
    timer.stop();
    await conn.close();
    return { bytes };
  },

  async connect({ dsn, count, timer }) {
    const once = async () => (await pq.connect(dsn, OPTIONS)).close();
    await timedRuns(count, 1, timer, once);
  },

  async pool(args) {
    await poolRuns(args, {});
  },

  // what pqnode's README advises behind PgBouncer in transaction mode
  async 'pool-pgbouncer'(args) {
    await poolRuns(args, { prepareThreshold: null });
  },

  async mixed({ dsn, count, timer }) {
    const pool = new pq.Pool(dsn, { min: POOL_SIZE, max: POOL_SIZE });
    const result = await timedMixed(count, timer, {
      fast: (i) => pool.query(SQL.select1, [i]),
      slow: () => pool.query(SQL.slow),
    });
    await pool.close();
    return result;
  },
};

/** 4 connections, 50 statements in flight; `connectOptions` for each connection. */
async function poolRuns({ dsn, count, timer }, connectOptions) {
  let run;
  let close;
  if (typeof pq.Pool === 'function') {
    const pool = new pq.Pool(dsn, { min: 4, max: 4, connectOptions });
    run = (i) => pool.query(SQL.select1, [i]);
    close = () => pool.close();
  } else {
    const conns = await Promise.all([0, 1, 2, 3].map(() => pq.connect(dsn, { ...OPTIONS, ...connectOptions })));
    let turn = 0;
    run = (i) => conns[turn++ % conns.length].query(SQL.select1, [i]);
    close = () => Promise.all(conns.map((conn) => conn.close()));
  }
  await timedRuns(count, 50, timer, run);
  await close();
}
