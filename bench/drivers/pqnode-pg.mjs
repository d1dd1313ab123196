// pqnode/pg: node-postgres's API over pqnode, from the built dist/ of this checkout, with the
// native binary run.mjs chose. The same workloads as drivers/pg.mjs (bench/node-postgres-api.mjs)
// but for the import, and COPY: what an application (or an ORM) that switches its `pg` import
// to `pqnode/pg` gets.
import { createRequire } from 'node:module';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { clientWorkloads, openClient, poolWorkloads } from '../node-postgres-api.mjs';
import { SQL, copyChunks } from '../workloads.mjs';

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

const open = (dsn) => openClient(pg.Client, dsn);

export const workloads = {
  ...clientWorkloads(pg.Client, { chained: false }),

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

  ...poolWorkloads(pg.Pool, { prepareThreshold: null }),
};
