// The workloads: their sizes, units, and the data every driver (and floor.c) sends.
// floor.c makes the same data byte for byte; keep the two in step.

export const WORKLOADS = [
  { name: 'select1', base: 20_000, unit: 'queries/s', describe: '`select $1::int`, one at a time' },
  { name: 'concurrent', base: 40_000, unit: 'queries/s', describe: '`select $1::int`, 100 in flight on one connection' },
  { name: 'wide', base: 200_000, unit: 'rows/s', describe: 'one `select` of 8 mixed columns' },
  { name: 'insert', base: 100_000, unit: 'rows/s', describe: '`insert ... select from unnest($1..$4)`, pages of 5000 rows' },
  { name: 'copy-in', base: 1_000_000, unit: 'MB/s', describe: 'COPY FROM STDIN, text format, 3 columns' },
  { name: 'copy-out', base: 1_000_000, unit: 'MB/s', describe: 'COPY TO STDOUT, text format, 3 columns' },
  { name: 'connect', base: 500, unit: 'connections/s', describe: 'open and close, one after another' },
  { name: 'pool', base: 40_000, unit: 'queries/s', describe: '`select $1::int` over a pool of 4, 50 in flight' },
  {
    name: 'pool-pgbouncer',
    base: 40_000,
    unit: 'queries/s',
    describe: '`pool` through PgBouncer in transaction mode, 2 server connections, nothing prepared',
  },
  {
    name: 'mixed',
    base: 5_000,
    unit: 'queries/s',
    describe: '`select $1::int`, every 50th `select pg_sleep(0.02)` instead, over a pool of 4, 50 in flight',
    // the latency of each fast statement is recorded: what a server's users feel
    latency: true,
  },
];

/** server connections of the PgBouncer in front of pool-pgbouncer: fewer than the clients' 4 */
export const PGBOUNCER_POOL_SIZE = 2;

/** mixed: every MIXED_SLOW_EVERY-th statement (i % MIXED_SLOW_EVERY === 0) is the slow one. */
export const MIXED_SLOW_EVERY = 50;
/** mixed and pool: callers in flight, over POOL_SIZE connections */
export const POOL_DEPTH = 50;
export const POOL_SIZE = 4;

export const INSERT_PAGE = 5000;
export const COPY_CHUNK = 65536;

export const SQL = {
  select1: 'select $1::int',
  wide: 'select * from bench_wide',
  insert:
    'insert into bench_insert (id, name, score, flag) ' +
    'select * from unnest($1::int4[], $2::text[], $3::float8[], $4::bool[])',
  copyIn: 'copy bench_copy_in (id, name, score) from stdin',
  copyOut: 'copy bench_copy_out to stdout',
  // mixed: a statement that keeps its connection busy for 20 ms
  slow: 'select pg_sleep(0.02)',
};

/** The number of operations (queries, rows, connections) of a workload at a scale. */
export function countFor(workload, scale) {
  const spec = WORKLOADS.find((w) => w.name === workload);
  if (spec === undefined) throw new Error(`unknown workload ${workload}`);
  return Math.max(1, Math.round(spec.base * scale));
}

/** The tables the workloads read and write; `counts` gives the sizes. */
export function setupStatements(counts) {
  return [
    'drop table if exists bench_wide, bench_insert, bench_copy_in, bench_copy_out',
    `create unlogged table bench_wide as
       select i::int4 as id,
              i::int8 * 1000003 as big,
              'row number ' || i as name,
              i / 7.0::float8 as ratio,
              i % 2 = 0 as flag,
              timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second' as at,
              (i * 1.25)::numeric(14, 2) as amount,
              null::text as nothing
         from generate_series(1, ${counts.wide}) as i`,
    'create unlogged table bench_insert (id int4, name text, score float8, flag bool)',
    'create unlogged table bench_copy_in (id int4, name text, score float8)',
    `create unlogged table bench_copy_out as
       select i::int4 as id, 'name ' || i as name, i + 0.25::float8 as score
         from generate_series(0, ${counts['copy-out'] - 1}) as i`,
    'vacuum analyze bench_wide, bench_copy_out',
    // read once so that every driver finds the pages in shared buffers
    'select count(*) from bench_wide',
    'select count(*) from bench_copy_out',
  ];
}

/** Pages of rows for `insert`, as plain arrays: ids, names, scores, flags. */
export function insertPages(count) {
  const pages = [];
  for (let start = 0; start < count; start += INSERT_PAGE) {
    const end = Math.min(start + INSERT_PAGE, count);
    const page = { ids: [], names: [], scores: [], flags: [] };
    for (let i = start; i < end; i++) {
      page.ids.push(i);
      page.names.push(`name ${i}`);
      page.scores.push(i + 0.5);
      page.flags.push((i & 1) === 1);
    }
    pages.push(page);
  }
  return pages;
}

/**
 * The COPY text of `count` rows in chunks of about COPY_CHUNK bytes (whole rows), and its
 * total size. Made chunk by chunk so that the data itself weighs little in the peak RSS.
 */
export function copyChunks(count) {
  const chunks = [];
  let bytes = 0;
  let text = '';
  for (let i = 0; i < count; i++) {
    text += `${i}\tname ${i}\t${i}.25\n`;
    if (text.length >= COPY_CHUNK || i === count - 1) {
      const chunk = Buffer.from(text, 'latin1');
      chunks.push(chunk);
      bytes += chunk.length;
      text = '';
    }
  }
  return { chunks, bytes };
}

/** Run `fn(i)` for i in [0, count) with at most `depth` calls in flight. */
export async function inFlight(count, depth, fn) {
  let next = 0;
  const worker = async () => {
    while (next < count) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(depth, count) }, worker));
}

/** `fn` for callers that may overlap, run one call at a time in the order of the calls. */
export function serialized(fn) {
  let tail = Promise.resolve();
  return (i) => {
    const next = tail.then(() => fn(i));
    tail = next.catch(() => undefined);
    return next;
  };
}

/**
 * A warm-up size: a quarter of the run, untimed, so that what is timed is a client's steady
 * pace — V8's optimising compiler done with the hot path, the connection's caches (prepared
 * statements, row shapes) filled — as in a server that has been up for a while. A twentieth
 * (the size until 2026-12) left the compiler's work inside the timed span of the short
 * workloads (concurrent, pool, mixed): it measured a process's first second.
 */
export function warmupCount(count) {
  return Math.max(1, Math.floor(count / 4));
}

/** `fn(i)` for i in [0, count): one after another when `depth` is 1, else as inFlight(). */
async function runs(count, depth, fn) {
  if (depth === 1) {
    for (let i = 0; i < count; i++) await fn(i);
  } else {
    await inFlight(count, depth, fn);
  }
}

/** `count` runs of `fn(i)`, `depth` at a time, timed by `timer`, after a warm-up of the same kind. */
export async function timedRuns(count, depth, timer, fn) {
  await runs(warmupCount(count), depth, fn);
  timer.start();
  await runs(count, depth, fn);
  timer.stop();
}

/** The p50, p99 and p99.9 of `latencies` (ms), nearest rank. */
export function percentiles(latencies) {
  const sorted = Float64Array.from(latencies).sort();
  const at = (q) => (sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]);
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999), n: sorted.length };
}

/**
 * mixed: `count` statements from POOL_DEPTH callers, statement i the slow one when
 * i % MIXED_SLOW_EVERY === 0 and `fast(i)` (`select $1::int`) otherwise, after a warm-up of
 * the same kind and size. Its 5,000 statements take half a second: after a quarter as many
 * V8's optimising compiler was still at the hot path in the timed part (4 ms pauses of the
 * event loop in its first 10 ms), and a percentile of latency took them for the tail. Returns the percentiles of the fast statements' latencies (ms), each timed
 * from the call to the settled promise.
 */
export async function timedMixed(count, timer, { fast, slow }) {
  const latencies = new Float64Array(count);
  let recorded = 0;
  let recording = false;
  const one = async (i) => {
    if (i % MIXED_SLOW_EVERY === 0) {
      await slow();
      return;
    }
    const started = performance.now();
    await fast(i);
    if (recording) latencies[recorded++] = performance.now() - started;
  };
  await inFlight(count, POOL_DEPTH, one);
  recording = true;
  timer.start();
  await inFlight(count, POOL_DEPTH, one);
  timer.stop();
  return { latency: percentiles(latencies.subarray(0, recorded)) };
}
