// pqnode/pg: node-postgres's API over pqnode, from the built dist/ of this checkout, with the
// native binary run.mjs chose. The same code as drivers/pg.mjs but for the import: what an
// application (or an ORM) that switches its `pg` import to `pqnode/pg` gets.
import { createRequire } from 'node:module';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { SQL, copyChunks, insertPages, POOL_SIZE, timedMixed, timedRuns } from '../workloads.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { default: pg } = await import(pathToFileURL(path.join(root, 'dist', 'pg', 'index.mjs')).href);

export const notes = {
  concurrent: "client.query() calls issued together are pipelined, as pqnode's are",
  'pool-pgbouncer': 'prepareThreshold: null, as its README advises for transaction pooling',
};

/** As drivers/pqnode.mjs: a result of another binary must not pass for the chosen one's. */
async function checkBinary() {
  const expected = process.env.BENCH_PQNODE_BINARY;
  if (!expected) return;
  const loaded = createRequire(path.join(root, 'package.json'))('node-gyp-build').resolve(root);
  if (loaded !== expected) throw new Error(`pqnode/pg loads ${loaded}, not the binary to measure: ${expected}`);
}

await checkBinary();

async function open(dsn) {
  const client = new pg.Client({ connectionString: dsn });
  await client.connect();
  return client;
}

async function selectOne(client, i) {
  const result = await client.query(SQL.select1, [i]);
  return result.rows[0].int4;
}

export const workloads = {
  async select1({ dsn, count, timer }) {
    const client = await open(dsn);
    await timedRuns(count, 1, timer, (i) => selectOne(client, i));
    await client.end();
  },

  async concurrent({ dsn, count, timer }) {
    const client = await open(dsn);
    await timedRuns(count, 100, timer, (i) => selectOne(client, i));
    await client.end();
  },

  async wide({ dsn, count, timer }) {
    const client = await open(dsn);
    timer.start();
    const result = await client.query(SQL.wide);
    timer.stop();
    if (result.rows.length !== count) throw new Error(`wide: ${result.rows.length} rows, expected ${count}`);
    await client.end();
  },

  async insert({ dsn, count, timer }) {
    const pages = insertPages(count);
    const client = await open(dsn);
    await client.query('truncate bench_insert');
    timer.start();
    for (const page of pages) await client.query(SQL.insert, [page.ids, page.names, page.scores, page.flags]);
    timer.stop();
    await client.end();
  },

  async 'copy-in'({ dsn, count, timer }) {
    const { chunks, bytes } = copyChunks(count);
    const client = await open(dsn);
    await client.query('truncate bench_copy_in');
    timer.start();
    const sink = client.query(pg.copyStreams.from(SQL.copyIn));
    await pipeline(Readable.from(chunks), sink);
    timer.stop();
    if (sink.rowCount !== count) throw new Error(`copy-in: ${sink.rowCount} rows, expected ${count}`);
    await client.end();
    return { bytes };
  },

  async 'copy-out'({ dsn, timer }) {
    const client = await open(dsn);
    let bytes = 0;
    timer.start();
    for await (const chunk of client.query(pg.copyStreams.to(SQL.copyOut))) bytes += chunk.length;
    timer.stop();
    await client.end();
    return { bytes };
  },

  async connect({ dsn, count, timer }) {
    const once = async () => (await open(dsn)).end();
    await timedRuns(count, 1, timer, once);
  },

  async pool({ dsn, count, timer }, config = {}) {
    const pool = new pg.Pool({ connectionString: dsn, max: 4, ...config });
    const run = (i) => pool.query(SQL.select1, [i]);
    await timedRuns(count, 50, timer, run);
    await pool.end();
  },

  async 'pool-pgbouncer'(args) {
    await workloads.pool(args, { prepareThreshold: null });
  },
  async mixed({ dsn, count, timer }) {
    const pool = new pg.Pool({ connectionString: dsn, max: POOL_SIZE });
    const result = await timedMixed(count, timer, {
      fast: (i) => pool.query(SQL.select1, [i]),
      slow: () => pool.query(SQL.slow),
    });
    await pool.end();
    return result;
  },
};
