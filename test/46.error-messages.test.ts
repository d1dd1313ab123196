// What an error says: the server's own words first (the severity is a field, not a prefix),
// DETAIL and HINT on lines of their own, no trailing whitespace, no password.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, errors, type Connection, type Notice } from '../lib';
import { errorOf, terminate, until } from './fault-helpers';
import { connectTest, rejectionOf, testDsn, uniqueName } from './helpers';

const SEVERITY_PREFIX = /^(?:ERROR|FATAL|PANIC|WARNING|NOTICE|INFO|LOG|DEBUG):/;

let conn: Connection;
let admin: Connection;

beforeAll(async () => {
  conn = await connectTest({ autocommit: true });
  admin = await connectTest({ autocommit: true });
});

afterAll(async () => {
  await conn?.close();
  await admin?.close();
});

/** The test server's address with other connection settings. */
function dsnWith(change: (url: URL) => void): string {
  const url = new URL(testDsn());
  change(url);
  return url.toString();
}

function expectTidy(message: string): void {
  expect(message).not.toMatch(SEVERITY_PREFIX);
  expect(message).toBe(message.trim());
}

describe('query errors', () => {
  it('the message is the primary message; the severity is diag.severity', async () => {
    const error = (await rejectionOf(conn.query('select 1/0'))) as errors.DatabaseError;
    expect(error.message).toBe('division by zero');
    expect(error.diag.severity).toBe('ERROR');
    expect(error.stack?.split('\n')[0]).toBe('DivisionByZero: division by zero');
  });

  it('DETAIL and HINT follow on lines of their own, as psycopg shows them', async () => {
    const table = uniqueName('msg_uniq');
    await conn.query(`create temp table ${table} (id int constraint ${table}_pk primary key)`);
    await conn.query(`insert into ${table} values (1)`);
    const unique = (await rejectionOf(conn.query(`insert into ${table} values (1)`))) as errors.DatabaseError;
    expect(unique.message).toBe(`duplicate key value violates unique constraint "${table}_pk"\nDETAIL:  Key (id)=(1) already exists.`);

    const raised = await rejectionOf(conn.query("do $$ begin raise exception 'custom %', 42 using detail = 'the detail', hint = 'the hint'; end $$"));
    expect(raised.message).toBe('custom 42\nDETAIL:  the detail\nHINT:  the hint');
  });

  it('a syntax error has no statement cursor in its message: the position is in diag', async () => {
    const error = (await rejectionOf(conn.query('select 1 frm nowhere'))) as errors.DatabaseError;
    expect(error.message).toBe('syntax error at or near "nowhere"');
    expect(error.diag.statementPosition).toBe('14');
  });

  it('no server error message starts with a severity or ends with whitespace', async () => {
    const failing = [
      'select 1/0',
      "select 'x'::int",
      'select * from pqnode_no_such_table',
      'select pqnode_no_such_function()',
      "do $$ begin raise exception using errcode = '40001', message = 'retry me'; end $$",
    ];
    for (const text of failing) expectTidy((await rejectionOf(conn.query(text))).message);
    const cursor = conn.cursor();
    expectTidy((await rejectionOf(cursor.execute('select %s::int', ['nope']))).message);
  });

  it('an aborted transaction says so in the server words', async () => {
    const inTransaction = await connectTest();
    try {
      await rejectionOf(inTransaction.query('select 1/0'));
      const error = (await rejectionOf(inTransaction.query('select 1'))) as errors.DatabaseError;
      expect(error).toBeInstanceOf(errors.InFailedSqlTransaction);
      expect(error.message).toBe('current transaction is aborted, commands ignored until end of transaction block');
    } finally {
      await inTransaction.close();
    }
  });

  it('COPY errors too, the COPY context kept in diag', async () => {
    const table = uniqueName('msg_copy');
    await conn.query(`create temp table ${table} (id int)`);
    const into = (await rejectionOf(conn.copyFrom(`copy ${table} from stdin`, '1\nx\n'))) as errors.DatabaseError;
    expect(into).toBeInstanceOf(errors.InvalidTextRepresentation);
    expect(into.message).toBe('invalid input syntax for type integer: "x"');
    expect(into.diag.context).toMatch(/^COPY /);

    const copy = await conn.copy(`copy ${table} from stdin`);
    await copy.write('y\n');
    const ended = await rejectionOf(copy.end());
    expect(ended.message).toBe('invalid input syntax for type integer: "y"');

    const out = conn.copyTo('copy (select 1/0) to stdout');
    const failed = await rejectionOf((async () => {
      for await (const chunk of out) void chunk;
    })());
    expect(failed.message).toBe('division by zero');
  });

  it('a password given in the conninfo never shows, even when the server quotes it', async () => {
    const secret = 'Secret-pw-4u7x';
    // the test server trusts loopback connections: the password is sent, never needed
    const withPassword = await connect(dsnWith((url) => (url.password = secret)), { autocommit: true });
    try {
      const error = (await rejectionOf(withPassword.query(`select '${secret}'::int`))) as errors.DatabaseError;
      expect(error).toBeInstanceOf(errors.InvalidTextRepresentation);
      expect(error.message).toBe('invalid input syntax for type integer: "********"');
      expect(error.diag.messagePrimary).not.toContain(secret);
      expect(error.stack).not.toContain(secret);
    } finally {
      await withPassword.close();
    }
  });

  it('a connection the server ended gives the server words', async () => {
    const victim = await connectTest({ autocommit: true });
    const settled = errorOf(victim.query('select pg_sleep(30)')) as Promise<errors.Error>;
    await until(async () => {
      const { rows } = await admin.query<{ n: number }>(
        "select count(*)::int as n from pg_stat_activity where pid = $1 and state = 'active'",
        [victim.info.backendPid],
      );
      return rows[0].n === 1;
    }, 5000);
    await terminate(admin, victim.info.backendPid);
    const error = await settled;
    expect(error).toBeInstanceOf(errors.AdminShutdown);
    expect(error.message).toBe('terminating connection due to administrator command');
    expect(error.diag.severity).toBe('FATAL');
    const after = await rejectionOf(victim.query('select 1'));
    expect(after.message).toBe('the connection is lost: terminating connection due to administrator command');
  });
});

describe('notices', () => {
  it('the message is the primary message with DETAIL and HINT; the severity is a field', async () => {
    const seen: Notice[] = [];
    const listener = (notice: Notice) => seen.push(notice);
    conn.on('notice', listener);
    try {
      await conn.query("do $$ begin raise notice 'hello' using detail = 'det', hint = 'hin'; raise warning 'careful'; end $$");
    } finally {
      conn.off('notice', listener);
    }
    expect(seen.map((notice) => [notice.severity, notice.message])).toEqual([
      ['NOTICE', 'hello\nDETAIL:  det\nHINT:  hin'],
      ['WARNING', 'careful'],
    ]);
  });
});
