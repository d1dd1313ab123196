// COPY FROM STDIN from every kind of source, COPY TO STDOUT as a stream, their
// errors, backpressure, and what happens to the connection around them.
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { connect, errors, type Connection } from '../lib';
import { closedAfterEach, connectTest, makeTable, testDsn, uniqueName, rejectionOf as rejection, sharedConnection } from './helpers';

const conn = sharedConnection({ autocommit: true });

const { open, track } = closedAfterEach();

/** A temp table (a int, b text) on `on`. */
const newTable = (on: Connection = conn()): Promise<string> => makeTable(on, 'a int, b text', { prefix: 'copy', temp: true });

async function rowsOf(table: string, on: Connection = conn()): Promise<unknown[][]> {
  const { rows } = await on.query<unknown[]>(`select a, b from ${table} order by a`, [], { rowFactory: 'tuple' });
  return rows;
}

async function countOf(table: string, on: Connection = conn()): Promise<number> {
  const { rows } = await on.query<{ n: number }>(`select count(*)::int as n from ${table}`);
  return rows[0].n;
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks).toString('utf8');
}

async function streamError(stream: Readable): Promise<Error> {
  try {
    for await (const _chunk of stream) {
      // drain
    }
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the stream to fail');
}

const THREE_ROWS = '1\tone\n2\ttwo\n3\t\\N\n';
const THREE_EXPECTED = [
  [1, 'one'],
  [2, 'two'],
  [3, null],
];

describe('copyFrom', () => {
  it('takes a string', async () => {
    const table = await newTable();
    const count = await conn().copyFrom(`copy ${table} (a, b) from stdin`, THREE_ROWS);
    expect(count).toBe(3);
    expect(await rowsOf(table)).toEqual(THREE_EXPECTED);
  });

  it('takes a Buffer, multi-byte text included', async () => {
    const table = await newTable();
    const count = await conn().copyFrom(`copy ${table} (a, b) from stdin`, Buffer.from('1\tété\n2\t日本\n3\t🐘\n', 'utf8'));
    expect(count).toBe(3);
    expect(await rowsOf(table)).toEqual([
      [1, 'été'],
      [2, '日本'],
      [3, '🐘'],
    ]);
  });

  it('takes a Uint8Array', async () => {
    const table = await newTable();
    const bytes = new TextEncoder().encode('7\tseven\n');
    expect(await conn().copyFrom(`copy ${table} (a, b) from stdin`, bytes)).toBe(1);
    expect(await rowsOf(table)).toEqual([[7, 'seven']]);
  });

  it('takes an array of strings and Buffers; chunks need not end on a row boundary', async () => {
    const table = await newTable();
    const count = await conn().copyFrom(`copy ${table} (a, b) from stdin`, ['1\ton', 'e\n2', Buffer.from('\ttwo\n3\t'), '\\N\n']);
    expect(count).toBe(3);
    expect(await rowsOf(table)).toEqual(THREE_EXPECTED);
  });

  it('splits a multi-byte character across chunks correctly', async () => {
    const table = await newTable();
    const bytes = Buffer.from('1\t日本\n', 'utf8');
    const count = await conn().copyFrom(`copy ${table} (a, b) from stdin`, [bytes.subarray(0, 4), bytes.subarray(4)]);
    expect(count).toBe(1);
    expect(await rowsOf(table)).toEqual([[1, '日本']]);
  });

  it('takes a generator', async () => {
    const table = await newTable();
    function* rows() {
      for (let i = 1; i <= 50; i++) yield `${i}\tg${i}\n`;
    }
    expect(await conn().copyFrom(`copy ${table} (a, b) from stdin`, rows())).toBe(50);
    expect(await countOf(table)).toBe(50);
    expect((await rowsOf(table))[49]).toEqual([50, 'g50']);
  });

  it('takes an async generator', async () => {
    const table = await newTable();
    async function* rows() {
      for (let i = 1; i <= 50; i++) {
        if (i % 10 === 0) await sleep(1);
        yield Buffer.from(`${i}\tag${i}\n`);
      }
    }
    expect(await conn().copyFrom(`copy ${table} (a, b) from stdin`, rows())).toBe(50);
    const rows2 = await rowsOf(table);
    expect(rows2).toHaveLength(50);
    expect(rows2[0]).toEqual([1, 'ag1']);
    expect(rows2[49]).toEqual([50, 'ag50']);
  });

  it('takes a Readable', async () => {
    const table = await newTable();
    const source = Readable.from(['1\tr1\n', '2\tr2\n', '3\tr3\n']);
    expect(await conn().copyFrom(`copy ${table} (a, b) from stdin`, source)).toBe(3);
    expect(await rowsOf(table)).toEqual([
      [1, 'r1'],
      [2, 'r2'],
      [3, 'r3'],
    ]);
  });

  it('takes a byte-mode Readable', async () => {
    const table = await newTable();
    const source = new Readable({
      read() {
        this.push(Buffer.from('10\tten\n11\televen\n'));
        this.push(null);
      },
    });
    expect(await conn().copyFrom(`copy ${table} (a, b) from stdin`, source)).toBe(2);
    expect(await countOf(table)).toBe(2);
  });

  it('an empty source copies 0 rows', async () => {
    const table = await newTable();
    expect(await conn().copyFrom(`copy ${table} (a, b) from stdin`, '')).toBe(0);
    expect(await conn().copyFrom(`copy ${table} (a, b) from stdin`, [])).toBe(0);
    expect(await countOf(table)).toBe(0);
  });

  it('CSV with a header', async () => {
    const table = await newTable();
    const csv = 'a,b\n1,"x,y"\n2,"say ""hi"""\n3,\n';
    const count = await conn().copyFrom(`copy ${table} (a, b) from stdin (format csv, header true)`, csv);
    expect(count).toBe(3);
    expect(await rowsOf(table)).toEqual([
      [1, 'x,y'],
      [2, 'say "hi"'],
      [3, null],
    ]);
  });

  it('200k rows from a lazy async generator, memory staying flat', async () => {
    const table = await newTable();
    const total = 200_000;
    const perChunk = 500;
    const filler = 'x'.repeat(400);
    let produced = 0;
    let peakRss = 0;
    global.gc?.();
    const before = process.memoryUsage().rss;
    async function* rows() {
      for (let start = 0; start < total; start += perChunk) {
        let chunk = '';
        for (let i = start; i < start + perChunk; i++) chunk += `${i}\t${filler}\n`;
        produced += perChunk;
        if (produced % 20_000 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
        yield chunk;
      }
    }
    const count = await conn().copyFrom(`copy ${table} (a, b) from stdin`, rows());
    expect(count).toBe(total);
    expect(produced).toBe(total);
    const { rows: stats } = await conn().query<{ n: number; lo: number; hi: number; len: number }>(
      `select count(*)::int as n, min(a) as lo, max(a) as hi, min(length(b)) as len from ${table}`,
    );
    expect(stats[0]).toEqual({ n: total, lo: 0, hi: total - 1, len: 400 });
    // ~80 MB went through; holding much of it at once would show in the peak
    expect(peakRss - before).toBeLessThan(60 * 1024 * 1024);
    await conn().query(`drop table ${table}`);
  });

  it('bad data → InvalidTextRepresentation (22P02) ⊂ DataError; nothing loaded; connection usable', async () => {
    const table = await newTable();
    const error = await rejection(conn().copyFrom(`copy ${table} (a, b) from stdin`, '1\tok\nnot a number\tbad\n3\tok\n'));
    expect(error).toBeInstanceOf(errors.InvalidTextRepresentation);
    expect(error).toBeInstanceOf(errors.DataError);
    expect((error as errors.DatabaseError).sqlstate).toBe('22P02');
    expect(conn().info.transactionStatus).toBe('idle');
    expect(await countOf(table)).toBe(0);
    expect(await conn().copyFrom(`copy ${table} (a, b) from stdin`, '4\tfine\n')).toBe(1);
  });

  it('a wrong column count in the data → BadCopyFileFormat', async () => {
    const table = await newTable();
    const error = await rejection(conn().copyFrom(`copy ${table} (a, b) from stdin`, '1\ttwo\tthree\n'));
    expect(error).toBeInstanceOf(errors.BadCopyFileFormat);
    expect((error as errors.DatabaseError).sqlstate).toBe('22P04');
    expect(await countOf(table)).toBe(0);
  });

  it('a source that throws halfway → the same error; no rows loaded; connection usable (autocommit)', async () => {
    const table = await newTable();
    const boom = new Error('source failed');
    async function* rows() {
      for (let i = 1; i <= 1000; i++) {
        if (i === 600) throw boom;
        yield `${i}\tr\n`;
      }
    }
    const error = await rejection(conn().copyFrom(`copy ${table} (a, b) from stdin`, rows()));
    expect(error).toBe(boom);
    expect(conn().info.transactionStatus).toBe('idle');
    expect(await countOf(table)).toBe(0);
    expect(await conn().copyFrom(`copy ${table} (a, b) from stdin`, '1\tafter\n')).toBe(1);
  });

  it('a sync generator that throws → the same error, nothing loaded', async () => {
    const table = await newTable();
    const boom = new TypeError('sync source failed');
    function* rows() {
      yield '1\ta\n';
      throw boom;
    }
    await expect(conn().copyFrom(`copy ${table} (a, b) from stdin`, rows())).rejects.toBe(boom);
    expect(await countOf(table)).toBe(0);
  });

  it('a Readable that errors → the same error, nothing loaded', async () => {
    const table = await newTable();
    const boom = new Error('stream failed');
    let sent = 0;
    const source = new Readable({
      read() {
        sent++;
        if (sent > 3) this.destroy(boom);
        else this.push(`${sent}\tx\n`);
      },
    });
    await expect(conn().copyFrom(`copy ${table} (a, b) from stdin`, source)).rejects.toBe(boom);
    expect(await countOf(table)).toBe(0);
    expect((await conn().query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });

  it('a source that throws with autocommit off: the transaction is in error, rollback() recovers', async () => {
    const other = await open();
    const table = await newTable(other);
    await other.commit();
    await other.query(`insert into ${table} values (0, 'before')`);
    const boom = new Error('halfway');
    async function* rows() {
      yield '1\ta\n2\tb\n';
      await sleep(1);
      throw boom;
    }
    const error = await rejection(other.copyFrom(`copy ${table} (a, b) from stdin`, rows()));
    expect(error).toBe(boom);
    expect(other.info.transactionStatus).toBe('inerror');
    await expect(other.query('select 1')).rejects.toBeInstanceOf(errors.InFailedSqlTransaction);
    await other.rollback();
    expect(other.info.transactionStatus).toBe('idle');
    expect(await countOf(table, other)).toBe(0);
    expect(await other.copyFrom(`copy ${table} (a, b) from stdin`, '5\tok\n')).toBe(1);
    await other.commit();
    expect(await rowsOf(table, other)).toEqual([[5, 'ok']]);
  });

  it('copyFrom with autocommit off runs in the implicit transaction: commit makes it visible', async () => {
    const other = await open();
    const table = await makeTable(conn(), 'a int, b text', { prefix: 'copytx' });
    try {
      expect(await other.copyFrom(`copy ${table} (a, b) from stdin`, THREE_ROWS)).toBe(3);
      expect(other.info.transactionStatus).toBe('intrans');
      expect(await countOf(table)).toBe(0);
      await other.commit();
      expect(await rowsOf(table)).toEqual(THREE_EXPECTED);
    } finally {
      await conn().query(`drop table ${table}`);
    }
  });

  it('a non-COPY statement → ProgrammingError; connection usable', async () => {
    const error = await rejection(conn().copyFrom('select 1', 'whatever'));
    expect(error).toBeInstanceOf(errors.ProgrammingError);
    expect((await conn().query('select 2 as two')).rows).toEqual([{ two: 2 }]);
  });

  it('COPY TO STDOUT given to copyFrom → ProgrammingError; connection usable', async () => {
    const table = await newTable();
    await conn().copyFrom(`copy ${table} (a, b) from stdin`, THREE_ROWS);
    const error = await rejection(conn().copyFrom(`copy ${table} to stdout`, 'ignored'));
    expect(error).toBeInstanceOf(errors.ProgrammingError);
    expect((await conn().query('select 3 as three')).rows).toEqual([{ three: 3 }]);
  });

  it('a COPY on a missing table → UndefinedTable; the source is not read', async () => {
    let pulled = 0;
    function* rows() {
      pulled++;
      yield '1\tx\n';
    }
    const error = await rejection(conn().copyFrom(`copy ${uniqueName('missing')} from stdin`, rows()));
    expect(error).toBeInstanceOf(errors.UndefinedTable);
    expect(pulled).toBe(0);
    expect((await conn().query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });

  it('a source that is not a COPY source → TypeError', async () => {
    const table = await newTable();
    await expect(conn().copyFrom(`copy ${table} from stdin`, 42 as never)).rejects.toBeInstanceOf(TypeError);
    await expect(conn().copyFrom(`copy ${table} from stdin`, [{}] as never)).rejects.toBeInstanceOf(TypeError);
    expect(conn().info.transactionStatus).toBe('idle');
    expect(await countOf(table)).toBe(0);
  });

  it('a closed connection → InterfaceError', async () => {
    const other = await connectTest();
    await other.close();
    await expect(other.copyFrom('copy t from stdin', 'x')).rejects.toBeInstanceOf(errors.InterfaceError);
  });

  it('a query issued while copyFrom runs waits for it, then succeeds', async () => {
    const table = await newTable();
    const order: string[] = [];
    async function* rows() {
      for (let i = 1; i <= 5; i++) {
        await sleep(10);
        yield `${i}\tw\n`;
      }
    }
    const copy = conn().copyFrom(`copy ${table} (a, b) from stdin`, rows()).then((n) => {
      order.push('copy');
      return n;
    });
    await sleep(5);
    const query = conn().query<{ n: number }>(`select count(*)::int as n from ${table}`).then((r) => {
      order.push('query');
      return r.rows[0].n;
    });
    const [copied, seen] = await Promise.all([copy, query]);
    expect(copied).toBe(5);
    expect(seen).toBe(5);
    expect(order).toEqual(['copy', 'query']);
  });
});

describe('copyTo', () => {
  it('streams 100000 rows; the text has every line', async () => {
    const stream = conn().copyTo('copy (select g, g * 2 from generate_series(1, 100000) g) to stdout');
    expect(stream).toBeInstanceOf(Readable);
    const text = await readAll(stream);
    const lines = text.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(100000);
    expect(lines[0]).toBe('1\t2');
    expect(lines[49999]).toBe('50000\t100000');
    expect(lines[99999]).toBe('100000\t200000');
    for (let i = 0; i < lines.length; i += 997) expect(lines[i]).toBe(`${i + 1}\t${(i + 1) * 2}`);
    expect((await conn().query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });

  it('the chunks are Buffers', async () => {
    const chunks: unknown[] = [];
    for await (const chunk of conn().copyTo("copy (select 'x') to stdout")) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(0);
    for (const chunk of chunks) expect(Buffer.isBuffer(chunk)).toBe(true);
    expect(Buffer.concat(chunks as Buffer[]).toString()).toBe('x\n');
  });

  it('CSV with a header, quoting and NULLs', async () => {
    const text = await readAll(
      conn().copyTo(
        `copy (select * from (values (1, 'plain'), (2, 'with,comma'), (3, 'say "hi"'), (4, null)) v(id, word)) to stdout (format csv, header true)`,
      ),
    );
    expect(text).toBe('id,word\n1,plain\n2,"with,comma"\n3,"say ""hi"""\n4,\n');
  });

  it('an empty result ends the stream with no data', async () => {
    expect(await readAll(conn().copyTo('copy (select 1 where false) to stdout'))).toBe('');
  });

  it('a table copied out in text format escapes tabs, newlines and NULL', async () => {
    const table = await newTable();
    await conn().query(`insert into ${table} values (1, $1), (2, null)`, ['tab\there\nnl\\bs']);
    const text = await readAll(conn().copyTo(`copy ${table} to stdout`));
    expect(text).toBe('1\ttab\\there\\nnl\\\\bs\n2\t\\N\n');
  });

  it('a slow consumer still gets everything', async () => {
    const stream = conn().copyTo('copy (select g, repeat(md5(g::text), 4) from generate_series(1, 20000) g) to stdout');
    const chunks: Buffer[] = [];
    let reads = 0;
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      reads++;
      if (reads % 4 === 0) await sleep(2);
    }
    const lines = Buffer.concat(chunks).toString().split('\n');
    lines.pop();
    expect(lines).toHaveLength(20000);
    expect(lines[0].startsWith('1\t')).toBe(true);
    expect(lines[0].split('\t')[1]).toHaveLength(128);
    expect(lines[19999].startsWith('20000\t')).toBe(true);
    const numbers = lines.map((line) => Number(line.split('\t')[0]));
    expect(numbers.every((n, i) => n === i + 1)).toBe(true);
  });

  it('a paused stream holds back the server: memory stays bounded and reading resumes', async () => {
    const stream = conn().copyTo('copy (select g, repeat(\'y\', 500) from generate_series(1, 200000) g) to stdout');
    let buffered = 0;
    stream.on('data', (chunk: Buffer) => {
      buffered += chunk.length;
    });
    stream.pause();
    await sleep(300);
    // ~100 MB would be available; a paused stream holds no more than a few buffers of it
    expect(stream.readableLength).toBeLessThan(8 * 1024 * 1024);
    let bytes = 0;
    let lines = 0;
    stream.removeAllListeners('data');
    for await (const chunk of stream) {
      bytes += (chunk as Buffer).length;
      for (const c of chunk as Buffer) if (c === 10) lines++;
    }
    expect(buffered).toBe(0);
    expect(lines).toBe(200000);
    expect(bytes).toBeGreaterThan(200000 * 500);
  });

  it('breaking out of for-await early leaves the connection usable', async () => {
    const other = await open({ autocommit: true });
    const stream = other.copyTo('copy (select g, repeat(\'z\', 100) from generate_series(1, 2000000) g) to stdout');
    let chunks = 0;
    for await (const _chunk of stream) {
      chunks++;
      if (chunks === 3) break;
    }
    expect(chunks).toBe(3);
    const started = Date.now();
    const result = await other.query<{ answer: number }>('select 42 as answer');
    expect(result.rows).toEqual([{ answer: 42 }]);
    // the rest of the COPY (about 200 MB) was cancelled, not read to the end
    expect(Date.now() - started).toBeLessThan(1500);
    expect(other.info.transactionStatus).toBe('idle');
    expect((await other.query('select 2 as two')).rows).toEqual([{ two: 2 }]);
  });

  it('abandoning a COPY that is about to end never cancels the statement issued after it', async () => {
    const other = await open({ autocommit: true });
    const failures: string[] = [];
    for (const size of [3000, 3000, 10000, 10000, 20000, 20000]) {
      const stream = other.copyTo(`copy (select g from generate_series(1, ${size}) g) to stdout`);
      for await (const _chunk of stream) break;
      try {
        const { rows } = await other.query<{ ok: boolean }>('select pg_sleep(0.02) is not null as ok');
        expect(rows).toEqual([{ ok: true }]);
      } catch (error) {
        failures.push(`${size}: ${(error as Error).name}: ${(error as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('breaking out early with autocommit off: rollback() recovers the connection', async () => {
    const other = await open();
    const stream = other.copyTo('copy (select g from generate_series(1, 2000000) g) to stdout');
    for await (const _chunk of stream) break;
    await sleep(50);
    await other.query('select 1').catch(() => undefined);
    await other.rollback();
    expect(other.info.transactionStatus).toBe('idle');
    expect((await other.query('select 7 as seven')).rows).toEqual([{ seven: 7 }]);
  });

  it('a bad statement makes the stream error with UndefinedTable; the connection stays usable', async () => {
    const error = await streamError(conn().copyTo(`copy ${uniqueName('missing')} to stdout`));
    expect(error).toBeInstanceOf(errors.UndefinedTable);
    expect((error as errors.DatabaseError).sqlstate).toBe('42P01');
    expect((await conn().query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });

  it('an error midway through the COPY errors the stream after the rows that came', async () => {
    const stream = conn().copyTo('copy (select 10 / (5000 - g) from generate_series(1, 10000) g) to stdout');
    const error = await streamError(stream);
    expect(error).toBeInstanceOf(errors.DivisionByZero);
    expect((await conn().query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });

  it('a non-COPY statement → the stream errors with ProgrammingError', async () => {
    const error = await streamError(conn().copyTo('select 1'));
    expect(error).toBeInstanceOf(errors.ProgrammingError);
    expect((await conn().query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });

  it('a closed connection → the stream errors (or copyTo throws) with InterfaceError', async () => {
    const other = await connectTest();
    await other.close();
    let error: Error;
    try {
      error = await streamError(other.copyTo('copy (select 1) to stdout'));
    } catch (thrown) {
      error = thrown as Error;
    }
    expect(error).toBeInstanceOf(errors.InterfaceError);
  });

  it('a query issued while a COPY TO runs waits and then succeeds', async () => {
    const stream = conn().copyTo('copy (select g from generate_series(1, 50000) g) to stdout');
    const order: string[] = [];
    const query = conn().query<{ n: number }>('select 99 as n').then((r) => {
      order.push('query');
      return r.rows[0].n;
    });
    const read = readAll(stream).then((text) => {
      order.push('copy');
      return text;
    });
    const [text, n] = await Promise.all([read, query]);
    expect(n).toBe(99);
    expect(text.split('\n')).toHaveLength(50001);
    expect(order).toEqual(['copy', 'query']);
  });

  it('two COPY TO streams on one connection run one after the other', async () => {
    const first = conn().copyTo('copy (select g from generate_series(1, 1000) g) to stdout');
    const second = conn().copyTo("copy (select 'second') to stdout");
    const [a, b] = await Promise.all([readAll(first), readAll(second)]);
    expect(a.split('\n')).toHaveLength(1001);
    expect(b).toBe('second\n');
  });

  it('with autocommit off, COPY TO opens the implicit transaction', async () => {
    const other = await open();
    expect(await readAll(other.copyTo('copy (select 1) to stdout'))).toBe('1\n');
    expect(other.info.transactionStatus).toBe('intrans');
    await other.rollback();
  });
});

describe('round trip', () => {
  it('copyTo on one connection piped into copyFrom on another', async () => {
    const source = await open({ autocommit: true });
    const target = await open({ autocommit: true });
    const from = await newTable(source);
    const to = await newTable(target);
    await source.query(`insert into ${from} select g, 'v' || g || E'\\t"q"' from generate_series(1, 30000) g`);
    await source.query(`insert into ${from} values (0, null)`);
    const copied = await target.copyFrom(`copy ${to} (a, b) from stdin`, source.copyTo(`copy ${from} (a, b) to stdout`));
    expect(copied).toBe(30001);
    const a = await source.query(`select md5(string_agg(a || ':' || coalesce(b, '<null>'), ',' order by a)) as h from ${from}`);
    const b = await target.query(`select md5(string_agg(a || ':' || coalesce(b, '<null>'), ',' order by a)) as h from ${to}`);
    expect(b.rows[0]).toEqual(a.rows[0]);
    expect(await rowsOf(to, target).then((rows) => rows.slice(0, 2))).toEqual([
      [0, null],
      [1, 'v1\t"q"'],
    ]);
  });

  it('migrates a table between two databases (binary format)', async () => {
    const dbname = uniqueName('copydb');
    await conn().query(`create database ${dbname}`);
    const url = new URL(testDsn());
    url.pathname = `/${dbname}`;
    try {
      const source = await open({ autocommit: true });
      const target = track(await connect(url.toString(), { autocommit: true }));
      expect((await target.query<{ db: string }>('select current_database() as db')).rows[0].db).toBe(dbname);

      const table = await makeTable(source, 'id int, payload jsonb, at timestamptz, raw bytea', { prefix: 'migrate', temp: true });
      await source.query(
        `insert into ${table} select g, jsonb_build_object('g', g, 's', 'x' || g), timestamptz '2024-01-01 00:00+00' + g * interval '1 minute', decode(md5(g::text), 'hex') from generate_series(1, 5000) g`,
      );
      await target.query(`create table ${table} (id int, payload jsonb, at timestamptz, raw bytea)`);
      const copied = await target.copyFrom(
        `copy ${table} from stdin (format binary)`,
        source.copyTo(`copy ${table} to stdout (format binary)`),
      );
      expect(copied).toBe(5000);
      const digest = `select md5(string_agg(id || payload::text || at::text || encode(raw, 'hex'), '|' order by id)) as h from ${table}`;
      const a = await source.query(digest);
      const b = await target.query(digest);
      expect(b.rows[0]).toEqual(a.rows[0]);
      await target.close();
    } finally {
      await conn().query(`drop database if exists ${dbname} with (force)`);
    }
  });
});
