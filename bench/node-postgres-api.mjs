// The workloads through node-postgres's API, for the drivers that speak it: pg itself, and
// pqnode/pg (its Client and Pool); pg-native's own Pool (pg.native.Pool) takes the pool ones.
import { SQL, insertPages, serialized, POOL_DEPTH, POOL_SIZE, timedMixed, timedRuns } from './workloads.mjs';

/** A connected Client of that class. */
export async function openClient(Client, dsn) {
  const client = new Client({ connectionString: dsn });
  await client.connect();
  return client;
}

async function selectOne(client, i) {
  const result = await client.query(SQL.select1, [i]);
  return result.rows[0].int4;
}

/**
 * select1, concurrent, wide, insert and connect over a Client class. `chained`: the client
 * runs one query at a time, so concurrent's statements are chained rather than issued together.
 */
export function clientWorkloads(Client, { chained }) {
  const open = (dsn) => openClient(Client, dsn);
  return {
    async select1({ dsn, count, timer }) {
      const client = await open(dsn);
      await timedRuns(count, 1, timer, (i) => selectOne(client, i));
      await client.end();
    },

    async concurrent({ dsn, count, timer }) {
      const client = await open(dsn);
      const one = (i) => selectOne(client, i);
      await timedRuns(count, 100, timer, chained ? serialized(one) : one);
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
  };
}

/**
 * pool, pool-pgbouncer and mixed over a Pool class; `transactionPooling`: what the driver's
 * documentation advises in the Pool's config behind PgBouncer in transaction mode.
 */
export function poolWorkloads(Pool, transactionPooling = {}) {
  async function pool({ dsn, count, timer }, config) {
    const pool = new Pool({ connectionString: dsn, max: POOL_SIZE, ...config });
    const run = (i) => pool.query(SQL.select1, [i]);
    await timedRuns(count, POOL_DEPTH, timer, run);
    await pool.end();
  }
  return {
    pool: (args) => pool(args, {}),
    'pool-pgbouncer': (args) => pool(args, transactionPooling),
    async mixed({ dsn, count, timer }) {
      const pool = new Pool({ connectionString: dsn, max: POOL_SIZE });
      const result = await timedMixed(count, timer, {
        fast: (i) => pool.query(SQL.select1, [i]),
        slow: () => pool.query(SQL.slow),
      });
      await pool.end();
      return result;
    },
  };
}
