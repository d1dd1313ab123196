// 05 — COPY: bulk load and bulk export.
//
// psycopg2:
//
//   with open("users.csv") as f:
//       cur.copy_expert("COPY users FROM STDIN WITH (FORMAT csv, HEADER)", f)
//   with open("out.csv", "w") as f:
//       cur.copy_expert("COPY users TO STDOUT WITH (FORMAT csv, HEADER)", f)
//
// pqnode: conn.copyFrom(sql, source) where source is a string, a Buffer, a Readable stream or
// any (async) iterable of strings/Buffers — a generator is the natural way to produce rows.
// conn.copyTo(sql) returns a Readable (also async-iterable), to pipe wherever it must go.
// Backpressure is honoured both ways: memory stays flat however much data moves.
import assert from 'node:assert/strict';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { connect, errors } from '../dist/index.mjs';

const conn = await connect(process.env.PQNODE_TEST_DSN);
const dir = await mkdtemp(path.join(os.tmpdir(), 'pqnode-copy-'));
try {
  await conn.query(`
    CREATE TEMPORARY TABLE measurements (
      sensor   int NOT NULL,
      taken_at timestamptz NOT NULL,
      value    double precision,
      note     text
    )`);

  // --- copyFrom() a CSV string ------------------------------------------------------------------
  const csv = [
    'sensor,taken_at,value,note',
    '1,2026-01-01 00:00:00+00,20.5,',
    '1,2026-01-01 01:00:00+00,21.0,"warm, and rising"',
    '2,2026-01-01 00:00:00+00,,"no reading"',
  ].join('\n');
  const fromString = await conn.copyFrom('COPY measurements FROM STDIN WITH (FORMAT csv, HEADER)', csv);
  console.log(`copied ${fromString} rows from a CSV string`);
  assert.equal(fromString, 3);

  // --- copyFrom() a generator -------------------------------------------------------------------
  // Rows in COPY's text format: tab-separated, \N for NULL, one line each. A generator yields
  // them one at a time; nothing holds the whole data set in memory.
  function* readings(count) {
    const start = Date.UTC(2026, 0, 2);
    for (let i = 0; i < count; i++) {
      const takenAt = new Date(start + i * 60_000).toISOString();
      const value = i % 100 === 0 ? '\\N' : (15 + Math.sin(i / 50) * 5).toFixed(3);
      yield `${3 + (i % 4)}\t${takenAt}\t${value}\t\\N\n`;
    }
  }
  const fromGenerator = await conn.copyFrom('COPY measurements (sensor, taken_at, value, note) FROM STDIN', readings(50_000));
  console.log(`copied ${fromGenerator} rows from a generator`);
  assert.equal(fromGenerator, 50_000);

  // An async generator works the same way (rows fetched from an API, a queue, ...).
  async function* fromSomewhereSlow() {
    for (const sensor of [7, 8]) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      yield `${sensor}\t2026-01-03T00:00:00Z\t1.5\tasync\n`;
    }
  }
  assert.equal(await conn.copyFrom('COPY measurements FROM STDIN', fromSomewhereSlow()), 2);

  // --- copyTo() a file -----------------------------------------------------------------------
  const file = path.join(dir, 'measurements.csv');
  await pipeline(
    conn.copyTo('COPY (SELECT * FROM measurements ORDER BY taken_at, sensor) TO STDOUT WITH (FORMAT csv, HEADER)'),
    createWriteStream(file),
  );
  const written = (await readFile(file, 'utf8')).trimEnd().split('\n');
  console.log(`wrote ${written.length - 1} rows to ${path.basename(file)}; the first: ${written[1]}`);
  assert.equal(written.length - 1, 50_005);
  assert.equal(written[0], 'sensor,taken_at,value,note');

  // --- copyFrom() a file stream: the round trip -------------------------------------------------
  await conn.query('CREATE TEMPORARY TABLE measurements_copy (LIKE measurements)');
  const reloaded = await conn.copyFrom('COPY measurements_copy FROM STDIN WITH (FORMAT csv, HEADER)', createReadStream(file));
  assert.equal(reloaded, 50_005);
  const { rows } = await conn.query(`
    SELECT count(*) AS missing FROM (
      SELECT * FROM measurements EXCEPT ALL SELECT * FROM measurements_copy
    ) AS difference`);
  assert.equal(rows[0].missing, 0n);

  // autocommit is off: everything so far is one transaction. Commit it, so that the failures
  // below, rolled back, take only themselves with them.
  await conn.commit();

  // --- copyTo() stdout ---------------------------------------------------------------------------
  // Like `cur.copy_expert("COPY ... TO STDOUT", sys.stdout)`. The stream is piped by hand here so
  // that process.stdout stays open afterwards (pipeline() would end it).
  const summary = conn.copyTo(`
    COPY (SELECT sensor, count(*), round(avg(value)::numeric, 2) AS avg
          FROM measurements GROUP BY sensor ORDER BY sensor)
    TO STDOUT WITH (FORMAT csv, HEADER)`);
  summary.pipe(process.stdout, { end: false });
  await new Promise((resolve, reject) => summary.on('end', resolve).on('error', reject));

  // --- copyTo() as an async iterable --------------------------------------------------------------
  let bytes = 0;
  for await (const chunk of conn.copyTo('COPY measurements TO STDOUT')) bytes += chunk.length;
  console.log(`streamed ${bytes} bytes of COPY text`);
  assert.ok(bytes > 1_000_000);

  // --- a failing source rolls the whole COPY back ------------------------------------------------
  async function* brokenSource() {
    yield '9\t2026-01-04T00:00:00Z\t1\tfirst\n';
    throw new Error('the upstream feed went away');
  }
  await assert.rejects(conn.copyFrom('COPY measurements FROM STDIN', brokenSource()), /upstream feed went away/);
  await conn.rollback();
  assert.equal((await conn.query("SELECT count(*) AS n FROM measurements WHERE note = 'first'")).rows[0].n, 0n);

  // --- bad data: the server's error, with the line it choked on --------------------------------------
  await assert.rejects(conn.copyFrom('COPY measurements FROM STDIN', '1\tnot a time\t1\t\\N\n'), (error) => {
    assert.ok(error instanceof errors.InvalidDatetimeFormat);
    console.log(`bad COPY data: ${error.diag.messagePrimary} (${error.diag.context})`);
    return true;
  });
  await conn.rollback();
} finally {
  await conn.close();
  await rm(dir, { recursive: true, force: true });
}

console.log('05-copy: ok');
