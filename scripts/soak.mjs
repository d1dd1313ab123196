// A long run that watches memory and the server's backends: many queries, a lot of COPY both
// ways, many connections opened and closed, pools opened and closed. It prints RSS and the
// backend count as it goes and fails when RSS grows beyond a bound or backends are left over.
//
//   npm run soak                                     (a modest run)
//   SOAK_QUERIES=1000000 SOAK_COPY_MB=2048 SOAK_CONNECTIONS=10000 npm run soak
//
// SOAK_RSS_GROWTH_MB: how much RSS may grow within a phase past its level after warm-up (default 64).
import { connect, Pool } from '../dist/index.mjs';

const dsn = process.env.PQNODE_TEST_DSN;
const QUERIES = Number(process.env.SOAK_QUERIES || 100_000);
const COPY_MB = Number(process.env.SOAK_COPY_MB || 256);
const CONNECTIONS = Number(process.env.SOAK_CONNECTIONS || 500);
const RSS_GROWTH_MB = Number(process.env.SOAK_RSS_GROWTH_MB || 64);
const BATCH = 100;

const mb = (bytes) => (bytes / 1024 / 1024).toFixed(1);
const started = Date.now();
/** per phase: RSS at its first report (after a warm-up share of its work) and at its last */
const phases = new Map();
let peakRss = 0;
let admin;

async function backends() {
  const result = await admin.query(
    "select count(*)::int as n from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()",
  );
  return result.rows[0].n;
}

async function report(phase, done, total) {
  global.gc?.();
  const rss = process.memoryUsage().rss;
  peakRss = Math.max(peakRss, rss);
  const seen = phases.get(phase);
  if (seen === undefined) phases.set(phase, { baseline: rss, last: rss });
  else seen.last = rss;
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  console.log(
    `${seconds.padStart(5)} s  ${phase.padEnd(12)} ${String(done).padStart(9)}/${total}  rss ${mb(rss).padStart(7)} MB  heap ${mb(process.memoryUsage().heapUsed).padStart(6)} MB  backends ${await backends()}`,
  );
  return rss;
}

async function queries() {
  const conn = await connect(dsn, { autocommit: true });
  const every = Math.max(BATCH, Math.floor(QUERIES / 10 / BATCH) * BATCH);
  for (let done = 0; done < QUERIES; done += BATCH) {
    const batch = [];
    for (let i = 0; i < BATCH; i++) {
      const n = done + i;
      batch.push(n % 10 === 0 ? conn.query('select i, md5(i::text) from generate_series(1, 20) i') : conn.query('select $1::int as n, $2::text as t', [n, `row ${n}`]));
    }
    await Promise.all(batch);
    if (done > 0 && done % every === 0) await report('queries', done, QUERIES);
  }
  await conn.close();
  await report('queries', QUERIES, QUERIES);
}

async function copies() {
  const conn = await connect(dsn, { autocommit: true });
  await conn.query('create temp table soak (id int, payload text)');
  const line = (id) => `${id}\t${'x'.repeat(200)}\n`;
  const rowsPerMb = Math.floor((1024 * 1024) / line(1000000).length);
  const roundMb = Math.min(COPY_MB, 64);
  const rounds = Math.max(1, Math.round(COPY_MB / roundMb));
  for (let round = 0; round < rounds; round++) {
    async function* source() {
      for (let chunk = 0; chunk < roundMb; chunk++) {
        let text = '';
        for (let i = 0; i < rowsPerMb; i++) text += line(chunk * rowsPerMb + i);
        yield text;
      }
    }
    await conn.copyFrom('copy soak from stdin', source());
    let bytes = 0;
    for await (const chunk of conn.copyTo('copy soak to stdout')) bytes += chunk.length;
    if (bytes < roundMb * 1024 * 1024 * 0.9) throw new Error(`COPY TO gave ${bytes} bytes`);
    await conn.query('truncate soak');
    if (round % Math.max(1, Math.floor(rounds / 5)) === 0 || round === rounds - 1) await report('copy (MB)', (round + 1) * roundMb * 2, rounds * roundMb * 2);
  }
  await conn.close();
}

async function connections() {
  const every = Math.max(10, Math.floor(CONNECTIONS / 5));
  const parallel = 8;
  for (let done = 0; done < CONNECTIONS; done += parallel) {
    await Promise.all(
      Array.from({ length: Math.min(parallel, CONNECTIONS - done) }, async () => {
        const conn = await connect(dsn);
        await conn.query('select 1');
        await conn.close();
      }),
    );
    if (done > 0 && done % every < parallel) await report('connections', done + parallel, CONNECTIONS);
  }
  const pools = Math.max(2, Math.floor(CONNECTIONS / 100));
  for (let i = 0; i < pools; i++) {
    const pool = new Pool(dsn, { min: 4, max: 8 });
    await Promise.all(Array.from({ length: 32 }, (_, n) => pool.query('select $1::int', [n])));
    await pool.close();
    if (i === 0 || i === pools - 1) await report('pools', i + 1, pools);
  }
}

async function main() {
  if (!dsn) throw new Error('PQNODE_TEST_DSN is not set');
  admin = await connect(dsn, { autocommit: true });
  const backendsBefore = await backends();
  console.log(`soak: ${QUERIES} queries, ${COPY_MB} MB of COPY each way, ${CONNECTIONS} connections; RSS may grow ${RSS_GROWTH_MB} MB past warm-up`);
  await queries();
  await copies();
  await connections();
  // backends go away a moment after their connections close
  let backendsAfter = await backends();
  for (let i = 0; i < 50 && backendsAfter > backendsBefore; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    backendsAfter = await backends();
  }
  await admin.close();
  let failed = false;
  for (const [phase, { baseline, last }] of phases) {
    const growth = last - baseline;
    console.log(`soak: ${phase.padEnd(12)} rss after warm-up ${mb(baseline)} MB, at its end ${mb(last)} MB (growth ${mb(growth)} MB)`);
    if (growth > RSS_GROWTH_MB * 1024 * 1024) {
      console.error(`soak: RSS grew by ${mb(growth)} MB during ${phase}, more than ${RSS_GROWTH_MB} MB`);
      failed = true;
    }
  }
  console.log(`soak: peak rss ${mb(peakRss)} MB; backends before ${backendsBefore}, after ${backendsAfter}; ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (backendsAfter !== backendsBefore) {
    console.error(`soak: ${backendsAfter - backendsBefore} server backends were left behind`);
    failed = true;
  }
  process.exitCode = failed ? 1 : 0;
}

main().catch((error) => {
  console.error(`soak failed: ${error && error.stack ? error.stack : error}`);
  process.exitCode = 1;
});
