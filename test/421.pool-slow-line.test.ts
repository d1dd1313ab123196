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
  return sent.slice(from).filter((s) => s.text === SLOW && s.ahead.includes(SLOW));
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
});
