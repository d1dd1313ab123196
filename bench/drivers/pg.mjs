// pg (node-postgres), its pure JavaScript client.
import pg from 'pg';

import { SQL, inFlight, insertPages, warmupCount } from '../workloads.mjs';

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

/** One query at a time on one client, whoever calls (pg deprecates queueing them itself). */
function serialized(client) {
  let tail = Promise.resolve();
  return (i) => {
    const next = tail.then(() => selectOne(client, i));
    tail = next.catch(() => undefined);
    return next;
  };
}

export const workloads = {
  async select1({ dsn, count, timer }) {
    const client = await open(dsn);
    for (let i = 0; i < warmupCount(count); i++) await selectOne(client, i);
    timer.start();
    for (let i = 0; i < count; i++) await selectOne(client, i);
    timer.stop();
    await client.end();
  },

  async concurrent({ dsn, count, timer }) {
    const client = await open(dsn);
    const run = serialized(client);
    await inFlight(warmupCount(count), 100, run);
    timer.start();
    await inFlight(count, 100, run);
    timer.stop();
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
    for (let i = 0; i < warmupCount(count); i++) await once();
    timer.start();
    for (let i = 0; i < count; i++) await once();
    timer.stop();
  },

  async pool({ dsn, count, timer }) {
    const pool = new pg.Pool({ connectionString: dsn, max: 4 });
    const run = (i) => pool.query(SQL.select1, [i]);
    await inFlight(warmupCount(count), 50, run);
    timer.start();
    await inFlight(count, 50, run);
    timer.stop();
    await pool.end();
  },
};
