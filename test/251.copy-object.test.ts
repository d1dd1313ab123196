import { describe, expect, it } from 'vitest';

import { errors } from '../lib';
import { connectTest, makeTable, rejectionOf, sharedConnection } from './helpers';

const conn = sharedConnection({ autocommit: true });

const newTable = (columns = 'id int, name text, score float8, born date, at timestamptz, tags text[], data bytea, ok bool'): Promise<string> =>
  makeTable(conn(), columns, { prefix: 'copyobj' });

const at = new Date('2024-02-29T12:34:56.789Z');

describe('conn.copy() FROM STDIN', () => {
  it('writeRow adapts values as parameters are, escaping what the text format needs', async () => {
    const table = await newTable();
    const copy = await conn().copy(`copy ${table} from stdin`);
    expect(copy.direction).toBe('in');
    expect(copy.format).toBe('text');
    await copy.writeRow([1, 'tab\there\nnew line\\back', 1.5, '2024-02-29', at, ['a', 'b,c', null], Buffer.from([0, 255]), true]);
    await copy.writeRow([2, null, null, null, null, null, null, null]);
    await copy.write('3\tplain\t\\N\t\\N\t\\N\t\\N\t\\N\tf\n');
    expect(await copy.end()).toBe(3);
    expect(copy.rowCount).toBe(3);
    const { rows } = await conn().query(`select * from ${table} order by id`);
    expect(rows[0]).toEqual({
      id: 1,
      name: 'tab\there\nnew line\\back',
      score: 1.5,
      born: '2024-02-29',
      at,
      tags: ['a', 'b,c', null],
      data: Buffer.from([0, 255]),
      ok: true,
    });
    expect(rows[1]).toMatchObject({ id: 2, name: null, ok: null });
    expect(rows[2]).toMatchObject({ id: 3, name: 'plain', ok: false });
  });

  it('binary format with setTypes()', async () => {
    const table = await newTable('a int2, b int4, c int8, d float4, e float8, f text, g bytea, h bool, i jsonb, j uuid, k timestamptz, l date');
    const copy = await conn().copy(`copy ${table} from stdin (format binary)`);
    expect(copy.format).toBe('binary');
    copy.setTypes(['int2', 'int4', 'int8', 'float4', 'float8', 'text', 'bytea', 'bool', 'jsonb', 'uuid', 'timestamptz', 'date']);
    const uuid = '123e4567-e89b-12d3-a456-426614174000';
    await copy.writeRow([-32768, 2147483647, 2n ** 62n, 0.5, -1e300, 'ünïcödé', Buffer.from('xyz'), false, { k: [1, 'two'] }, uuid, at, '2000-01-01']);
    await copy.writeRow([null, null, null, null, null, null, null, null, null, null, null, null]);
    expect(await copy.end()).toBe(2);
    const { rows } = await conn().query(`select * from ${table}`, [], { rowFactory: 'tuple' });
    expect(rows[0]).toEqual([-32768, 2147483647, 2n ** 62n, 0.5, -1e300, 'ünïcödé', Buffer.from('xyz'), false, { k: [1, 'two'] }, uuid, at, '2000-01-01']);
    expect(rows[1]).toEqual(Array(12).fill(null));
  });

  it('bad rows: a value the binary type cannot hold is a DataError before it is sent; the server rejects bad text', async () => {
    const table = await newTable('a int4');
    const copy = await conn().copy(`copy ${table} from stdin (format binary)`);
    expect(await rejectionOf(copy.writeRow([1]))).toBeInstanceOf(errors.ProgrammingError);
    copy.setTypes(['int4']);
    expect(await rejectionOf(copy.writeRow(['not a number']))).toBeInstanceOf(errors.DataError);
    expect(await rejectionOf(copy.writeRow([1, 2]))).toBeInstanceOf(errors.ProgrammingError);
    await copy.abort();
    const text = await conn().copy(`copy ${table} from stdin`);
    await text.write('not a number\n');
    expect(await rejectionOf(text.end())).toBeInstanceOf(errors.InvalidTextRepresentation);
    expect((await conn().query(`select count(*)::int as n from ${table}`)).rows).toEqual([{ n: 0 }]);
  });

  it('abort() rolls everything back and leaves the connection usable', async () => {
    const table = await newTable('a int4');
    const copy = await conn().copy(`copy ${table} from stdin`);
    await copy.writeRow([1]);
    await copy.writeRow([2]);
    await copy.abort(new Error('changed my mind'));
    expect((await conn().query(`select count(*)::int as n from ${table}`)).rows).toEqual([{ n: 0 }]);
    expect(await rejectionOf(copy.writeRow([3]))).toBeInstanceOf(errors.ProgrammingError);
  });

  it('await using ends it', async () => {
    const table = await newTable('a int4');
    {
      await using copy = await conn().copy(`copy ${table} from stdin`);
      await copy.writeRow([7]);
    }
    expect((await conn().query(`select a from ${table}`)).rows).toEqual([{ a: 7 }]);
  });
});

describe('conn.copy() TO STDOUT', () => {
  it('rows() reads strings, or values typed by setTypes()', async () => {
    const copy = await conn().copy("copy (select g, 'r' || g, g % 2 = 0, null::text from generate_series(1, 3) g) to stdout");
    expect(copy.direction).toBe('out');
    const rows: unknown[][] = [];
    for await (const row of copy.rows()) rows.push(row);
    expect(rows).toEqual([
      ['1', 'r1', 'f', null],
      ['2', 'r2', 't', null],
      ['3', 'r3', 'f', null],
    ]);
    const typed = (await conn().copy("copy (select 1, 'a\tb\\c', 2.5::float8, '{1,2}'::int[]) to stdout")).setTypes(['int4', 'text', 'float8', 'int4[]']);
    const out: unknown[][] = [];
    for await (const row of typed.rows()) out.push(row);
    expect(out).toEqual([[1, 'a\tb\\c', 2.5, [1, 2]]]);
  });

  it('binary rows with and without types', async () => {
    const query = "copy (select 42::int4, 'x'::text, null::int8, now()::timestamptz) to stdout (format binary)";
    const raw = await conn().copy(query);
    expect(raw.format).toBe('binary');
    const rawRows: unknown[][] = [];
    for await (const row of raw.rows()) rawRows.push(row);
    expect(rawRows[0][0]).toEqual(Buffer.from([0, 0, 0, 42]));
    expect(rawRows[0][2]).toBeNull();
    const typed = (await conn().copy(query)).setTypes(['int4', 'text', 'int8', 'timestamptz']);
    const rows: unknown[][] = [];
    for await (const row of typed.rows()) rows.push(row);
    expect(rows[0].slice(0, 3)).toEqual([42, 'x', null]);
    expect(rows[0][3]).toBeInstanceOf(Date);
    expect(() => raw.setTypes(['point'])).toThrow(errors.NotSupportedError);
  });

  it('read() and for await give the raw data, in order, then null', async () => {
    const copy = await conn().copy('copy (select g from generate_series(1, 50000) g) to stdout');
    let text = '';
    for await (const chunk of copy) text += chunk.toString();
    expect(text.split('\n').length - 1).toBe(50000);
    expect(await copy.read()).toBeNull();
    expect(copy.rowCount).toBe(50000);
  });

  it('a slow reader holds the server back instead of buffering everything', async () => {
    const pid = conn().info.backendPid;
    const watcher = await connectTest({ autocommit: true });
    try {
      const copy = await conn().copy(`copy (select repeat('x', 1000) from generate_series(1, 50000)) to stdout`);
      const first = await copy.read();
      expect(first).not.toBeNull();
      // 50 MB is more than the client holds and the sockets buffer: the server must wait for us
      let waiting = '';
      for (let attempt = 0; attempt < 50 && waiting !== 'ClientWrite'; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        const { rows } = await watcher.query<{ wait: string | null }>('select wait_event as wait from pg_stat_activity where pid = $1', [pid]);
        waiting = rows[0]?.wait ?? '';
      }
      expect(waiting).toBe('ClientWrite');
      let bytes = first?.length ?? 0;
      for (let chunk = await copy.read(); chunk !== null; chunk = await copy.read()) bytes += chunk.length;
      expect(bytes).toBe(50000 * 1001);
    } finally {
      await watcher.close();
    }
  });

  it('params are quoted into the statement', async () => {
    const copy = await conn().copy("copy (select $1::int + 1, $2::text || '!') to stdout", [41, "it's"]);
    const rows: unknown[][] = [];
    for await (const row of copy.rows()) rows.push(row);
    expect(rows).toEqual([['42', "it's!"]]);
  });
});

describe('conn.copy() errors', () => {
  it('a statement that is not COPY, a missing table, direction misuse', async () => {
    expect(await rejectionOf(conn().copy('select 1'))).toBeInstanceOf(errors.ProgrammingError);
    expect(await rejectionOf(conn().copy('copy no_such_table_here from stdin'))).toBeInstanceOf(errors.UndefinedTable);
    const out = await conn().copy('copy (select 1) to stdout');
    expect(await rejectionOf(out.writeRow([1]))).toBeInstanceOf(errors.ProgrammingError);
    expect(await rejectionOf(out.end())).toBeInstanceOf(errors.ProgrammingError);
    await out[Symbol.asyncDispose]();
    const table = await newTable('a int');
    const into = await conn().copy(`copy ${table} from stdin`);
    expect(await rejectionOf(into.read())).toBeInstanceOf(errors.ProgrammingError);
    expect(await rejectionOf(into.rows().next())).toBeInstanceOf(errors.ProgrammingError);
    await into.end();
    expect((await conn().query('select 5 as five')).rows).toEqual([{ five: 5 }]);
  });
});
