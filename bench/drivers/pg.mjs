// pg (node-postgres), its pure JavaScript client.
import pg from 'pg';

import { SQL, insertPages, serialized, POOL_SIZE, timedMixed, timedRuns } from '../workloads.mjs';

const NO_COPY = 'pg has no COPY without the pg-copy-streams package';

export const notes = {
  concurrent: 'one query at a time: pg does not pipeline; the benchmark chains them',
};
export const skip = { 'copy-in': NO_COPY, 'copy-out': NO_COPY };

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
    const run = serialized((i) => selectOne(client, i));
    await timedRuns(count, 100, timer, run);
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

  async connect({ dsn, count, timer }) {
    const once = async () => (await open(dsn)).end();
    await timedRuns(count, 1, timer, once);
  },

  async pool({ dsn, count, timer }) {
    const pool = new pg.Pool({ connectionString: dsn, max: 4 });
    const run = (i) => pool.query(SQL.select1, [i]);
    await timedRuns(count, 50, timer, run);
    await pool.end();
  },

  // pg sends statements without a name unprepared: nothing to change for transaction pooling
  async 'pool-pgbouncer'(args) {
    await workloads.pool(args);
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
