import { afterAll, afterEach, beforeAll, expect, inject } from 'vitest';
import { connect, Pool, type Conninfo, type Connection, type ConnectOptions, type Notice, type PoolOptions } from '../lib';

export interface TestServer {
  dsn: string;
  host: string;
  port: number;
  user: string;
  database: string;
  socketDir: string;
  dataDir: string;
  tempDir: string;
  logFile: string;
  bindir: string;
  source: string;
  version: string;
  /** CREATE EXTENSION postgis works on this server */
  postgis: boolean;
  pid: number;
  stop(): Promise<void>;
  /** stop the server ('fast' by default, or 'immediate' as in a crash), keeping its data and port */
  halt(mode?: 'fast' | 'immediate'): Promise<void>;
  /** start a halted server again on the same port */
  start(): Promise<void>;
  /** halt() then start() */
  restart(mode?: 'fast' | 'immediate'): Promise<void>;
  readonly running: boolean;
}

export interface TestServerOptions {
  bindir?: string;
  preferEmbedded?: boolean;
  settings?: Record<string, string | number | boolean>;
  timeoutMs?: number;
  tmpRoot?: string;
  osUser?: string;
  /** pg_hba.conf lines put before the defaults */
  hba?: string[];
  /** files written into the data folder, e.g. certificates */
  files?: Record<string, string>;
  /** make a streaming standby of this server (pg_basebackup -R) */
  standbyOf?: { host: string; port: number };
  /** PEM files of a certificate and its key: the server accepts SSL with them */
  ssl?: { cert: string; key: string };
}

export interface TestServerModule {
  startTestServer(options?: TestServerOptions): Promise<TestServer>;
  findPostgresBinaries(options?: { bindir?: string; preferEmbedded?: boolean }): { bindir: string; source: string };
}

/**
 * The harness is plain JavaScript so that examples and benchmarks can use it
 * without a compiler; a non-literal specifier keeps tsc from demanding a
 * declaration file for it, and this interface supplies the types instead.
 */
export async function loadTestServerModule(relativePath = '../scripts/test-server.mjs'): Promise<TestServerModule> {
  const specifier: string = relativePath;
  return (await import(specifier)) as TestServerModule;
}

/** Connection string of the server shared by the whole test run. */
export function testDsn(): string {
  return inject('dsn');
}

/**
 * The test server's connection string with some libpq parameters changed or added ('user',
 * 'dbname', 'options', ...): a string, since libpq expands a URI only from a string.
 */
export function testDsnWith(params: Record<string, string>): string {
  const dsn = testDsn();
  if (!/^postgres(?:ql)?:\/\//.test(dsn)) {
    const quoted = Object.entries(params).map(([key, value]) => `${key}='${value.replace(/[\\']/g, (c) => `\\${c}`)}'`);
    return `${dsn} ${quoted.join(' ')}`;
  }
  const url = new URL(dsn);
  const query: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    if (key === 'user') url.username = encodeURIComponent(value);
    else if (key === 'dbname') url.pathname = `/${encodeURIComponent(value)}`;
    else query.push(`${key}=${encodeURIComponent(value)}`); // libpq reads %20 as a blank, not '+'
  }
  const base = url.toString();
  return query.length === 0 ? base : `${base}${base.includes('?') ? '&' : '?'}${query.join('&')}`;
}

let nameCounter = 0;

/**
 * A table or schema name that no other test file can collide with, even when
 * files run in parallel against the same database.
 */
export function uniqueName(prefix = 't'): string {
  const clean = prefix.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 30) || 't';
  const random = Math.random().toString(36).slice(2, 8);
  nameCounter += 1;
  // Identifiers longer than 63 bytes are silently truncated by the server.
  return `${clean}_${process.pid}_${nameCounter}_${random}`.slice(0, 63);
}

/** A connection to the test server; closed by the caller (or by `await using`). */
export async function connectTest(options: ConnectOptions = {}): Promise<Connection> {
  return connect(testDsn(), options);
}

/**
 * One connection to the test server shared by the tests of a file: opened before them, closed
 * after them. Called at the top level of a test file, or of a describe for its tests alone: it
 * registers that beforeAll and afterAll, so hooks registered after it find the connection open.
 * What it returns gives the connection, and throws outside hooks and tests, where there is none.
 */
export function sharedConnection(options: ConnectOptions = {}): () => Connection {
  let shared: Connection | undefined;
  beforeAll(async () => {
    shared = await connectTest(options);
  });
  afterAll(async () => {
    await shared?.close();
  });
  return () => {
    if (shared === undefined) throw new Error('the shared connection is open only in the hooks and tests of its file');
    return shared;
  };
}

/** What `closedAfterEach()` hands a test file: connections it opens or adopts. */
export interface ClosedAfterEach {
  /** a connection to the test server, closed after the test that opened it */
  open(options?: ConnectOptions): Promise<Connection>;
  /** `conn`, made some other way, closed after the test that made it */
  track<C extends Connection>(conn: C): C;
}

/**
 * Connections a test opens, closed after it whatever happened (a failed assertion included).
 * Called once at the top level of a test file: it registers the afterEach that closes them.
 */
export function closedAfterEach(): ClosedAfterEach {
  const opened: Connection[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((conn) => conn.close()));
  });
  return {
    async open(options: ConnectOptions = {}): Promise<Connection> {
      const conn = await connectTest(options);
      opened.push(conn);
      return conn;
    },
    track<C extends Connection>(conn: C): C {
      opened.push(conn);
      return conn;
    },
  };
}

/**
 * Pools a test makes, closed after it without waiting for their clients: the function returned
 * makes a pool of `conninfo` (the test server by default) with `defaults` under its options.
 * Called once at the top level of a test file: it registers the afterEach that closes them.
 */
export function poolsClosedAfterEach(defaults: PoolOptions): (options?: PoolOptions, conninfo?: Conninfo) => Pool {
  const pools: Pool[] = [];
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((pool) => pool.close(0)));
  });
  return (options = {}, conninfo = testDsn()) => {
    const pool = new Pool(conninfo, { ...defaults, ...options });
    pools.push(pool);
    return pool;
  };
}

/**
 * A new, empty table of `columns` ('id int primary key, v text') made on `conn`, its name
 * unique to this run and starting with `prefix`; `temp` makes it a temp table of `conn`.
 */
export async function makeTable(conn: Connection, columns: string, options: { prefix?: string; temp?: boolean } = {}): Promise<string> {
  const table = uniqueName(options.prefix ?? 't');
  await conn.query(`create ${options.temp ? 'temp ' : ''}table ${table} (${columns})`);
  return table;
}

/** `fn` run with these environment variables set (or, when undefined, unset), restored after it. */
export function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(vars)) {
    saved[key] = process.env[key];
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  return fn().finally(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });
}

/** The single value of a one-row, one-column query; fails the test on any other shape. */
export async function singleValue<T = unknown>(conn: Connection, text: string, params?: unknown[]): Promise<T> {
  const result = await conn.query<unknown[]>(text, params, { rowFactory: 'tuple' });
  expect(result.rows).toHaveLength(1);
  expect(result.rows[0]).toHaveLength(1);
  return result.rows[0][0] as T;
}

/**
 * `singleValue` on the connection `conn` gives (a `sharedConnection()`), or on the one passed
 * last: `one('select 1::int2')`, `one('select $1', [value], other)`.
 */
export function singleValueOn(conn: () => Connection): <T = unknown>(text: string, params?: unknown[], on?: Connection) => Promise<T> {
  return <T = unknown>(text: string, params?: unknown[], on: Connection = conn()) => singleValue<T>(on, text, params);
}

/** `fn` on a fresh autocommit connection to the test server, closed after it. */
export async function withConnection<T>(fn: (conn: Connection) => Promise<T>): Promise<T> {
  const conn = await connectTest({ autocommit: true });
  try {
    return await fn(conn);
  } finally {
    await conn.close();
  }
}

/** The error `fn` throws; fails the test when it returns. */
export function thrownBy(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error to be thrown');
}

/** The rejection of a promise; fails the test when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

/**
 * The statements the server ran for `conn` while `fn` ran, as its statement log records them:
 * with log_statement 'all' and client_min_messages 'log' the server sends each statement it
 * runs back as a LOG notice. What the server saw, whichever path inside pqnode sent it. Needs a
 * superuser (the test server's user is one); the settings are reset afterwards.
 */
export async function statementsLogged(conn: Connection, fn: () => Promise<unknown>): Promise<string[]> {
  const statements: string[] = [];
  const onNotice = (notice: Notice) => {
    const match = /^(?:statement|execute [^:]*): ([\s\S]*)$/.exec(notice.diag.messagePrimary ?? '');
    if (notice.severity === 'LOG' && match !== null) statements.push(match[1]);
  };
  await conn.query('SET log_parameter_max_length = 0');
  await conn.query("SET log_statement = 'all'");
  // last: the statements before it are not sent back
  await conn.query('SET client_min_messages = log');
  conn.on('notice', onNotice);
  try {
    await fn();
  } finally {
    conn.removeListener('notice', onNotice);
    // an aborted transaction takes no RESET: its rollback undoes the SETs
    if (!conn.closed && conn.info.transactionStatus !== 'inerror') await conn.query('RESET client_min_messages; RESET log_statement; RESET log_parameter_max_length');
  }
  return statements;
}
