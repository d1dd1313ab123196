// A connection whose server goes away: it is broken at once (before the caller's code runs
// again), its socket is let go so that the next connection can use the same descriptor, the
// server's own reason reaches the caller, listeners hear of it, and notifies() throws.
import { describe, expect, it } from 'vitest';
import { errors, type Connection } from '../lib';
import { errorOf, outcome, sleep, terminate, until, waitUntilRunning } from './fault-helpers';
import { closedAfterEach, uniqueName, connectTest } from './helpers';

const connections = closedAfterEach();
const { track } = connections;
/** An autocommit connection unless told otherwise, closed after the test. */
const open = (autocommit = true): Promise<Connection> => connections.open({ autocommit });

describe('a statement that ends its own backend', () => {
  for (const autocommit of [true, false]) {
    it(`after another statement in the same text (autocommit ${autocommit}): broken when the caller resumes, the next connect works`, async () => {
      for (let round = 0; round < 5; round++) {
        const doomed = await open(autocommit);
        const error = await errorOf(doomed.query('select 1; select pg_terminate_backend(pg_backend_pid())'));
        // what the caller sees in the very turn its await resumes
        const brokenThen = doomed.broken;
        const closedThen = doomed.closed;
        const next = await outcome(connectTest());
        if (next.resolved) track(next.value as Connection);
        expect(error).toBeInstanceOf(errors.AdminShutdown);
        expect((error as errors.DatabaseError).sqlstate).toBe('57P01');
        expect(brokenThen).toBe(true);
        expect(closedThen).toBe(true);
        expect(next.error).toBeUndefined();
        expect(next.resolved).toBe(true);
      }
    });
  }

  it('alone: the server says why (57P01), not only that the connection closed', async () => {
    const doomed = await open();
    const error = await errorOf(doomed.query('select pg_terminate_backend(pg_backend_pid())'));
    expect(error).toBeInstanceOf(errors.AdminShutdown);
    expect(error).toBeInstanceOf(errors.OperationalError);
    expect((error as errors.DatabaseError).sqlstate).toBe('57P01');
    expect((error as Error).message).toMatch(/terminating connection due to administrator command/);
    expect(doomed.broken).toBe(true);
  });

  it('statements pipelined behind it fail with the same reason and class', async () => {
    const doomed = await open();
    const first = outcome(doomed.query('select pg_terminate_backend(pg_backend_pid())'));
    const second = outcome(doomed.query('select 2'));
    const third = outcome(doomed.query('select 3'));
    for (const settled of [await first, await second, await third]) {
      expect(settled.resolved).toBe(false);
      expect(settled.error).toBeInstanceOf(errors.AdminShutdown);
      expect((settled.error as errors.DatabaseError).sqlstate).toBe('57P01');
    }
    expect(doomed.broken).toBe(true);
    // calls after the loss are refused as a lost connection
    expect(await errorOf(doomed.query('select 1'))).toBeInstanceOf(errors.OperationalError);
  });
});

describe('a backend terminated by another session', () => {
  it('mid-query: the statement fails with the server reason', async () => {
    const admin = await open();
    const victim = await open();
    const running = outcome(victim.query('select pg_sleep(30)'));
    await waitUntilRunning(admin, victim.info.backendPid, 'pg_sleep(30)');
    await terminate(admin, victim.info.backendPid);
    const settled = await running;
    expect(settled.error).toBeInstanceOf(errors.AdminShutdown);
    expect((settled.error as errors.DatabaseError).sqlstate).toBe('57P01');
    expect(victim.broken).toBe(true);
  });

  it('while idle: an error event with the reason, broken, and the next call says the connection is lost', async () => {
    const admin = await open();
    const victim = await open();
    const heard: Error[] = [];
    victim.on('error', (error: Error) => heard.push(error));
    await terminate(admin, victim.info.backendPid);
    expect(await until(() => heard.length > 0, 5000)).toBe(true);
    expect(heard).toHaveLength(1);
    expect(heard[0]).toBeInstanceOf(errors.AdminShutdown);
    expect((heard[0] as errors.DatabaseError).sqlstate).toBe('57P01');
    expect(victim.broken).toBe(true);
    const error = await errorOf(victim.query('select 1'));
    expect(error).toBeInstanceOf(errors.OperationalError);
    expect((error as Error).message).toMatch(/lost/);
  });

  it('while idle with no error listener: nothing is thrown, the connection is broken', async () => {
    const admin = await open();
    const victim = await open();
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      await terminate(admin, victim.info.backendPid);
      expect(await until(() => victim.broken, 5000)).toBe(true);
      await sleep(50);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    expect(uncaught).toEqual([]);
  });

  it('the error event fires once, also when statements were in flight', async () => {
    const admin = await open();
    const victim = await open();
    const heard: Error[] = [];
    victim.on('error', (error: Error) => heard.push(error));
    const running = outcome(victim.query('select pg_sleep(30)'));
    await waitUntilRunning(admin, victim.info.backendPid, 'pg_sleep(30)');
    await terminate(admin, victim.info.backendPid);
    await running;
    await sleep(50);
    expect(heard).toHaveLength(1);
    expect(heard[0]).toBeInstanceOf(errors.AdminShutdown);
  });

  it('idle_in_transaction_session_timeout: an OperationalError that carries 25P03, in the event and at the next call', async () => {
    const victim = await open(false);
    const heard: Error[] = [];
    victim.on('error', (error: Error) => heard.push(error));
    await victim.query("set idle_in_transaction_session_timeout = '100ms'");
    await victim.query('select 1');
    expect(await until(() => heard.length > 0, 5000)).toBe(true);
    expect(heard[0]).toBeInstanceOf(errors.OperationalError);
    expect((heard[0] as errors.DatabaseError).sqlstate).toBe('25P03');
    expect((heard[0] as errors.DatabaseError).diag.severity).toBe('FATAL');
    const error = await errorOf(victim.query('select 1'));
    expect(error).toBeInstanceOf(errors.OperationalError);
    expect((error as Error).message).toMatch(/idle-in-transaction timeout/);
  });

  it('close() by the caller emits no error event', async () => {
    const conn = await open();
    const heard: Error[] = [];
    conn.on('error', (error: Error) => heard.push(error));
    await conn.close();
    await sleep(20);
    expect(heard).toEqual([]);
    expect(conn.broken).toBe(false);
  });
});

describe('notifies()', () => {
  it('throws the connection error when the connection is lost', async () => {
    const admin = await open();
    const listener = await open();
    await listener.listen(uniqueName('lost'));
    const loop = outcome(
      (async () => {
        for await (const _notification of listener.notifies()) {
          // nothing is sent
        }
      })(),
    );
    await sleep(20);
    await terminate(admin, listener.info.backendPid);
    const settled = await Promise.race([loop, sleep(5000).then(() => undefined)]);
    expect(settled).toBeDefined();
    expect(settled?.resolved).toBe(false);
    expect(settled?.error).toBeInstanceOf(errors.OperationalError);
    expect(listener.broken).toBe(true);
  });

  it('an iterator made after the loss throws at once', async () => {
    const admin = await open();
    const listener = await open();
    await terminate(admin, listener.info.backendPid);
    expect(await until(() => listener.broken, 5000)).toBe(true);
    expect(() => listener.notifies()).toThrow(errors.OperationalError);
  });

  it('ends (without an error) when the caller closes the connection', async () => {
    const listener = await open();
    const iterator = listener.notifies();
    const next = iterator.next();
    await listener.close();
    expect(await next).toEqual({ done: true, value: undefined });
  });

  it('receives what arrives between notifies() and its first next()', async () => {
    const listener = await open();
    const sender = await open();
    const channel = uniqueName('early');
    await listener.listen(channel);
    const iterator = listener.notifies();
    await sender.notify(channel, 'before next');
    // the notification reaches the listener while nobody is calling next()
    await listener.query('select pg_sleep(0.05)');
    await sleep(20);
    const first = await iterator.next();
    expect(first.done).toBe(false);
    expect(first.value?.payload).toBe('before next');
    await iterator.return?.();
  });

  it('every iterator receives every notification', async () => {
    const listener = await open();
    const sender = await open();
    const channel = uniqueName('fanout');
    await listener.listen(channel);
    const a = listener.notifies();
    const b = listener.notifies();
    for (let i = 1; i <= 3; i++) await sender.notify(channel, `m${i}`);
    const take = async (iterator: AsyncIterator<{ payload: string }>) => {
      const payloads: string[] = [];
      for (let i = 0; i < 3; i++) payloads.push((await iterator.next()).value.payload);
      return payloads;
    };
    expect(await take(a)).toEqual(['m1', 'm2', 'm3']);
    expect(await take(b)).toEqual(['m1', 'm2', 'm3']);
    await a.return?.();
    await b.return?.();
  });

  it('a next() abandoned by a timeout race does not take the following notification away', async () => {
    const listener = await open();
    const sender = await open();
    const channel = uniqueName('race');
    await listener.listen(channel);
    const iterator = listener.notifies();
    const timedOut = await Promise.race([iterator.next(), sleep(50).then(() => 'timeout' as const)]);
    expect(timedOut).toBe('timeout');
    // the notification arrives while only the abandoned next() waits
    const arrived = new Promise((resolve) => listener.once('notification', resolve));
    await sender.notify(channel, 'after the race');
    await arrived;
    await sleep(20);
    const next = await Promise.race([iterator.next(), sleep(3000).then(() => 'timeout' as const)]);
    expect(next).not.toBe('timeout');
    expect((next as IteratorResult<{ payload: string }>).value.payload).toBe('after the race');
    await iterator.return?.();
  });

  it('a next() made while an abandoned one still waits gets the notification', async () => {
    const listener = await open();
    const sender = await open();
    const channel = uniqueName('race2');
    await listener.listen(channel);
    const iterator = listener.notifies();
    expect(await Promise.race([iterator.next(), sleep(30).then(() => 'timeout' as const)])).toBe('timeout');
    const second = Promise.race([iterator.next(), sleep(3000).then(() => 'timeout' as const)]);
    await sender.notify(channel, 'x');
    const next = await second;
    expect(next).not.toBe('timeout');
    expect((next as IteratorResult<{ payload: string }>).value.payload).toBe('x');
    await iterator.return?.();
  });

  it('a loop that reads every notification gets each exactly once', async () => {
    const listener = await open();
    const sender = await open();
    const channel = uniqueName('once');
    await listener.listen(channel);
    const received: string[] = [];
    const iterator = listener.notifies();
    const loop = (async () => {
      for await (const notification of iterator) {
        received.push(notification.payload);
        // a reader that is slow now and then
        if (received.length % 2 === 0) await sleep(5);
        if (received.length === 6) break;
      }
    })();
    for (let i = 1; i <= 6; i++) await sender.notify(channel, `m${i}`);
    await Promise.race([loop, sleep(3000)]);
    expect(received).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
  });

  it('a returned iterator stops buffering; an iterator that falls too far behind is told', async () => {
    const listener = await open();
    const sender = await open();
    const channel = uniqueName('bound');
    await listener.listen(channel);
    const slow = listener.notifies({ maxQueued: 3 });
    for (let i = 1; i <= 5; i++) await sender.notify(channel, `m${i}`);
    await listener.query('select pg_sleep(0.05)');
    await sleep(20);
    expect(await errorOf(slow.next())).toBeInstanceOf(errors.OperationalError);
    expect(() => listener.notifies({ maxQueued: 0 })).toThrow(TypeError);
  });
});
