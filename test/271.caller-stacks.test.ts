// Every public async method that fails points at the line that called it: errors made where
// the results arrive (a libpq callback, a timer) get the caller's stack. Awaited calls reach it
// through V8's async stack traces; the methods that are not on the hot path take the caller's
// stack when called, so that a call nobody awaits (a forgotten await, then close()) still
// says where it was made.
import { describe, expect, it } from 'vitest';
import { connect, errors, Pool, type Connection } from '../lib';
import { connectTest, testDsn, uniqueName, sharedConnection, makeTable } from './helpers';

const THIS_FILE = '271.caller-stacks.test.ts';

const conn = sharedConnection({ autocommit: true });

/** The line of this file that called the function calling lineOfCaller(). */
function lineOfCaller(): number {
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, lineOfCaller);
  const frames = (holder.stack ?? '').split('\n').filter((frame) => frame.includes(THIS_FILE));
  // frames[0] is the helper that asked, frames[1] the test line that called the helper
  const match = /:(\d+):\d+\)?$/.exec(frames[1] ?? '');
  if (match === null) throw new Error(`no caller line in ${holder.stack}`);
  return Number(match[1]);
}

interface Failure {
  error: Error;
  line: number;
}

/** Awaits `call` (written on the calling line) and gives its rejection with that line. */
async function awaited(call: () => Promise<unknown>): Promise<Failure> {
  const line = lineOfCaller();
  try {
    await call();
  } catch (error) {
    return { error: error as Error, line };
  }
  throw new Error('expected a rejection');
}

/**
 * Calls `call` without awaiting it, as a forgotten await does; its rejection is taken by a
 * then() handler, through which V8 finds no awaiting caller. What makes it fail (close(), say)
 * is done on another line by the caller, so that only the call itself can give its line.
 */
function unawaited(call: () => Promise<unknown>): Promise<Failure> {
  const line = lineOfCaller();
  const promise = call();
  return new Promise((resolve, reject) => {
    promise.then(
      () => reject(new Error('expected a rejection')),
      (error: unknown) => resolve({ error: error as Error, line }),
    );
  });
}

function expectCallerLine({ error, line }: Failure): void {
  expect(error).toBeInstanceOf(errors.Error);
  expect(error.stack).toContain(`${THIS_FILE}:${line}:`);
}

/** A connection in a transaction (autocommit off) that has run a statement. */
async function inTransaction(): Promise<Connection> {
  const c = await connectTest();
  await c.query('select 1');
  return c;
}

/** A table whose unique key is checked at COMMIT, and a connection that broke it. */
async function deferredViolation(): Promise<Connection> {
  const table = await makeTable(conn(), 'id int unique deferrable initially deferred', { prefix: 'deferred' });
  const c = await connectTest();
  await c.query(`insert into ${table} values (1), (1)`);
  return c;
}

describe('awaited calls: the stack reaches the line of the call', () => {
  it('Connection', async () => {
    expectCallerLine(await awaited(() => conn().query('select 1/0')));
    expectCallerLine(await awaited(() => conn().execute('select 1/0')));
    expectCallerLine(await awaited(() => conn().pipeline((p) => p.query('select 1/0'))));
    expectCallerLine(await awaited(() => conn().copyFrom(`copy (select 1) to stdout`, '')));
    expectCallerLine(await awaited(() => conn().copy('copy pqnode_no_such_table from stdin')));
    expectCallerLine(await awaited(() => conn().tpcCommit('pqnode-no-such-xid')));
    expectCallerLine(await awaited(() => conn().notify('x'.repeat(100), 'y'.repeat(9000))));
    expectCallerLine(await awaited(() => conn().setSession({ isolationLevel: 'bogus' as 'serializable' })));

    const deferred = await deferredViolation();
    try {
      expectCallerLine(await awaited(() => deferred.commit()));
    } finally {
      await deferred.close();
    }

    const other = await deferredViolation();
    try {
      await other.rollback();
      const table = await makeTable(conn(), 'id int unique deferrable initially deferred', { prefix: 'deferred_tx' });
      expectCallerLine(await awaited(() => other.transaction((c) => c.query(`insert into ${table} values (1), (1)`))));
      expectCallerLine(await awaited(() => other.lobject(4294967295)));
    } finally {
      await other.close();
    }

    // a transaction in error refuses LISTEN, UNLISTEN and NOTIFY alike
    const failed = await inTransaction();
    try {
      await failed.query('select 1/0').catch(() => undefined);
      expectCallerLine(await awaited(() => failed.listen('pqnode_channel')));
      expectCallerLine(await awaited(() => failed.unlisten('pqnode_channel')));
      expectCallerLine(await awaited(() => failed.unlisten()));
      expectCallerLine(await awaited(() => failed.notify('pqnode_channel')));
      expectCallerLine(await awaited(() => failed.tpcRecover()));
    } finally {
      await failed.close();
    }
  });

  it('Cursor', async () => {
    const table = await makeTable(conn(), 'id int primary key', { prefix: 'stack_cur', temp: true });
    const cur = conn().cursor();
    expectCallerLine(await awaited(() => cur.execute('select 1/0')));
    expectCallerLine(await awaited(() => cur.executemany(`insert into ${table} values (%s)`, [[1], [1]])));
    expectCallerLine(await awaited(() => cur.callproc('pqnode_no_such_function')));
    expectCallerLine(await awaited(() => cur.executeValues(`insert into ${table} values %s`, [[2], [2]])));
    expectCallerLine(await awaited(() => conn().cursor().fetchone()));
  });

  it('ServerCursor', async () => {
    const c = await connectTest();
    try {
      const declared = c.cursor({ name: uniqueName('sc') });
      expectCallerLine(await awaited(() => declared.execute('select * from pqnode_no_such_table')));
      await c.rollback();
      const fetching = c.cursor({ name: uniqueName('sc') });
      await fetching.execute('select 1 / g from generate_series(0, 1) g');
      expectCallerLine(await awaited(() => fetching.fetchone()));
      await c.rollback();
      const noScroll = c.cursor({ name: uniqueName('sc'), scrollable: false });
      await noScroll.execute('select g from generate_series(1, 3) g');
      await noScroll.fetchall();
      expectCallerLine(await awaited(() => noScroll.scroll(0, 'absolute')));
    } finally {
      await c.close();
    }
  });

  it('Copy', async () => {
    const table = await makeTable(conn(), 'id int', { prefix: 'stack_copy', temp: true });
    const into = await conn().copy(`copy ${table} from stdin`);
    await into.write('x\n');
    expectCallerLine(await awaited(() => into.end()));

    const reading = await conn().copy('copy (select 1 / (g - 3) from generate_series(1, 5) g) to stdout');
    expectCallerLine(await awaited(async () => {
      while ((await reading.read()) !== null);
    }));
  });

  it('LargeObject', async () => {
    const c = await connectTest();
    try {
      const lo = await c.lobject();
      expectCallerLine(await awaited(() => lo.seek(-10, 0)));
    } finally {
      await c.close();
    }
  });

  it('Pool', async () => {
    const pool = new Pool(testDsn(), { min: 0, max: 1, timeout: 0.2 });
    try {
      expectCallerLine(await awaited(() => pool.query('select 1/0')));
      expectCallerLine(await awaited(() => pool.connection((c) => c.query('select 1/0'))));
      const held = await pool.acquire();
      try {
        expectCallerLine(await awaited(() => pool.acquire()));
      } finally {
        await pool.release(held);
      }
    } finally {
      await pool.close();
    }
  });
});

describe('functions run by transaction() and pool.connection()', () => {
  /** The line of this file that called here(). */
  function here(): number {
    const holder: { stack?: string } = {};
    Error.captureStackTrace(holder, here);
    const frame = (holder.stack ?? '').split('\n').find((line) => line.includes(THIS_FILE)) ?? '';
    return Number(/:(\d+):\d+\)?$/.exec(frame)?.[1]);
  }

  // V8's async frames point at the await: the call and its await share a line here
  it('an error of a statement inside keeps the line of that statement', async () => {
    let inner = 0;
    const viaTransaction = await awaited(() =>
      conn().transaction(async (c) => {
        inner = here(); await c.query('select 1/0');
      }),
    );
    expect(viaTransaction.error.stack).toContain(`${THIS_FILE}:${inner}:`);

    const pool = new Pool(testDsn(), { min: 0, max: 1 });
    try {
      const viaPool = await awaited(() =>
        pool.connection(async (c) => {
          inner = here(); await c.query('select 1/0');
        }),
      );
      expect(viaPool.error.stack).toContain(`${THIS_FILE}:${inner}:`);
    } finally {
      await pool.close();
    }
  });
});

describe('calls nobody awaits: the stack still reaches the line of the call', () => {
  it('commit() and rollback() followed by close()', async () => {
    const a = await inTransaction();
    const committing = unawaited(() => a.commit());
    await a.close();
    expectCallerLine(await committing);

    const b = await inTransaction();
    const rollingBack = unawaited(() => b.rollback());
    await b.close();
    expectCallerLine(await rollingBack);
  });

  it('the other methods of Connection that are not on the hot path', async () => {
    const calls: [string, (c: Connection) => Promise<unknown>][] = [
      ['listen', (c) => c.listen('pqnode_channel')],
      ['unlisten', (c) => c.unlisten('pqnode_channel')],
      ['unlisten()', (c) => c.unlisten()],
      ['notify', (c) => c.notify('pqnode_channel')],
      ['lobject', (c) => c.lobject()],
      ['tpcBegin', (c) => c.tpcBegin('pqnode-xid')],
      ['tpcCommit', (c) => c.tpcCommit('pqnode-no-such-xid')],
      ['tpcRollback', (c) => c.tpcRollback('pqnode-no-such-xid')],
      ['tpcRecover', (c) => c.tpcRecover()],
      ['copy', (c) => c.copy('copy (select 1) to stdout')],
      ['copyFrom', (c) => c.copyFrom('copy pqnode_t from stdin', '1\n')],
    ];
    for (const [name, call] of calls) {
      const c = await connectTest();
      const failing = unawaited(() => call(c));
      await c.close();
      const failure = await failing;
      expect(failure.error, name).toBeInstanceOf(errors.Error);
      expect(failure.error.stack, name).toContain(`${THIS_FILE}:${failure.line}:`);
    }
  });

  it('connect()', async () => {
    const url = new URL(testDsn());
    url.pathname = '/pqnode_no_such_database';
    expectCallerLine(await unawaited(() => connect(url.toString())));
  });

  it('a server-side cursor and a COPY', async () => {
    const c = await connectTest();
    const cursor = c.cursor({ name: uniqueName('sc') });
    const declaring = unawaited(() => cursor.execute('select 1'));
    await c.close();
    expectCallerLine(await declaring);

    const table = await makeTable(conn(), 'id int', { prefix: 'stack_copy_in', temp: true });
    const into = await conn().copy(`copy ${table} from stdin`);
    await into.write('x\n');
    expectCallerLine(await unawaited(() => into.end()));
  });
});
