// A COPY of a gigabyte streamed from one connection into another: memory stays flat and every
// byte arrives. PQNODE_COPY_TEST_MB scales it (1024 by default).
import { Transform } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';

import type {} from '../lib';
import { sharedConnection } from './helpers';

const megabytes = Number(process.env.PQNODE_COPY_TEST_MB ?? 1024);
const rowBytes = 64 * 1024;
const rows = Math.ceil((megabytes * 1024 * 1024) / rowBytes);

const source = sharedConnection({ autocommit: true });
const target = sharedConnection({ autocommit: true });

beforeAll(async () => {
  // the rows are counted and measured on arrival, then dropped: no gigabyte lands on disk
  await target().query(`
    create temp table sink (line text);
    create function pg_temp.measure() returns trigger language plpgsql as $$
    begin
      perform set_config('pqnode.rows', (current_setting('pqnode.rows')::bigint + 1)::text, false);
      perform set_config('pqnode.bytes', (current_setting('pqnode.bytes')::bigint + length(new.line))::text, false);
      return null;
    end $$;
    create trigger measure before insert on sink for each row execute function pg_temp.measure();
    select set_config('pqnode.rows', '0', false), set_config('pqnode.bytes', '0', false);
  `);
});

afterAll(async () => {
});

it(`streams ${megabytes} MB from copyTo into copyFrom with flat memory`, async () => {
  let streamed = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      streamed += chunk.length;
      callback(null, chunk);
    },
  });
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 25);
  try {
    const out = source().copyTo(`copy (select repeat('x', ${rowBytes - 1}) from generate_series(1, ${rows})) to stdout`);
    await target().copyFrom('copy sink from stdin', out.pipe(counter));
  } finally {
    clearInterval(sampler);
  }
  expect(streamed).toBe(rows * rowBytes);
  const { rows: measured } = await target().query<{ rows: string; bytes: string }>(
    "select current_setting('pqnode.rows') as rows, current_setting('pqnode.bytes') as bytes",
  );
  expect(Number(measured[0].rows)).toBe(rows);
  expect(Number(measured[0].bytes)).toBe(rows * (rowBytes - 1));
  // a gigabyte went through; a few megabytes of buffers at most stayed
  expect((peak - baseline) / 1024 / 1024).toBeLessThan(150);
  expect((await source().query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  expect((await target().query('select 2 as two')).rows).toEqual([{ two: 2 }]);
}, 120_000);
