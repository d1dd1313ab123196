// The pool's line of slow statements, watched from inside: each pool.query() statement's
// send is recorded with what was already in flight on its connection, to check that no
// slow statement is ever sent behind another while fast statements run.
import { describe, expect, it, vi } from 'vitest';
import { Pool } from '../lib';
import { poolsClosedAfterEach } from './helpers';

interface Sent {
  text: string;
  pid: number;
  ahead: string[];
}

const sent: Sent[] = [];
const inFlight = new Map<number, string[]>();

vi.mock('../lib/run-query', async (importOriginal) => {
  const original = await importOriginal<typeof import('../lib/run-query')>();
  return {
    ...original,
    runQuery: (...args: Parameters<typeof original.runQuery>) => {
      const [, conn, text] = args;
      const pid = conn.info.backendPid;
      const list = inFlight.get(pid) ?? [];
      inFlight.set(pid, list);
      sent.push({ text: String(text), pid, ahead: [...list] });
      list.push(String(text));
      const running = original.runQuery(...args);
      const done = () => void list.splice(list.indexOf(String(text)), 1);
      running.then(done, done);
      return running;
    },
  };
});

const makePool = poolsClosedAfterEach({ timeout: 10 });
const SLOW = 'select pg_backend_pid() as pid, pg_sleep(0.1)';
const FAST = 'select pg_backend_pid() as pid';
/** slow as well, for as long as it is told */
const SLEEP = 'select pg_backend_pid() as pid, pg_sleep($1)';
const SLOW_TEXTS = [SLOW, SLEEP];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs FAST one after another, `pauseMs` apart, until the function it returns is called. */
function fastDemand(pool: Pool, pauseMs: number): () => Promise<void> {
  let stop = false;
  const running = (async () => {
    while (!stop) {
      await pool.query(FAST);
      await sleep(pauseMs);
    }
  })();
  return async () => {
    stop = true;
    await running;
  };
}

/** A pool that has run SLOW and FAST twice each: it knows which is slow. */
async function taught(pool: Pool): Promise<Pool> {
  await pool.wait(5);
  for (let run = 0; run < 2; run++) {
    await pool.query(SLOW);
    await pool.query(FAST);
  }
  return pool;
}

/** The slow statements sent from `from` on with another slow one in flight on their connection. */
function slowBehindSlow(from: number): Sent[] {
  return sent.slice(from).filter((s) => SLOW_TEXTS.includes(s.text) && s.ahead.some((text) => SLOW_TEXTS.includes(text)));
}

describe('pool.query(): the line of slow statements', () => {
  it('lets one slow statement at a time out onto a connection being opened', async () => {
    const pool = await taught(makePool({ min: 1, max: 2 }));
    expect(pool.stats().poolSize).toBe(1);
    const from = sent.length;
    await Promise.all(Array.from({ length: 4 }, () => pool.query(SLOW)));
    expect(sent.slice(from).filter((s) => s.text === SLOW)).toHaveLength(4);
    expect(slowBehindSlow(from)).toEqual([]);
  });

  for (const variant of ['checked', 'traced'] as const) {
    it(`sends no slow statement behind another when the pool's connections are ${variant}`, async () => {
      let unsubscribe = () => {};
      if (variant === 'traced') {
        const { tracingChannel } = await import('node:diagnostics_channel');
        const channel = tracingChannel('pqnode:pool:acquire');
        const handlers = { start() {}, end() {}, asyncStart() {}, asyncEnd() {}, error() {} };
        channel.subscribe(handlers);
        unsubscribe = () => channel.unsubscribe(handlers);
      }
      try {
        const pool = await taught(makePool({ min: 2, max: 2, ...(variant === 'checked' ? { check: Pool.checkConnection } : {}) }));
        const from = sent.length;
        const slows = [pool.query(SLOW)];
        await new Promise((resolve) => setTimeout(resolve, 20));
        slows.push(pool.query(SLOW), pool.query(SLOW));
        const ends = performance.now() + 400;
        while (performance.now() < ends) {
          await pool.query(FAST);
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
        await Promise.all(slows);
        expect(slowBehindSlow(from)).toEqual([]);
      } finally {
        unsubscribe();
      }
    });
  }

  it('sends no slow statement behind another when it came while a caller waited for a connection', async () => {
    const pool = await taught(makePool({ min: 2, max: 2 }));
    const from = sent.length;
    const held = await pool.acquire();
    const first = pool.query(SLOW);
    // a caller waits: the slow statements after it go through the callers' line
    const waiting = pool.acquire();
    const slows = [first, pool.query(SLOW), pool.query(SLOW)];
    const stopFast = fastDemand(pool, 2);
    await sleep(10);
    await pool.release(held);
    await pool.release(await waiting);
    await Promise.all(slows);
    await stopFast();
    expect(slowBehindSlow(from)).toEqual([]);
  });

  it('sends no slow statement behind another when a fast one waited for a connection being opened', async () => {
    const pool = await taught(makePool({ min: 1, max: 2 }));
    expect(pool.stats().poolSize).toBe(1);
    const from = sent.length;
    await Promise.all([pool.query(SLOW), pool.query(FAST), pool.query(SLOW), pool.query(SLOW)]);
    expect(sent.slice(from).filter((s) => s.text === SLOW)).toHaveLength(3);
    expect(slowBehindSlow(from)).toEqual([]);
  });

  it('counts fast statements that waited among callers as fast ones being run', async () => {
    const pool = await taught(makePool({ min: 2, max: 2 }));
    // taught to last 0.1 s, then run for 1.3: a long statement on one connection
    for (let run = 0; run < 2; run++) await pool.query(SLEEP, [0.1]);
    await pool.query(FAST);
    const from = sent.length;
    const long = pool.query(SLEEP, [1.3]);
    const held = await pool.acquire();
    const slows = [pool.query(SLOW), pool.query(SLOW), pool.query(SLOW)];
    const waiting = pool.acquire();
    // for more than a second every fast statement goes through the callers' line
    const stopFast = fastDemand(pool, 50);
    await sleep(1200);
    expect(pool.stats().requestsWaiting).toBeGreaterThanOrEqual(4);
    await pool.release(held);
    await pool.release(await waiting);
    await Promise.all([long, ...slows]);
    await stopFast();
    expect(sent.slice(from).filter((s) => s.text === SLOW)).toHaveLength(3);
    expect(slowBehindSlow(from)).toEqual([]);
  });

  /** The slow texts that were in flight on the connection of the first FAST sent from `from` on. */
  function slowAheadOfFast(from: number): string[] | undefined {
    return sent
      .slice(from)
      .find((s) => s.text === FAST)
      ?.ahead.filter((text) => SLOW_TEXTS.includes(text));
  }

  /**
   * On a pool of one connection that may open a second, SLEEP taught to last `usual` s: a
   * sleep of `first` s, then (after `pauseMs`) a fast statement that waits for the second
   * connection and a sleep of 0.3 s behind it. Once the fast one is done, the next fast one
   * must find no slow statement ahead of it, and no slow statement may have gone behind another.
   */
  async function slowBehindWaitingCaller(usual: number, first: number, pauseMs: number): Promise<void> {
    const pool = makePool({ min: 1, max: 2 });
    await pool.wait(5);
    for (let run = 0; run < 2; run++) {
      await pool.query(SLEEP, [usual]);
      await pool.query(FAST);
    }
    expect(pool.stats().poolSize).toBe(1);
    const from = sent.length;
    const running = pool.query(SLEEP, [first]);
    if (pauseMs > 0) await sleep(pauseMs);
    const waiting = pool.query(FAST);
    const second = pool.query(SLEEP, [0.3]);
    await waiting;
    const fastFrom = sent.length;
    await pool.query(FAST);
    await Promise.all([running, second]);
    expect(slowAheadOfFast(fastFrom)).toEqual([]);
    expect(slowBehindSlow(from)).toEqual([]);
  }

  it('keeps a slow statement that came behind a caller off the last connection free of slow ones', async () => {
    await slowBehindWaitingCaller(0.3, 0.5, 0);
  });

  it('counts a slow statement running past its usual time as running', async () => {
    // past its usual 0.1 s by more than slowThreshold after 250 ms: no end is expected any more
    await slowBehindWaitingCaller(0.1, 0.8, 250);
  });

  it('serves a slow statement before the callers that came after it', async () => {
    const pool = makePool({ min: 1, max: 1, timeout: 0.5 });
    await pool.wait(5);
    const slow = 'select pg_sleep(0.01)';
    for (let run = 0; run < 2; run++) await pool.query(slow);
    const order: string[] = [];
    const hold = async (name: string) => {
      const conn = await pool.acquire();
      order.push(name);
      await sleep(150);
      await pool.release(conn);
    };
    const held = await pool.acquire();
    const first = hold('first caller');
    await sleep(2);
    const statement = pool.query(slow).then(() => void order.push('slow statement'));
    await sleep(2);
    const later = ['second caller', 'third caller'].map((name) => hold(name).catch((error: Error) => void order.push(`${name}: ${error.name}`)));
    await sleep(100);
    await pool.release(held);
    await Promise.all([first, statement, ...later]);
    expect(order.slice(0, 3)).toEqual(['first caller', 'slow statement', 'second caller']);
  });

  it('gives a slow statement waiting for a connection being opened one that comes back, not a timeout', async () => {
    let slowOpening = false;
    const pool = makePool({
      min: 2,
      max: 3,
      timeout: 1.5,
      configure: async () => {
        if (slowOpening) await sleep(3000);
      },
    });
    await pool.wait(5);
    for (let run = 0; run < 2; run++) {
      await pool.query(SLEEP, [0.3]);
      await pool.query(FAST);
    }
    slowOpening = true;
    const long = pool.query(SLEEP, [2]);
    await sleep(20);
    // the second connection runs a fast statement; the slow one waits for a third, slow to open
    const fast = pool.query(FAST);
    const slow = pool.query(SLEEP, [0.05]);
    await fast;
    await expect(slow).resolves.toBeDefined();
    await long;
  });
});

