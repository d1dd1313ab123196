// What an error says: the server's own words first (the severity is a field, not a prefix),
// DETAIL and HINT on lines of their own, no trailing whitespace, no password; and a refused
// connection with the SQLSTATE and class the server gave.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, errors, type Notice } from '../lib';
import { connectFailure } from '../lib/connect-failure';
import { errorOf, terminate, until } from './fault-helpers';
import { connectTest, rejectionOf, testDsn, uniqueName, sharedConnection, makeTable } from './helpers';

const SEVERITY_PREFIX = /^(?:ERROR|FATAL|PANIC|WARNING|NOTICE|INFO|LOG|DEBUG):/;

const conn = sharedConnection({ autocommit: true });
const admin = sharedConnection({ autocommit: true });

beforeAll(async () => {
});

afterAll(async () => {
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
    const error = (await rejectionOf(conn().query('select 1/0'))) as errors.DatabaseError;
    expect(error.message).toBe('division by zero');
    expect(error.diag.severity).toBe('ERROR');
    expect(error.stack?.split('\n')[0]).toBe('DivisionByZero: division by zero');
  });

  it('DETAIL and HINT follow on lines of their own, as psycopg shows them', async () => {
    const table = uniqueName('msg_uniq');
    await conn().query(`create temp table ${table} (id int constraint ${table}_pk primary key)`);
    await conn().query(`insert into ${table} values (1)`);
    const unique = (await rejectionOf(conn().query(`insert into ${table} values (1)`))) as errors.DatabaseError;
    expect(unique.message).toBe(`duplicate key value violates unique constraint "${table}_pk"\nDETAIL:  Key (id)=(1) already exists.`);

    const raised = await rejectionOf(conn().query("do $$ begin raise exception 'custom %', 42 using detail = 'the detail', hint = 'the hint'; end $$"));
    expect(raised.message).toBe('custom 42\nDETAIL:  the detail\nHINT:  the hint');
  });

  it('a syntax error has no statement cursor in its message: the position is in diag', async () => {
    const error = (await rejectionOf(conn().query('select 1 frm nowhere'))) as errors.DatabaseError;
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
    for (const text of failing) expectTidy((await rejectionOf(conn().query(text))).message);
    const cursor = conn().cursor();
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
    const table = await makeTable(conn(), 'id int', { prefix: 'msg_copy', temp: true });
    const into = (await rejectionOf(conn().copyFrom(`copy ${table} from stdin`, '1\nx\n'))) as errors.DatabaseError;
    expect(into).toBeInstanceOf(errors.InvalidTextRepresentation);
    expect(into.message).toBe('invalid input syntax for type integer: "x"');
    expect(into.diag.context).toMatch(/^COPY /);

    const copy = await conn().copy(`copy ${table} from stdin`);
    await copy.write('y\n');
    const ended = await rejectionOf(copy.end());
    expect(ended.message).toBe('invalid input syntax for type integer: "y"');

    const out = conn().copyTo('copy (select 1/0) to stdout');
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
      const { rows } = await admin().query<{ n: number }>(
        "select count(*)::int as n from pg_stat_activity where pid = $1 and state = 'active'",
        [victim.info.backendPid],
      );
      return rows[0].n === 1;
    }, 5000);
    await terminate(admin(), victim.info.backendPid);
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
    conn().on('notice', listener);
    try {
      await conn().query("do $$ begin raise notice 'hello' using detail = 'det', hint = 'hin'; raise warning 'careful'; end $$");
    } finally {
      conn().off('notice', listener);
    }
    expect(seen.map((notice) => [notice.severity, notice.message])).toEqual([
      ['NOTICE', 'hello\nDETAIL:  det\nHINT:  hin'],
      ['WARNING', 'careful'],
    ]);
  });
});

describe('connect failures the server explained', () => {
  it('no such database: 3D000, still an OperationalError, the message in its usual form', async () => {
    const error = (await errorOf(connect(dsnWith((url) => (url.pathname = '/pqnode_no_such_db'))))) as errors.OperationalError;
    expect(error).toBeInstanceOf(errors.OperationalError);
    expect(error.sqlstate).toBe('3D000');
    expect(error.diag.sqlstate).toBe('3D000');
    expect(error.diag.severity).toBe('FATAL');
    expect(error.diag.messagePrimary).toBe('database "pqnode_no_such_db" does not exist');
    expect(error.message).toMatch(/failed: FATAL: {2}database "pqnode_no_such_db" does not exist$/);
    expect(error.message).not.toMatch(/3D000|LOCATION/);
  });

  it('no such role: 28000, InvalidAuthorizationSpecification', async () => {
    const error = (await errorOf(connect(dsnWith((url) => (url.username = 'pqnode_no_such_role'))))) as errors.OperationalError;
    expect(error).toBeInstanceOf(errors.InvalidAuthorizationSpecification);
    expect(error).toBeInstanceOf(errors.OperationalError);
    expect(error.sqlstate).toBe('28000');
    expect(error.message).toMatch(/FATAL: {2}role "pqnode_no_such_role" does not exist$/);
  });

  it('too many connections: 53300, TooManyConnections', async () => {
    const role = uniqueName('msg_limited');
    await admin().query(`create role ${role} login connection limit 0`);
    try {
      const error = (await errorOf(connect(dsnWith((url) => (url.username = role))))) as errors.OperationalError;
      expect(error).toBeInstanceOf(errors.TooManyConnections);
      expect(error).toBeInstanceOf(errors.OperationalError);
      expect(error.sqlstate).toBe('53300');
      expect(error.message).toMatch(new RegExp(`FATAL: {2}too many connections for role "${role}"$`));
      expect(error.message).not.toMatch(/53300|LOCATION/);
    } finally {
      await admin().query(`drop role ${role}`);
    }
  });

  it('a password given never shows in a refusal', async () => {
    const secret = 'Refused-pw-8c1q';
    const error = (await errorOf(connect(dsnWith((url) => {
      url.pathname = '/pqnode_no_such_db';
      url.password = secret;
    })))) as errors.OperationalError;
    expect(error.sqlstate).toBe('3D000');
    expect([error.message, error.stack, JSON.stringify(error.diag)].join('\n')).not.toContain(secret);
  });

  it('a refused TCP connection has no SQLSTATE and no trailing whitespace', async () => {
    const error = (await errorOf(connect('host=127.0.0.1 port=1 connect_timeout=5'))) as errors.OperationalError;
    expect(error).toBeInstanceOf(errors.OperationalError);
    expect(error.sqlstate).toBeUndefined();
    expect(error.message).toMatch(/^connection to server at "127\.0\.0\.1", port 1 failed: /);
    expect(error.message).toBe(error.message.trimEnd());
  });

  it('a conninfo libpq refuses has no trailing whitespace either', async () => {
    const error = await errorOf(connect({ host: '127.0.0.1', port: 1, sslmode: 'bogus' }));
    expect(error).toBeInstanceOf(errors.OperationalError);
    expect((error as Error).message).toMatch(/sslmode/);
    expect((error as Error).message).toBe((error as Error).message.trimEnd());
  });

  it('a connection made after a refusal has its messages in the usual form', async () => {
    await errorOf(connect(dsnWith((url) => (url.pathname = '/pqnode_no_such_db'))));
    const fresh = await connectTest({ autocommit: true });
    try {
      expect((await rejectionOf(fresh.query('select 1/0'))).message).toBe('division by zero');
    } finally {
      await fresh.close();
    }
  });
});

describe('reading libpq text about a failed connection', () => {
  const identity = (text: string) => text;

  it('reads the SQLSTATE, drops it and the LOCATION line', () => {
    const error = connectFailure(
      'connection to server at "h" (10.0.0.1), port 5432 failed: FATAL:  57P03: the database system is starting up\nLOCATION:  ProcessStartupPacket, backend_startup.c:422\n',
      identity,
    );
    expect(error).toBeInstanceOf(errors.CannotConnectNow);
    expect(error.sqlstate).toBe('57P03');
    expect(error.message).toBe('connection to server at "h" (10.0.0.1), port 5432 failed: FATAL:  the database system is starting up');
  });

  it('takes the last attempt that a server refused, keeping every line of the others', () => {
    const error = connectFailure(
      [
        'connection to server at "a", port 5432 failed: FATAL:  57P03: the database system is starting up',
        'LOCATION:  ProcessStartupPacket, postmaster.c:2340',
        'connection to server at "b", port 5432 failed: Connection refused',
        '\tIs the server running on that host and accepting TCP/IP connections?',
        'connection to server at "c", port 5432 failed: FATAL:  28P01: password authentication failed for user "u"',
        'DETAIL:  some detail',
        'HINT:  some hint',
        'LOCATION:  auth_failed, auth.c:334',
        '',
      ].join('\n'),
      identity,
    );
    expect(error).toBeInstanceOf(errors.InvalidPassword);
    expect(error.diag).toMatchObject({
      severity: 'FATAL',
      messagePrimary: 'password authentication failed for user "u"',
      messageDetail: 'some detail',
      messageHint: 'some hint',
    });
    expect(error.message).toBe(
      [
        'connection to server at "a", port 5432 failed: FATAL:  the database system is starting up',
        'connection to server at "b", port 5432 failed: Connection refused',
        '\tIs the server running on that host and accepting TCP/IP connections?',
        'connection to server at "c", port 5432 failed: FATAL:  password authentication failed for user "u"',
        'DETAIL:  some detail',
        'HINT:  some hint',
      ].join('\n'),
    );
  });

  it('reads an older libpq message (no "connection to server" prefix) and a translated severity', () => {
    const old = connectFailure('FATAL:  53300: sorry, too many clients already\nLOCATION:  InitProcess, proc.c:368\n', identity);
    expect(old).toBeInstanceOf(errors.TooManyConnections);
    expect(old.message).toBe('FATAL:  sorry, too many clients already');
    const translated = connectFailure('SCHWERWIEGEND:  28000: Rolle »x« existiert nicht\nORT:  InitializeSessionUserId, miscinit.c:768\n', identity);
    expect(translated).toBeInstanceOf(errors.InvalidAuthorizationSpecification);
    expect(translated.message).toBe('SCHWERWIEGEND:  Rolle »x« existiert nicht');
  });

  it('a code of another family keeps OperationalError, with the code', () => {
    const error = connectFailure('FATAL:  3D000: database "x" does not exist\n', identity);
    expect(error.constructor).toBe(errors.OperationalError);
    expect(error.sqlstate).toBe('3D000');
  });

  it('a message without a server report is kept as it is, without its trailing newline', () => {
    const error = connectFailure('could not translate host name "nowhere.invalid" to address: Name or service not known\n', identity);
    expect(error.constructor).toBe(errors.OperationalError);
    expect(error.sqlstate).toBeUndefined();
    expect(error.message).toBe('could not translate host name "nowhere.invalid" to address: Name or service not known');
  });

  it('redacts the message and the fields', () => {
    const error = connectFailure('FATAL:  28P01: password hunter2 refused\nDETAIL:  hunter2 again\n', (text) => text.split('hunter2').join('***'));
    expect(error.message).toBe('FATAL:  password *** refused\nDETAIL:  *** again');
    expect(error.diag.messagePrimary).toBe('password *** refused');
    expect(error.diag.messageDetail).toBe('*** again');
  });
});
