// pool.query()'s AbortSignal while the statement still waits for a connection: among callers
// in line, or in the pool's line of slow statements. It must leave at once, free its place
// (requestsWaiting, maxWaiting) and never run.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { errors, Pool, type Connection } from '../lib';
import { poolsClosedAfterEach } from './helpers';

const makePool = poolsClosedAfterEach({ timeout: 30 });
const MARK = "select set_config('pqnode.aborted_ran', 'yes', false)";
const RAN = "select current_setting('pqnode.aborted_ran', true) as ran";

/** Gives `held` back, then checks on the pool's only connection that MARK never ran there. */
async function expectNeverRan(pool: Pool, held: Connection): Promise<void> {
  await pool.release(held);
  const { rows } = await pool.query<{ ran: string | null }>(RAN);
  expect(rows[0].ran ?? '').toBe('');
}

describe('pool.query() aborted while it waits for a connection', () => {
  it('leaves the callers’ line at once, with the signal’s reason, and never runs', async () => {
    const pool = makePool({ min: 1, max: 1 });
    const held = await pool.acquire();
    const controller = new AbortController();
    const waiting = pool.query(MARK, [], { signal: controller.signal });
    expect(pool.stats().requestsWaiting).toBe(1);
    const reason = new Error('the caller gave up');
    controller.abort(reason);
    // settles while the only connection is still held: it did not wait for it
    await expect(waiting).rejects.toBe(reason);
    expect(pool.stats()).toMatchObject({ requestsWaiting: 0, requestsErrors: 1 });
    await expectNeverRan(pool, held);
  });

  it('fails with QueryCanceledError when the reason is no Error, as a statement aborted on its connection does', async () => {
    const pool = makePool({ min: 1, max: 1 });
    const held = await pool.acquire();
    const controller = new AbortController();
    const waiting = pool.query('select 1', [], { signal: controller.signal });
    controller.abort('stop');
    await expect(waiting).rejects.toBeInstanceOf(errors.QueryCanceledError);
    await pool.release(held);
  });

  it('fails at once when the signal has aborted already and the statement would wait', async () => {
    const pool = makePool({ min: 1, max: 1 });
    const held = await pool.acquire();
    const waiting = pool.query(MARK, [], { signal: AbortSignal.abort('too late') });
    await expect(waiting).rejects.toBeInstanceOf(errors.QueryCanceledError);
    expect(pool.stats().requestsWaiting).toBe(0);
    await expectNeverRan(pool, held);
  });

  it('gives its place back to maxWaiting', async () => {
    const pool = makePool({ min: 1, max: 1, maxWaiting: 1 });
    const held = await pool.acquire();
    const controller = new AbortController();
    const aborted = pool.query('select 1', [], { signal: controller.signal });
    await expect(pool.query('select 2')).rejects.toBeInstanceOf(errors.TooManyRequests);
    controller.abort();
    await expect(aborted).rejects.toThrow();
    const next = pool.query<{ n: number }>('select 3 as n');
    expect(pool.stats().requestsWaiting).toBe(1);
    await pool.release(held);
    expect((await next).rows[0].n).toBe(3);
  });

  it('leaves the line at once for a text that needs a connection of its own', async () => {
    const pool = makePool({ min: 1, max: 1 });
    const held = await pool.acquire();
    const controller = new AbortController();
    // two statements in one text never share a connection
    const waiting = pool.query(`${MARK}; select 1`, [], { signal: controller.signal });
    expect(pool.stats().requestsWaiting).toBe(1);
    controller.abort('stop');
    await expect(waiting).rejects.toBeInstanceOf(errors.QueryCanceledError);
    expect(pool.stats().requestsWaiting).toBe(0);
    await expectNeverRan(pool, held);
  });

  it('fails with QueryCanceledError when the signal had aborted and a connection was free', async () => {
    const pool = makePool({ min: 1, max: 1 });
    await pool.wait(5);
    await expect(pool.query('select 1', [], { signal: AbortSignal.abort('stop') })).rejects.toBeInstanceOf(errors.QueryCanceledError);
    expect(pool.stats().requestsWaiting).toBe(0);
  });

  it('ends every statement waiting on one signal alike', async () => {
    const pool = makePool({ min: 1, max: 2 });
    await pool.wait(5);
    const held = await pool.acquire();
    // the second connection is being opened when they come: the first waits for it, the
    // others behind it may be spread onto it as it arrives
    const controller = new AbortController();
    const statements = [1, 2, 3].map((n) => pool.query('select $1::int as n', [n], { signal: controller.signal }));
    controller.abort('stop');
    const outcomes = await Promise.allSettled(statements);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(errors.QueryCanceledError);
    }
    expect(pool.stats().requestsWaiting).toBe(0);
    await pool.release(held);
  });

  it('lets the statements behind it in line go on', async () => {
    const pool = makePool({ min: 1, max: 1 });
    const held = await pool.acquire();
    const controller = new AbortController();
    const first = pool.query('select 1', [], { signal: controller.signal });
    const second = pool.query<{ n: number }>('select 2 as n');
    controller.abort();
    await expect(first).rejects.toThrow();
    expect(pool.stats().requestsWaiting).toBe(1);
    await pool.release(held);
    expect((await second).rows[0].n).toBe(2);
    expect(pool.stats().requestsWaiting).toBe(0);
  });
});

describe('pool.query() aborted while it waits in the line of slow statements', () => {
  const SLOW = 'select pg_backend_pid() as pid, pg_sleep(0.2)';
  const FAST = 'select pg_backend_pid() as pid';

  /** A pool of two that knows SLOW is slow, with fast statements just run. */
  async function taught(): Promise<Pool> {
    const pool = makePool({ min: 2, max: 2 });
    await pool.wait(5);
    for (let run = 0; run < 2; run++) {
      await pool.query(SLOW);
      await pool.query(FAST);
    }
    return pool;
  }

  it('leaves the line at once, and the one behind it still runs', async () => {
    const pool = await taught();
    const running = pool.query(SLOW);
    // one connection left free of slow statements, the running one far from its end: these wait
    const controller = new AbortController();
    const head = pool.query(SLOW, [], { signal: controller.signal });
    const behind = pool.query(SLOW);
    expect(pool.stats().requestsWaiting).toBe(2);
    controller.abort('no longer needed');
    await expect(head).rejects.toBeInstanceOf(errors.QueryCanceledError);
    expect(pool.stats().requestsWaiting).toBe(1);
    await running;
    await behind;
    expect(pool.stats().requestsWaiting).toBe(0);
  });

  it('leaves the line at once from its middle', async () => {
    const pool = await taught();
    const running = pool.query(SLOW);
    const head = pool.query(SLOW);
    const controller = new AbortController();
    const middle = pool.query(SLOW, [], { signal: controller.signal });
    const last = pool.query(SLOW);
    expect(pool.stats().requestsWaiting).toBe(3);
    controller.abort();
    await expect(middle).rejects.toThrow();
    expect(pool.stats().requestsWaiting).toBe(2);
    await Promise.all([running, head, last]);
    expect(pool.stats()).toMatchObject({ requestsWaiting: 0, requestsErrors: 1 });
  });

  it('does not make a fast text slow by runs its signal ended while they waited behind a slow one', async () => {
    const pool = makePool({ min: 1, max: 1 });
    await pool.wait(5);
    for (let run = 0; run < 2; run++) {
      await pool.query(SLOW);
      await pool.query(FAST);
    }
    for (let run = 0; run < 2; run++) {
      const slow = pool.query(SLOW);
      await new Promise((resolve) => setTimeout(resolve, 5));
      // pipelined behind the sleep, ended before it ran
      await expect(pool.query(FAST, [], { signal: AbortSignal.timeout(50) })).rejects.toThrow();
      await slow;
    }
    pool.resize(2, 2);
    await pool.wait(5);
    const running = pool.query(SLOW);
    // still fast: it takes the idle connection rather than wait in the pool's line
    const next = pool.query(FAST);
    expect(pool.stats().requestsWaiting).toBe(0);
    await Promise.all([running, next]);
  });

  it('does not make a slow text fast by a run its signal kept from being sent', async () => {
    const pool = await taught();
    await expect(pool.query(SLOW, [], { signal: AbortSignal.abort() })).rejects.toThrow();
    await pool.query(FAST);
    const running = pool.query(SLOW);
    const next = pool.query(SLOW);
    // still slow: the second waits in the pool's line rather than run beside the first
    expect(pool.stats().requestsWaiting).toBe(1);
    await Promise.all([running, next]);
  });
});

describe('pool.acquire() and pool.connection() with a signal', () => {
  it('acquire() leaves the line at once when its signal aborts', async () => {
    const pool = makePool({ min: 1, max: 1 });
    const held = await pool.acquire();
    const controller = new AbortController();
    const waiting = pool.acquire({ signal: controller.signal });
    expect(pool.stats().requestsWaiting).toBe(1);
    const reason = new Error('request timed out');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect(pool.stats()).toMatchObject({ requestsWaiting: 0, requestsErrors: 1 });
    await pool.release(held);
    // the connection went back to the pool, not to the caller that gave up
    expect(pool.stats().poolAvailable).toBe(1);
  });

  it('acquire() with a signal aborted already takes no connection, even an idle one', async () => {
    const pool = makePool({ min: 1, max: 1 });
    await pool.wait(5);
    await expect(pool.acquire({ signal: AbortSignal.abort('gone') })).rejects.toBeInstanceOf(errors.QueryCanceledError);
    expect(pool.stats()).toMatchObject({ poolAvailable: 1, requestsWaiting: 0 });
  });

  it('acquire() with a signal that never aborts works as without one, and leaves no listener behind', async () => {
    const pool = makePool({ min: 1, max: 1 });
    const controller = new AbortController();
    for (let round = 0; round < 3; round++) {
      const held = await pool.acquire();
      const waiting = pool.acquire({ signal: controller.signal });
      expect(EventEmitter.getEventListeners(controller.signal, 'abort')).toHaveLength(1);
      await pool.release(held);
      await pool.release(await waiting);
      expect(EventEmitter.getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    }
  });

  it('connection() gives up waiting as its signal aborts, and never calls its function', async () => {
    const pool = makePool({ min: 1, max: 1 });
    const held = await pool.acquire();
    const controller = new AbortController();
    let called = false;
    const waiting = pool.connection(() => {
      called = true;
    }, { signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toThrow();
    expect(called).toBe(false);
    await pool.release(held);
  });

  it('refuses what is not an AbortSignal with a TypeError that says so', async () => {
    const pool = makePool({ min: 1, max: 1 });
    for (const signal of ['stop', 5, null, { aborted: false }]) {
      await expect(pool.acquire({ signal: signal as unknown as AbortSignal })).rejects.toThrow(/signal must be an AbortSignal/);
      await expect(pool.query('select 1', [], { signal: signal as unknown as AbortSignal })).rejects.toThrow(/signal must be an AbortSignal/);
    }
    expect(pool.stats().requestsWaiting).toBe(0);
  });
});

