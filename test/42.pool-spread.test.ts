// Where pool.query() statements run: on a connection of their own while the pool has one
// idle or can still open one; pipelined on a busy connection only once the pool is at max,
// and then on the one with the fewest statements in flight.
import { describe, expect, it } from 'vitest';
import { errors, Pool } from '../lib';
import { until } from './fault-helpers';
import { connectTest, poolsClosedAfterEach } from './helpers';


const makePool = poolsClosedAfterEach({ timeout: 10 });

/** How many of the statements ran on each backend, and the pool's largest size meanwhile. */
async function burst(pool: Pool, count: number, text: string): Promise<{ perBackend: Map<number, number>; largestSize: number }> {
  const perBackend = new Map<number, number>();
  let largestSize = pool.stats().poolSize;
  const statements = Array.from({ length: count }, () => {
    largestSize = Math.max(largestSize, pool.stats().poolSize);
    return pool.query<{ pid: number }>(text).then((result) => {
      largestSize = Math.max(largestSize, pool.stats().poolSize);
      const pid = result.rows[0].pid;
      perBackend.set(pid, (perBackend.get(pid) ?? 0) + 1);
    });
  });
  await Promise.all(statements);
  return { perBackend, largestSize };
}

describe('pool.query() on a pool that can still grow', () => {
  it('twenty pg_sleep(0.1) on a cold pool of max 5: five backends, four statements each', async () => {
    const pool = makePool({ min: 1, max: 5 });
    const started = Date.now();
    const { perBackend, largestSize } = await burst(pool, 20, 'select pg_backend_pid() as pid, pg_sleep(0.1)');
    const elapsed = Date.now() - started;
    expect(perBackend.size).toBe(5);
    // each backend runs its statements one after another: at most four waited behind each other
    expect(Math.max(...perBackend.values())).toBe(4);
    expect(largestSize).toBeLessThanOrEqual(5);
    expect(pool.stats()).toMatchObject({ connectionsNum: 5, poolSize: 5, requestsNum: 20, requestsErrors: 0, requestsWaiting: 0 });
    expect(await until(() => pool.stats().poolAvailable === 5)).toBe(true);
    // one backend would take 2 s; five take 0.4 s and the time to connect
    expect(elapsed).toBeLessThan(1500);
  });

  it('200 statements at once on a cold pool of max 5 use the five connections, never more', async () => {
    const pool = makePool({ min: 1, max: 5 });
    // 5 ms each: a share of 40 outlasts the time the other connections take to open
    const { perBackend, largestSize } = await burst(pool, 200, 'select pg_backend_pid() as pid, pg_sleep(0.005)');
    // a connection that finished its share early takes more of what is left: spread, not exact
    expect(perBackend.size).toBeGreaterThanOrEqual(4);
    expect(Math.max(...perBackend.values())).toBeLessThanOrEqual(80);
    expect(largestSize).toBeLessThanOrEqual(5);
    // the last connection may still be on its way when the statements are done
    expect(await until(() => pool.stats().poolAvailable === 5)).toBe(true);
    expect(pool.stats()).toMatchObject({ connectionsNum: 5, poolSize: 5, requestsErrors: 0, returnsBad: 0 });
  });

  it('opens a connection for a statement instead of pipelining it behind a slow one', async () => {
    const pool = makePool({ min: 1, max: 3 });
    await pool.wait(5);
    const order: string[] = [];
    const slow = pool.query<{ pid: number }>('select pg_backend_pid() as pid, pg_sleep(0.3)').then((result) => {
      order.push('slow');
      return result.rows[0].pid;
    });
    const quick = pool.query<{ pid: number }>('select pg_backend_pid() as pid').then((result) => {
      order.push('quick');
      return result.rows[0].pid;
    });
    const [slowPid, quickPid] = await Promise.all([slow, quick]);
    expect(quickPid).not.toBe(slowPid);
    expect(order).toEqual(['quick', 'slow']);
    expect(pool.stats()).toMatchObject({ connectionsNum: 2, poolSize: 2 });
  });

  it('takes an idle connection rather than a busy one', async () => {
    const pool = makePool({ min: 2, max: 2 });
    await pool.wait(5);
    const slow = pool.query<{ pid: number }>('select pg_backend_pid() as pid, pg_sleep(0.3)');
    const quick = await pool.query<{ pid: number }>('select pg_backend_pid() as pid');
    expect(quick.rows[0].pid).not.toBe((await slow).rows[0].pid);
  });

  it('counts connections being opened toward max', async () => {
    const pool = makePool({ min: 0, max: 2 });
    const { perBackend, largestSize } = await burst(pool, 10, 'select pg_backend_pid() as pid, pg_sleep(0.05)');
    expect(largestSize).toBeLessThanOrEqual(2);
    expect(pool.stats().connectionsNum).toBe(2);
    expect([...perBackend.values()]).toEqual([5, 5]);
  });
});

describe('pool.query() on a pool at max', () => {
  it('pipelines on the connection with the fewest statements in flight', async () => {
    const pool = makePool({ min: 2, max: 2 });
    await pool.wait(5);
    const held = await pool.acquire();
    const heldPid = held.info.backendPid;
    // one connection left: three statements share it
    const first = Array.from({ length: 3 }, () => pool.query<{ pid: number }>('select pg_backend_pid() as pid, pg_sleep(0.3)'));
    await pool.release(held);
    // the one just returned has nothing in flight: the next statements go there until it has as many
    const next = Array.from({ length: 4 }, () => pool.query<{ pid: number }>('select pg_backend_pid() as pid'));
    const firstPids = (await Promise.all(first)).map((result) => result.rows[0].pid);
    const nextPids = (await Promise.all(next)).map((result) => result.rows[0].pid);
    expect(new Set(firstPids).size).toBe(1);
    expect(firstPids[0]).not.toBe(heldPid);
    expect(nextPids.slice(0, 3)).toEqual([heldPid, heldPid, heldPid]);
    expect(pool.stats()).toMatchObject({ connectionsNum: 2, requestsErrors: 0 });
  });

  it('spreads statements that waited for connections being opened over all of them', async () => {
    const pool = makePool({ min: 0, max: 3 });
    const { perBackend } = await burst(pool, 30, 'select pg_backend_pid() as pid, pg_sleep(0.02)');
    expect([...perBackend.values()].sort()).toEqual([10, 10, 10]);
  });
});

describe('pool.query(): fast statements are not pipelined behind slow ones', () => {
  const SLOW = 'select pg_backend_pid() as pid, pg_sleep(0.2)';
  const FAST = 'select pg_backend_pid() as pid';
  const pidOf = (result: { rows: { pid: number }[] }) => result.rows[0].pid;

  /** A text that sleeps as long as its parameter says: slow or fast by what it ran before. */
  const SLEEP = 'select pg_backend_pid() as pid, pg_sleep($1::float8)';

  /** `pool` once open and having run `slow` (with `params`) and FAST twice each: it knows which is slow. */
  async function taught(pool: Pool, slow = SLOW, params?: unknown[]): Promise<Pool> {
    await pool.wait(5);
    for (let run = 0; run < 2; run++) {
      await pool.query(slow, params);
      await pool.query(FAST);
    }
    return pool;
  }

  /** A pool of two at max that has seen SLOW and FAST run twice each. */
  function poolThatKnowsSlow(options = {}): Promise<Pool> {
    return taught(makePool({ min: 2, max: 2, ...options }));
  }

  it('serves fast statements on the other connection while one runs a statement known to be slow', async () => {
    const pool = await poolThatKnowsSlow();
    const order: string[] = [];
    const slow = pool.query<{ pid: number }>(SLOW).then((result) => (order.push('slow'), pidOf(result)));
    // more than the connections: with the fewest in flight alone, some would land behind the sleep
    const fast = Array.from({ length: 6 }, () => pool.query<{ pid: number }>(FAST).then((result) => (order.push('fast'), pidOf(result))));
    const slowPid = await slow;
    const fastPids = await Promise.all(fast);
    expect(fastPids.every((pid) => pid !== slowPid)).toBe(true);
    expect(order.indexOf('slow')).toBe(order.length - 1);
  });

  it('serves fast statements elsewhere once a connection has been busy past slowThreshold, even with a text never seen', async () => {
    const pool = makePool({ min: 2, max: 2 });
    await pool.wait(5);
    const slow = pool.query<{ pid: number }>('select pg_backend_pid() as pid, pg_sleep(0.4)');
    // generous next to the 2 ms threshold; well inside the sleep
    await new Promise((resolve) => setTimeout(resolve, 100));
    const fastPids = await Promise.all(Array.from({ length: 6 }, () => pool.query<{ pid: number }>(FAST).then(pidOf)));
    const slowPid = pidOf(await slow);
    expect(fastPids.every((pid) => pid !== slowPid)).toBe(true);
  });

  it('keeps the last connection free of slow ones for the fast statements until another is about to be free', async () => {
    const pool = await poolThatKnowsSlow();
    const order: string[] = [];
    const started = performance.now();
    const firstSlow = pool.query<{ pid: number }>(SLOW).then((result) => (order.push('slow 1'), pidOf(result)));
    const secondSlow = pool.query<{ pid: number }>(SLOW).then((result) => (order.push('slow 2'), pidOf(result)));
    const fast = pool.query<{ pid: number }>(FAST).then((result) => (order.push('fast'), pidOf(result)));
    const [first, second, fastPid] = await Promise.all([firstSlow, secondSlow, fast]);
    // the fast statement did not wait behind either sleep
    expect(order).toEqual(['fast', 'slow 1', 'slow 2']);
    expect(fastPid).not.toBe(first);
    // the second waited in the pool, not behind the first: it ran on the other connection,
    // sent as the first was about to end
    expect(second).not.toBe(first);
    expect(performance.now() - started).toBeGreaterThanOrEqual(380);
  });

  it('places a fast statement behind the slow one that ends first when every connection runs one', async () => {
    // a threshold of 50 ms: the second sleep is sent 100 ms before the first ends, time
    // enough to see both running even on a busy machine
    const LONG = 'select pg_backend_pid() as pid, pg_sleep(0.3)';
    const pool = await taught(makePool({ min: 2, max: 2, slowThreshold: 0.05 }), LONG);
    const observer = await connectTest({ autocommit: true });
    try {
      const firstSlow = pool.query<{ pid: number }>(LONG).then(pidOf);
      const secondSlow = pool.query<{ pid: number }>(LONG).then(pidOf);
      const bothRunning = async () =>
        (await observer.query<{ n: number }>("select count(*)::int as n from pg_stat_activity where query = $1 and state = 'active'", [LONG])).rows[0].n === 2;
      expect(await until(bothRunning, 3000, 5)).toBe(true);
      const asked = performance.now();
      const fastPid = await pool.query<{ pid: number }>(FAST).then(pidOf);
      const waited = performance.now() - asked;
      const [first, second] = await Promise.all([firstSlow, secondSlow]);
      expect(second).not.toBe(first);
      // behind the first (at most 100 ms from its end), not the second (a whole sleep)
      expect(fastPid).toBe(first);
      expect(waited).toBeLessThan(200);
    } finally {
      await observer.close();
    }
  });

  it('fails the slow statements waiting in the pool with PoolClosed when the pool closes', async () => {
    const pool = await taught(makePool({ min: 1, max: 1 }));
    const running = pool.query(SLOW);
    // the only connection runs a slow statement while fast ones are being run: this one waits
    const waiting = pool.query(SLOW);
    const closing = pool.close(5);
    await expect(waiting).rejects.toBeInstanceOf(errors.PoolClosed);
    await expect(running).resolves.toBeDefined();
    await closing;
    expect(pool.stats().requestsErrors).toBe(1);
  });

  it('runs a slow statement waiting in the pool when the connection it waited for is lost', async () => {
    const pool = await poolThatKnowsSlow();
    const observer = await connectTest({ autocommit: true });
    try {
      const running = pool.query<{ pid: number }>(SLOW);
      // it fails when its backend is terminated, maybe before the check below is attached
      running.catch(() => undefined);
      // waits in the pool: the other connection is the last free of slow statements
      const waiting = pool.query<{ pid: number }>(SLOW).then(pidOf);
      const sleeping = async () =>
        (await observer.query<{ pid: number }>("select pid from pg_stat_activity where query = $1 and state = 'active'", [SLOW])).rows;
      expect(await until(async () => (await sleeping()).length === 1, 3000, 5)).toBe(true);
      const [{ pid: lostPid }] = await sleeping();
      await observer.query('select pg_terminate_backend($1)', [lostPid]);
      await expect(running).rejects.toBeInstanceOf(errors.OperationalError);
      const started = performance.now();
      const pid = await waiting;
      expect(pid).not.toBe(lostPid);
      expect(performance.now() - started).toBeLessThan(2000);
    } finally {
      await observer.close();
    }
  });

  it('on a pool of one, slow and fast statements issued together all run', async () => {
    const SHORT = 'select pg_backend_pid() as pid, pg_sleep(0.05)';
    const pool = await taught(makePool({ min: 1, max: 1 }), SHORT);
    const started = performance.now();
    const statements = Array.from({ length: 12 }, (_, i) => pool.query(i % 4 === 0 ? SHORT : FAST));
    const results = await Promise.all(statements);
    expect(results).toHaveLength(12);
    // the three sleeps one after another, nothing waiting on nothing
    expect(performance.now() - started).toBeLessThan(1500);
    expect(pool.stats()).toMatchObject({ requestsErrors: 0, poolSize: 1 });
  });

  it('keeps fast statements out from behind slow ones when the pool checks its connections', async () => {
    const pool = await poolThatKnowsSlow({ check: Pool.checkConnection });
    const slows = [pool.query(SLOW)];
    await new Promise((resolve) => setTimeout(resolve, 20));
    slows.push(pool.query(SLOW), pool.query(SLOW));
    const waits: number[] = [];
    const until = performance.now() + 450;
    while (performance.now() < until) {
      const asked = performance.now();
      await pool.query(FAST);
      waits.push(performance.now() - asked);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await Promise.all(slows);
    // a sleep is 200 ms: none of the fast statements waited one out
    expect(Math.max(...waits)).toBeLessThan(150);
  });

  it('runs a waiting slow statement on a free connection once no fast statement has run for a second', async () => {
    // SLEEP known to take 10 ms
    const pool = await taught(makePool({ min: 2, max: 2 }), SLEEP, [0.01]);
    // known to take 10 ms; this time 2.5 s, on one connection
    const long = pool.query<{ pid: number }>(SLEEP, [2.5]).then(pidOf);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // the fast statements' claim runs a second from when the last one was placed
    const lastFast = performance.now();
    await pool.query(FAST);
    const pid = await pool.query<{ pid: number }>(SLEEP, [0.01]).then(pidOf);
    const waited = performance.now() - lastFast;
    // it waited for that claim to lapse, not for the long one
    expect(waited).toBeGreaterThanOrEqual(990);
    expect(waited).toBeLessThan(2300);
    expect(pid).not.toBe(await long);
  });

  it('fails a slow statement that waited in the pool past its timeout with PoolTimeout, counted as waiting meanwhile', async () => {
    // SLEEP known to take 10 ms
    const pool = await taught(makePool({ min: 2, max: 2, timeout: 0.3 }), SLEEP, [0.01]);
    const long = pool.query(SLEEP, [1.5]);
    // fast statements keep their claim on the other connection
    let fastRunning = true;
    const fastLoop = (async () => {
      while (fastRunning) {
        await pool.query(FAST);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 30));
    const waiting = pool.query(SLEEP, [0.01]);
    waiting.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(pool.stats().requestsWaiting).toBe(1);
    await expect(waiting).rejects.toBeInstanceOf(errors.PoolTimeout);
    expect(pool.stats().requestsWaiting).toBe(0);
    fastRunning = false;
    await fastLoop;
    await long;
  });

  it('counts a slow statement waiting in the pool against maxWaiting, and gives it no more than its timeout', async () => {
    // SLEEP known to take 10 ms
    const pool = await taught(makePool({ min: 2, max: 2, timeout: 0.4, maxWaiting: 1 }), SLEEP, [0.01]);
    const long = pool.query(SLEEP, [1.2]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await pool.query(FAST);
    const asked = performance.now();
    // the other connection is the last free of slow statements: this one waits in the pool
    const waiting = pool.query(SLEEP, [0.01]);
    waiting.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(pool.stats().requestsWaiting).toBe(1);
    // a caller takes that connection; another one would wait, one too many
    const held = await pool.acquire();
    await expect(pool.acquire()).rejects.toBeInstanceOf(errors.TooManyRequests);
    // the pool changes while the slow statement waits: it still fails at its own deadline
    pool.resize(2, 2);
    await expect(waiting).rejects.toBeInstanceOf(errors.PoolTimeout);
    expect(performance.now() - asked).toBeLessThan(650);
    await pool.release(held);
    await long;
  });

  it('does not spread fast statements waiting for a connection being opened behind a slow one', async () => {
    const pool = await taught(makePool({ min: 1, max: 2 }));
    expect(pool.stats().poolSize).toBe(1);
    const slowPid = pool.query<{ pid: number }>(SLOW).then(pidOf);
    // the pool opens its second connection for these; they wait for it, not behind the sleep
    const asked = performance.now();
    const fast = await Promise.all(
      Array.from({ length: 4 }, () => pool.query<{ pid: number }>(FAST).then((result) => ({ pid: pidOf(result), waited: performance.now() - asked }))),
    );
    const slow = await slowPid;
    expect(fast.every(({ pid }) => pid !== slow)).toBe(true);
    expect(Math.max(...fast.map(({ waited }) => waited))).toBeLessThan(150);
  });

  it('with slowThreshold 0, places statements by the number in flight alone', async () => {
    const pool = await poolThatKnowsSlow({ slowThreshold: 0 });
    const slowPids = [pool.query<{ pid: number }>(SLOW).then(pidOf), pool.query<{ pid: number }>(SLOW).then(pidOf)];
    const [first, second] = await Promise.all(slowPids);
    expect(second).not.toBe(first);
  });

  it('runs slow statements on every connection when no fast ones have run for a while', async () => {
    const pool = await poolThatKnowsSlow();
    // the fast statements' claim on a connection lapses after a second
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const [first, second] = await Promise.all([pool.query<{ pid: number }>(SLOW).then(pidOf), pool.query<{ pid: number }>(SLOW).then(pidOf)]);
    expect(second).not.toBe(first);
  });
});
