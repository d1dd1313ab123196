import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { errors } from '../lib';
import { native, type NativeCallbacks } from '../lib/native';
import { connectTest, uniqueName, withConnection, sharedConnection, makeTable } from './helpers';
import { coreOf } from '../lib/core/interface';

const conn = sharedConnection({ autocommit: true });

function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Settle every promise, keeping the order, so that an early rejection does not leave the others unobserved. */
function settleAll<T>(promises: Promise<T>[]): Promise<PromiseSettledResult<T>[]> {
  return Promise.allSettled(promises);
}

describe('concurrent queries on one connection', () => {
  it('200 queries issued without awaiting resolve in order with their own values', async () => {
    const promises: Promise<{ rows: { n: number; s: string }[] }>[] = [];
    for (let i = 0; i < 200; i++) {
      promises.push(conn().query<{ n: number; s: string }>('select $1::int as n, $2::text as s', [i, `v${i}`]));
    }
    const order: number[] = [];
    promises.forEach((p, i) => void p.then(() => order.push(i)));
    const results = await Promise.all(promises);
    results.forEach((result, i) => expect(result.rows).toEqual([{ n: i, s: `v${i}` }]));
    expect(order).toEqual([...Array(200).keys()]);
    expect(coreOf(conn()).pendingCommands()).toBe(0);
  });

  it('each caller resumes in its own async context (AsyncLocalStorage)', async () => {
    const context = new AsyncLocalStorage<number>();
    // 50 callers, each in a store of its own, issuing their statements in the same tick
    const seen = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        context.run(i, async () => {
          const first = await conn().query<{ n: number }>('select $1::int as n', [i]);
          const before = context.getStore();
          const second = await conn().query<{ n: number }>('select $1::int + 1 as n', [first.rows[0].n]);
          return [before, context.getStore(), second.rows[0].n];
        }),
      ),
    );
    expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => [i, i, i + 1]));
    expect(context.getStore()).toBeUndefined();
  });

  it('thousands of queries kept 150 in flight each get their own result, in order', async () => {
    // A new query as each one completes; the results are large enough to arrive a few per
    // read, so the queue in flight never empties while thousands pass through it.
    const total = 5000;
    const depth = 150;
    let next = 0;
    const completed: number[] = [];
    const worker = async () => {
      while (next < total) {
        const i = next++;
        const result = await conn().query<{ n: number; s: string }>('select $1::int as n, repeat($2::text, 500) as s', [i, `v${i}`]);
        expect(result.rows).toEqual([{ n: i, s: `v${i}`.repeat(500) }]);
        completed.push(i);
      }
    };
    await Promise.all(Array.from({ length: depth }, worker));
    expect(completed).toEqual([...Array(total).keys()]);
    expect(coreOf(conn()).pendingCommands()).toBe(0);
  });

  it('queries issued together are all sent before the first result arrives', async () => {
    const c = await connectTest({ autocommit: true });
    try {
      const slow = c.query('select pg_sleep(0.3) as slept');
      const fast: Promise<{ rows: { n: number }[] }>[] = [];
      for (let i = 0; i < 10; i++) fast.push(c.query<{ n: number }>('select $1::int as n', [i]));
      // sent at once, not queued behind the slow one
      expect(coreOf(c).pendingCommands()).toBeGreaterThanOrEqual(11);
      await tick();
      await new Promise((resolve) => setTimeout(resolve, 50));
      // the server is still sleeping: all eleven are in flight together
      expect(coreOf(c).pendingCommands()).toBeGreaterThanOrEqual(11);
      await slow;
      const results = await Promise.all(fast);
      results.forEach((result, i) => expect(result.rows).toEqual([{ n: i }]));
      expect(coreOf(c).pendingCommands()).toBe(0);
    } finally {
      await c.close();
    }
  });

  it('queries queued behind a multi-statement query are pipelined once it is done', async () => {
    const c = await connectTest({ autocommit: true });
    try {
      // the first statement of a session is preceded by the settings pqnode keeps: past them
      await c.query('select 1');
      const multi = c.query('select pg_sleep(0.1); select 1 as n');
      const after: Promise<{ rows: { n: number }[] }>[] = [];
      for (let i = 0; i < 10; i++) after.push(c.query<{ n: number }>('select $1::int as n, pg_sleep(0.01)', [i]));
      // the simple protocol leaves no room for anything else in flight
      expect(coreOf(c).pendingCommands()).toBe(1);
      expect((await multi).rows).toEqual([{ n: 1 }]);
      expect(coreOf(c).pendingCommands()).toBeGreaterThanOrEqual(10);
      const results = await Promise.all(after);
      results.forEach((result, i) => expect(result.rows).toEqual([{ n: i, pg_sleep: '' }]));
      expect(coreOf(c).pendingCommands()).toBe(0);
    } finally {
      await c.close();
    }
  });

  it('five sleeps issued together run one after the other on the server', async () => {
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => conn().query('select pg_sleep(0.1), $1::int as i', [i])));
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(2000);
    results.forEach((result, i) => expect(result.rows).toEqual([{ pg_sleep: '', i }]));
  });

  it('statements issued together see each other in issue order', async () => {
    const table = await makeTable(conn(), 'id serial primary key, v int', { prefix: 'order', temp: true });
    const inserts = Array.from({ length: 50 }, (_, i) => conn().query(`insert into ${table} (v) values ($1) returning id`, [i]));
    const counts = Array.from({ length: 5 }, () => conn().query<{ n: number }>(`select count(*)::int as n from ${table}`));
    const results = await Promise.all(inserts);
    results.forEach((result, i) => expect(result.rows).toEqual([{ id: i + 1 }]));
    for (const count of await Promise.all(counts)) expect(count.rows).toEqual([{ n: 50 }]);
    const stored = await conn().query<{ id: number; v: number }>(`select id, v from ${table} order by id`);
    stored.rows.forEach((row) => expect(row.v).toBe(row.id - 1));
  });

  it('a row factory per query applies to its own result only', async () => {
    const [objects, tuples, named] = await Promise.all([
      conn().query('select 1 as a'),
      conn().query('select 2 as a', [], { rowFactory: 'tuple' }),
      conn().query<unknown[] & { a: number }>('select 3 as a', [], { rowFactory: 'named' }),
    ]);
    expect(objects.rows).toEqual([{ a: 1 }]);
    expect(tuples.rows).toEqual([[2]]);
    expect(named.rows[0].a).toBe(3);
  });
});

describe('volume', () => {
  it('large parameters and large results in flight together keep their pairing', async () => {
    const big = Array.from({ length: 8 }, (_, i) => String.fromCharCode(97 + i).repeat(512 * 1024 + i));
    const echoes = big.map((text) => conn().query<{ len: number; head: string; md5: string }>('select length($1::text) as len, left($1::text, 3) as head, md5($1::text) as md5', [text]));
    const series = Array.from({ length: 8 }, (_, i) => conn().query<{ g: number }>('select g from generate_series(1, $1::int) g', [5000 + i]));
    const [echoed, rows] = await Promise.all([Promise.all(echoes), Promise.all(series)]);
    echoed.forEach((result, i) => {
      expect(result.rows[0].len).toBe(big[i].length);
      expect(result.rows[0].head).toBe(big[i].slice(0, 3));
      expect(result.rows[0].md5).toBe(createHash('md5').update(big[i]).digest('hex'));
    });
    rows.forEach((result, i) => {
      expect(result.rowCount).toBe(5000 + i);
      expect(result.rows[result.rows.length - 1]).toEqual({ g: 5000 + i });
    });
  });

  it('a backlog of results is handed over in batches of at most 1024, nothing lost or reordered', async () => {
    // the native layer reads its callbacks once: the connection is made with onResults wrapped
    const batches: number[] = [];
    const binding = native();
    const Original = binding.Connection;
    binding.Connection = class extends Original {
      constructor(callbacks: NativeCallbacks) {
        super({
          ...callbacks,
          onResults: (...items) => {
            batches.push(items.length);
            callbacks.onResults(...items);
          },
        });
      }
    };
    let running: Promise<void>;
    try {
      // withConnection() makes its connection before its first await, while the wrapper is in place
      running = withConnection(async (c) => {
        // the large result grows libpq's input buffer, so later reads take thousands of results at once
        const large = c.query<{ x: string }>("select repeat('x', 4000000) as x");
        const small = Array.from({ length: 20_000 }, (_, i) => c.query<{ n: number }>('select $1::int as n', [i]));
        expect((await large).rows[0].x.length).toBe(4_000_000);
        const results = await Promise.all(small);
        results.forEach((result, i) => expect(result.rows).toEqual([{ n: i }]));
      });
    } finally {
      binding.Connection = Original;
    }
    await running;
    expect(Math.max(...batches)).toBe(1024);
  });

  it('closing with many queries in flight rejects every one of them', async () => {
    const c = await connectTest({ autocommit: true });
    const promises = [c.query('select pg_sleep(5)'), ...Array.from({ length: 20 }, (_, i) => c.query('select $1::int', [i]))];
    await tick();
    await c.close();
    const settled = await settleAll(promises);
    for (const outcome of settled) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(errors.InterfaceError);
    }
    await expect(c.query('select 1')).rejects.toBeInstanceOf(errors.InterfaceError);
  });
});

describe('errors in a pipeline', () => {
  it('in autocommit mode a failing query fails alone', async () => {
    const texts = ['select 1 as n', 'select 2 as n', 'select 1/0 as n', 'select 4 as n', 'select $1::int as n'];
    const promises = texts.map((text, i) => conn().query(text, text.includes('$1') ? [i + 1] : undefined));
    const settled = await settleAll(promises);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((settled[2] as PromiseRejectedResult).reason).toBeInstanceOf(errors.DivisionByZero);
    expect(((settled[2] as PromiseRejectedResult).reason as errors.DatabaseError).query).toBe('select 1/0 as n');
    for (const i of [0, 1, 3, 4]) {
      expect((settled[i] as PromiseFulfilledResult<{ rows: unknown[] }>).value.rows).toEqual([{ n: i + 1 }]);
    }
    expect(conn().info.transactionStatus).toBe('idle');
  });

  it('in autocommit mode writes before and after a failure are kept', async () => {
    const table = await makeTable(conn(), 'id int primary key', { prefix: 'keep', temp: true });
    const settled = await settleAll([
      conn().query(`insert into ${table} values (1)`),
      conn().query(`insert into ${table} values (1)`),
      conn().query(`insert into ${table} values (2)`),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason).toBeInstanceOf(errors.UniqueViolation);
    const rows = await conn().query(`select id from ${table} order by id`);
    expect(rows.rows).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('many errors interleaved with successes each land on their own query', async () => {
    const promises = Array.from({ length: 60 }, (_, i) =>
      i % 3 === 1 ? conn().query('select 1/($1::int - $1::int) as n', [i]) : conn().query<{ n: number }>('select $1::int as n', [i]),
    );
    const settled = await settleAll(promises);
    settled.forEach((outcome, i) => {
      if (i % 3 === 1) {
        expect(outcome.status).toBe('rejected');
        expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(errors.DivisionByZero);
      } else {
        expect(outcome.status).toBe('fulfilled');
        expect((outcome as PromiseFulfilledResult<{ rows: unknown[] }>).value.rows).toEqual([{ n: i }]);
      }
    });
  });

  it('outside autocommit the queries after a failure fail until rollback', async () => {
    const c = await connectTest({ autocommit: false });
    try {
      const table = uniqueName('txn');
      await c.query(`create temp table ${table} (id int) on commit preserve rows`);
      await c.commit();
      const settled = await settleAll([
        c.query(`insert into ${table} values (1)`),
        c.query('select 1/0'),
        c.query('select 3 as n'),
        c.query(`insert into ${table} values (4)`),
      ]);
      expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'rejected']);
      expect((settled[1] as PromiseRejectedResult).reason).toBeInstanceOf(errors.DivisionByZero);
      for (const i of [2, 3]) {
        const reason = (settled[i] as PromiseRejectedResult).reason as errors.DatabaseError;
        expect(reason).toBeInstanceOf(errors.InFailedSqlTransaction);
        expect(reason.sqlstate).toBe('25P02');
      }
      expect(c.info.transactionStatus).toBe('inerror');
      await expect(c.query('select 5')).rejects.toBeInstanceOf(errors.InFailedSqlTransaction);
      await c.rollback();
      expect(c.info.transactionStatus).toBe('idle');
      const rows = await c.query(`select count(*)::int as n from ${table}`);
      expect(rows.rows).toEqual([{ n: 0 }]);
      await c.rollback();
    } finally {
      await c.close();
    }
  });

  it('outside autocommit a commit issued behind a failure rolls back', async () => {
    const c = await connectTest({ autocommit: false });
    try {
      const table = uniqueName('txn');
      await c.query(`create temp table ${table} (id int) on commit preserve rows`);
      await c.commit();
      const insert = c.query(`insert into ${table} values (1)`);
      const failure = c.query('select 1/0');
      const commit = c.commit();
      await insert;
      await expect(failure).rejects.toBeInstanceOf(errors.DivisionByZero);
      // COMMIT of a failed transaction is a ROLLBACK on the server
      await commit.catch(() => undefined);
      expect(c.info.transactionStatus).toBe('idle');
      const rows = await c.query(`select count(*)::int as n from ${table}`);
      expect(rows.rows).toEqual([{ n: 0 }]);
      await c.rollback();
    } finally {
      await c.close();
    }
  });

  it('a query rejected before sending does not disturb the ones around it', async () => {
    const promises = [
      conn().query('select 1 as n'),
      conn().query('select $1 as n', [Symbol('bad')]),
      conn().query('select 3 as n'),
    ];
    const settled = await settleAll(promises);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason).toBeInstanceOf(errors.ProgrammingError);
    expect((settled[0] as PromiseFulfilledResult<{ rows: unknown[] }>).value.rows).toEqual([{ n: 1 }]);
    expect((settled[2] as PromiseFulfilledResult<{ rows: unknown[] }>).value.rows).toEqual([{ n: 3 }]);
  });
});

describe('simple-protocol text among pipelined queries', () => {
  it('a multi-statement query keeps its place in the order of results', async () => {
    const table = await makeTable(conn(), 'id int', { prefix: 'mixed', temp: true });
    const order: string[] = [];
    const track = <T>(name: string, p: Promise<T>) => p.then((value) => (order.push(name), value));
    const a = track('a', conn().query(`insert into ${table} values ($1) returning id`, [1]));
    const b = track('b', conn().query(`insert into ${table} values (2); insert into ${table} values (3); select count(*)::int as n from ${table}`));
    const c = track('c', conn().query<{ n: number }>(`select count(*)::int as n from ${table}`));
    const d = track('d', conn().query(`select 4 as x; select 5 as x`));
    const e = track('e', conn().query('select $1::int as x', [6]));
    const [ra, rb, rc, rd, re] = await Promise.all([a, b, c, d, e]);
    expect(ra.rows).toEqual([{ id: 1 }]);
    expect(rb.rows).toEqual([{ n: 3 }]);
    expect(rc.rows).toEqual([{ n: 3 }]);
    expect(rd.rows).toEqual([{ x: 5 }]);
    expect(re.rows).toEqual([{ x: 6 }]);
    expect(order).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('a failing multi-statement query among pipelined ones fails alone (autocommit)', async () => {
    const settled = await settleAll([
      conn().query('select 1 as n'),
      conn().query('select 2 as n; select 1/0'),
      conn().query('select 3 as n'),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason).toBeInstanceOf(errors.DivisionByZero);
    expect((settled[2] as PromiseFulfilledResult<{ rows: unknown[] }>).value.rows).toEqual([{ n: 3 }]);
    expect(conn().info.transactionStatus).toBe('idle');
  });

  it('outside autocommit a multi-statement query joins the open transaction', async () => {
    const c = await connectTest({ autocommit: false });
    try {
      const table = uniqueName('mixed');
      const first = c.query(`create temp table ${table} (id int) on commit preserve rows`);
      const multi = c.query(`insert into ${table} values (1); insert into ${table} values (2)`);
      const count = c.query<{ n: number }>(`select count(*)::int as n from ${table}`);
      await first;
      await multi;
      expect((await count).rows).toEqual([{ n: 2 }]);
      expect(c.info.transactionStatus).toBe('intrans');
      await c.rollback();
      await expect(c.query(`select 1 from ${table}`)).rejects.toBeInstanceOf(errors.UndefinedTable);
      await c.rollback();
    } finally {
      await c.close();
    }
  });
});

describe('cursors and queries together', () => {
  it('cursor executes interleaved with conn.query resolve in order', async () => {
    const cursors = Array.from({ length: 10 }, (_, i) => conn().execute('select %s::int as n, %s::text as s', [i, `c${i}`]));
    const queries = Array.from({ length: 10 }, (_, i) => conn().query<{ n: number }>('select $1::int as n', [100 + i]));
    const [cs, qs] = await Promise.all([Promise.all(cursors), Promise.all(queries)]);
    for (let i = 0; i < 10; i++) {
      expect(await cs[i].fetchall()).toEqual([[i, `c${i}`]]);
      expect(qs[i].rows).toEqual([{ n: 100 + i }]);
    }
  });

  it('one cursor and queries alternating, each with its own results', async () => {
    const cur = conn().cursor();
    const settled = await settleAll<unknown>([
      conn().query('select 1 as n'),
      cur.execute('select generate_series(1, 3)'),
      conn().query('select 2 as n'),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect(await cur.fetchall()).toEqual([[1], [2], [3]]);
    expect((settled[2] as PromiseFulfilledResult<{ rows: unknown[] }>).value.rows).toEqual([{ n: 2 }]);
    await cur.close();
  });

  it('executemany pipelines its statements among other queries', async () => {
    const table = await makeTable(conn(), 'id int, v text', { prefix: 'many', temp: true });
    const cur = conn().cursor();
    const many = cur.executemany(
      `insert into ${table} values (%s, %s)`,
      Array.from({ length: 100 }, (_, i) => [i, `v${i}`]),
    );
    const count = conn().query<{ n: number }>(`select count(*)::int as n from ${table}`);
    await many;
    expect(cur.rowcount).toBe(100);
    expect((await count).rows).toEqual([{ n: 100 }]);
  });
});
