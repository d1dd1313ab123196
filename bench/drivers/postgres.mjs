// postgres.js (the `postgres` package) used as its README shows: tagged templates, which it
// prepares on the server and pipelines. The statements are the same as workloads.mjs's SQL.
import postgres from 'postgres';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { copyChunks, insertPages, POOL_SIZE, timedMixed, timedRuns } from '../workloads.mjs';

export const notes = {
  'pool-pgbouncer': 'prepare: false, as its README advises for transaction pooling',
  connect: 'each new connection also reads pg_type (postgres.js default fetch_types)',
};

const open = (dsn, options = {}) => postgres(dsn, { max: 1, onnotice: () => {}, ...options });

async function selectOne(sql, i) {
  const rows = await sql`select ${i}::int`;
  return rows[0].int4;
}

export const workloads = {
  async select1({ dsn, count, timer }) {
    const sql = open(dsn);
    await timedRuns(count, 1, timer, (i) => selectOne(sql, i));
    await sql.end();
  },

  async concurrent({ dsn, count, timer }) {
    const sql = open(dsn);
    await timedRuns(count, 100, timer, (i) => selectOne(sql, i));
    await sql.end();
  },

  async wide({ dsn, count, timer }) {
    const sql = open(dsn);
    await sql`select 1`;
    timer.start();
    const rows = await sql`select * from bench_wide`;
    timer.stop();
    if (rows.length !== count) throw new Error(`wide: ${rows.length} rows, expected ${count}`);
    await sql.end();
  },

  async insert({ dsn, count, timer }) {
    const pages = insertPages(count);
    const sql = open(dsn);
    await sql`truncate bench_insert`;
    timer.start();
    for (const page of pages) {
      await sql`insert into bench_insert (id, name, score, flag)
                select * from unnest(${sql.array(page.ids)}::int4[], ${sql.array(page.names)}::text[],
                                     ${sql.array(page.scores)}::float8[], ${sql.array(page.flags)}::bool[])`;
    }
    timer.stop();
    await sql.end();
  },

  async 'copy-in'({ dsn, count, timer }) {
    const { chunks, bytes } = copyChunks(count);
    const sql = open(dsn);
    await sql`truncate bench_copy_in`;
    timer.start();
    const writable = await sql`copy bench_copy_in (id, name, score) from stdin`.writable();
    await pipeline(Readable.from(chunks), writable);
    timer.stop();
    const [{ n }] = await sql`select count(*)::int as n from bench_copy_in`;
    if (n !== count) throw new Error(`copy-in: ${n} rows, expected ${count}`);
    await sql.end();
    return { bytes };
  },

  async 'copy-out'({ dsn, timer }) {
    const sql = open(dsn);
    await sql`select 1`;
    let bytes = 0;
    timer.start();
    const readable = await sql`copy bench_copy_out to stdout`.readable();
    for await (const chunk of readable) bytes += chunk.length;
    timer.stop();
    await sql.end();
    return { bytes };
  },

  async connect({ dsn, count, timer }) {
    const once = async () => {
      const sql = open(dsn);
      const reserved = await sql.reserve();
      reserved.release();
      await sql.end();
    };
    await timedRuns(count, 1, timer, once);
  },

  async pool({ dsn, count, timer }) {
    const sql = open(dsn, { max: 4 });
    const run = (i) => selectOne(sql, i);
    await timedRuns(count, 50, timer, run);
    await sql.end();
  },

  // what postgres.js's README advises behind PgBouncer in transaction mode
  async 'pool-pgbouncer'({ dsn, count, timer }) {
    const sql = open(dsn, { max: 4, prepare: false });
    const run = (i) => selectOne(sql, i);
    await timedRuns(count, 50, timer, run);
    await sql.end();
  },
  async mixed({ dsn, count, timer }) {
    const sql = open(dsn, { max: POOL_SIZE });
    const result = await timedMixed(count, timer, {
      fast: (i) => selectOne(sql, i),
      slow: () => sql`select pg_sleep(0.02)`,
    });
    await sql.end();
    return result;
  },
};
