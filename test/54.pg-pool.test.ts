// pqnode/pg's Pool against pg-pool's contract: counts, events, release and destroy, waiting,
// timeouts, idle errors, query(), end().
import { afterEach, describe, expect, it } from 'vitest';

import pg, { Client, Pool } from '../lib/pg';
import { rejectionOf, testDsn } from './helpers';

const pools: Pool[] = [];

function pool(options: pg.PoolConfig = {}): Pool {
  const p = new Pool({ connectionString: testDsn(), ...options });
  pools.push(p);
  return p;
}

afterEach(async () => {
  for (const p of pools.splice(0)) if (!p.ending) await p.end();
});

describe('Pool', () => {
  it('hands out clients, counts them, and reuses a released one', async () => {
    const p = pool({ max: 2 });
    const events: string[] = [];
    for (const name of ['connect', 'acquire', 'release', 'remove']) p.on(name, () => events.push(name));
    const a = await p.connect();
    expect(a).toBeInstanceOf(Client);
    expect(p.totalCount).toBe(1);
    expect(p.idleCount).toBe(0);
    const pid = a.processID;
    a.release();
    expect(p.idleCount).toBe(1);
    const b = await p.connect();
    expect(b.processID).toBe(pid);
    b.release();
    expect(events).toEqual(['connect', 'acquire', 'release', 'acquire', 'release']);
    expect(p.options.max).toBe(2);
  });

  it('passes prepareThreshold to its clients: null, no statement of pool.query() is prepared', async () => {
    const p = pool({ max: 1, prepareThreshold: null });
    for (let i = 0; i < 12; i++) {
      const { rows } = await p.query<{ n: number }>('SELECT $1::int + 3 AS n', [i]);
      expect(rows).toEqual([{ n: i + 3 }]);
    }
    const { rows } = await p.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement = 'SELECT $1::int + 3 AS n'");
    expect(rows).toEqual([{ n: 0 }]);
  });

  it('throws when a client is released twice', async () => {
    const p = pool();
    const c = await p.connect();
    c.release();
    expect(() => c.release()).toThrow(/already been released/);
  });

  it('destroys a client released with an error or true', async () => {
    const p = pool();
    const removed: Client[] = [];
    p.on('remove', (client: Client) => removed.push(client));
    const a = await p.connect();
    a.release(new Error('broken'));
    const b = await p.connect();
    b.release(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(removed).toEqual([a, b]);
    expect(p.totalCount).toBe(0);
  });

  it('makes callers wait at max, and fails a wait past connectionTimeoutMillis', async () => {
    const p = pool({ max: 1, connectionTimeoutMillis: 200 });
    const held = await p.connect();
    const waiting = p.connect();
    expect(p.waitingCount).toBe(1);
    const error = await rejectionOf(waiting);
    expect(error.message).toBe('timeout exceeded when trying to connect');
    const next = p.connect();
    held.release();
    const c = await next;
    c.release();
  });

  it('runs pool.query on a pooled client, with promises and callbacks', async () => {
    const p = pool();
    const { rows } = await p.query('SELECT $1::int AS n', [7]);
    expect(rows).toEqual([{ n: 7 }]);
    const viaCallback = await new Promise<pg.Result>((resolve, reject) => p.query('SELECT 8 AS n', (error, res) => (error ? reject(error) : resolve(res))));
    expect(viaCallback.rows).toEqual([{ n: 8 }]);
    expect(p.idleCount).toBe(1);
    const error = (await rejectionOf(p.query('SELECT 1/0'))) as pg.DatabaseError;
    expect(error.code).toBe('22012');
  });

  it('serves many concurrent queries through a small pool', async () => {
    const p = pool({ max: 4 });
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => p.query('SELECT $1::int AS i, pg_backend_pid() AS pid', [i])));
    expect(results.map((r) => r.rows[0].i)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(new Set(results.map((r) => r.rows[0].pid)).size).toBeLessThanOrEqual(4);
    expect(p.totalCount).toBeLessThanOrEqual(4);
  });

  it('removes an idle client whose connection dies and emits error', async () => {
    const p = pool();
    const c = await p.connect();
    const pid = c.processID;
    c.release();
    const errored = new Promise<[Error, Client]>((resolve) => p.once('error', (error: Error, client: Client) => resolve([error, client])));
    const other = new Client(testDsn());
    await other.connect();
    await other.query('SELECT pg_terminate_backend($1)', [pid]);
    await other.end();
    const [error, client] = await errored;
    expect(error).toBeInstanceOf(Error);
    expect(client.processID).toBe(pid);
    expect(p.totalCount).toBe(0);
    expect((await p.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
  });

  it('closes idle clients after idleTimeoutMillis', async () => {
    const p = pool({ idleTimeoutMillis: 50 });
    const c = await p.connect();
    c.release();
    expect(p.totalCount).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(p.totalCount).toBe(0);
  });

  it('ends once, refusing connects after', async () => {
    const p = pool();
    await p.query('SELECT 1');
    await p.end();
    expect(p.ended).toBe(true);
    expect((await rejectionOf(p.connect())).message).toMatch(/after calling end/);
    expect((await rejectionOf(p.end())).message).toMatch(/more than once/);
  });

  it('calls back connect with the client and its release', async () => {
    const p = pool();
    await new Promise<void>((resolve, reject) =>
      p.connect((error, client, release) => {
        if (error || client === undefined) return reject(error);
        client.query('SELECT 1 AS one').then((res) => {
          expect(res.rows).toEqual([{ one: 1 }]);
          release();
          resolve();
        }, reject);
      }),
    );
  });

  it('is a class named Pool that instanceof sees, as Drizzle checks', () => {
    const p = pool();
    expect(p).toBeInstanceOf(pg.Pool);
    expect(Object.getPrototypeOf(p).constructor.name).toContain('Pool');
  });
});
