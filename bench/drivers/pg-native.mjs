// pg-native: node-postgres's binding to libpq, used directly.
import { createRequire } from 'node:module';

import { poolWorkloads } from '../node-postgres-api.mjs';
import { SQL, copyChunks, insertPages, serialized, timedRuns } from '../workloads.mjs';

const require = createRequire(import.meta.url);
const Client = require('pg-native');
const pg = require('pg');

export const notes = {
  concurrent: 'one query at a time: pg-native has no queue, the benchmark chains them',
  pool: "pg's Pool over pg-native clients (pg.native.Pool)",
  'pool-pgbouncer': "pg's Pool over pg-native clients (pg.native.Pool)",
  'copy-in': "libpq's buffer flushed by the benchmark before the end: pg-native's CopyStream leaves data unsent and hangs",
};

function open(dsn) {
  const client = new Client();
  return new Promise((resolve, reject) => client.connect(dsn, (error) => (error ? reject(error) : resolve(client))));
}

function query(client, text, values) {
  return new Promise((resolve, reject) =>
    client.query(text, values, (error, rows) => (error ? reject(error) : resolve(rows))),
  );
}

function end(client) {
  return new Promise((resolve) => client.end(resolve));
}

/** pg-native sends parameters as they are given: arrays need their text form. */
function arrayLiteral(values) {
  const items = values.map((value) => {
    if (value === null || value === undefined) return 'NULL';
    if (typeof value === 'string') return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
    return String(value);
  });
  return `{${items.join(',')}}`;
}

async function selectOne(client, i) {
  const rows = await query(client, SQL.select1, [String(i)]);
  return rows[0].int4;
}

/**
 * pg-native's CopyStream ends the COPY with data still in libpq's output buffer (non-blocking
 * mode), and then waits for a reply that never comes; flushing first avoids that.
 */
async function flushed(client) {
  for (;;) {
    const state = client.pq.flush();
    if (state === 0) return;
    if (state === -1) throw new Error(client.pq.errorMessage());
    await new Promise((resolve) => client.pq.writable(resolve));
  }
}

async function writeAll(stream, chunks) {
  for (const chunk of chunks) {
    if (!stream.write(chunk)) await new Promise((resolve) => stream.once('drain', resolve));
  }
}

async function copyStarted(client, text) {
  // starts COPY with a blocking PQexec, the way pg-native's own copy tests do
  client.querySync(text);
  return client.getCopyStream();
}

export const workloads = {
  async select1({ dsn, count, timer }) {
    const client = await open(dsn);
    await timedRuns(count, 1, timer, (i) => selectOne(client, i));
    await end(client);
  },

  async concurrent({ dsn, count, timer }) {
    const client = await open(dsn);
    const run = serialized((i) => selectOne(client, i));
    await timedRuns(count, 100, timer, run);
    await end(client);
  },

  async wide({ dsn, count, timer }) {
    const client = await open(dsn);
    timer.start();
    const rows = await query(client, SQL.wide, []);
    timer.stop();
    if (rows.length !== count) throw new Error(`wide: ${rows.length} rows, expected ${count}`);
    await end(client);
  },

  async insert({ dsn, count, timer }) {
    const pages = insertPages(count);
    const client = await open(dsn);
    await query(client, 'truncate bench_insert');
    timer.start();
    for (const page of pages) {
      await query(client, SQL.insert, [page.ids, page.names, page.scores, page.flags].map(arrayLiteral));
    }
    timer.stop();
    await end(client);
  },

  async 'copy-in'({ dsn, count, timer }) {
    const { chunks, bytes } = copyChunks(count);
    const client = await open(dsn);
    await query(client, 'truncate bench_copy_in');
    timer.start();
    const stream = await copyStarted(client, SQL.copyIn);
    await writeAll(stream, chunks);
    await flushed(client);
    await new Promise((resolve, reject) => {
      stream.once('error', reject);
      stream.end(resolve);
    });
    timer.stop();
    const rows = await query(client, 'select count(*)::int as n from bench_copy_in');
    if (rows[0].n !== count) throw new Error(`copy-in: ${rows[0].n} rows, expected ${count}`);
    await end(client);
    return { bytes };
  },

  async 'copy-out'({ dsn, timer }) {
    const client = await open(dsn);
    let bytes = 0;
    timer.start();
    const stream = await copyStarted(client, SQL.copyOut);
    for await (const chunk of stream) bytes += chunk.length;
    timer.stop();
    await end(client);
    return { bytes };
  },

  async connect({ dsn, count, timer }) {
    const once = async () => end(await open(dsn));
    await timedRuns(count, 1, timer, once);
  },

  ...poolWorkloads(pg.native.Pool),
};
