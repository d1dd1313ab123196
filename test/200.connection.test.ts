import { lookup } from 'node:dns/promises';
import fs from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, errors, type Connection } from '../lib';
import { closedAfterEach, connectTest, testDsn, uniqueName, withEnv } from './helpers';

const ROOT = path.resolve(__dirname, '..');
const SECRET = 's3cretPW';

// ---------------------------------------------------------------------------------------
// helpers local to this file

interface DsnParts {
  host: string;
  port: number;
  user: string;
  dbname: string;
  password?: string;
}

/** The parts of the test DSN (URI or key=value form). */
function dsnParts(): DsnParts {
  const dsn = testDsn();
  if (/^postgres(ql)?:\/\//i.test(dsn)) {
    const url = new URL(dsn);
    const host = decodeURIComponent(url.hostname).replace(/^\[(.*)\]$/, '$1');
    return {
      host: host || 'localhost',
      port: url.port ? Number(url.port) : 5432,
      user: decodeURIComponent(url.username),
      dbname: decodeURIComponent(url.pathname.replace(/^\//, '')),
      password: url.password ? decodeURIComponent(url.password) : undefined,
    };
  }
  const pairs: Record<string, string> = {};
  for (const match of dsn.matchAll(/(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)/g)) {
    const raw = match[2];
    pairs[match[1]] = raw.startsWith("'") ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
  }
  return {
    host: pairs.host ?? 'localhost',
    port: pairs.port ? Number(pairs.port) : 5432,
    user: pairs.user ?? '',
    dbname: pairs.dbname ?? pairs.user ?? '',
    password: pairs.password,
  };
}

/** Connections opened by a test, closed after it whatever happened. */
const { open, track } = closedAfterEach();

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns true or `timeoutMs` passes; returns the last verdict. */
async function until(check: () => boolean | Promise<boolean>, timeoutMs = 3000, stepMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(stepMs);
  }
}

interface Outcome {
  resolved: boolean;
  value?: unknown;
  error?: unknown;
  /** Date.now() when the promise settled */
  at: number;
}

/** Watches `promise` from now on (so an early rejection is never unhandled) and records how it settled. */
function outcome(promise: Promise<unknown>): Promise<Outcome> {
  return promise.then(
    (value) => ({ resolved: true, value, at: Date.now() }),
    (error: unknown) => ({ resolved: false, error, at: Date.now() }),
  );
}

/** The error a settled outcome rejected with; fails the test when it resolved instead. */
function errorOf(settled: Outcome): unknown {
  if (settled.resolved) throw new Error(`expected a rejection, the promise resolved with ${inspect(settled.value)}`);
  return settled.error;
}

/** The rejection of `promise` (fails the test when it resolves), and how long it took. */
async function rejectionOf(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const start = Date.now();
  const settled = await outcome(promise);
  return { error: errorOf(settled), ms: settled.at - start };
}

/** A port on 127.0.0.1 with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface SilentServer {
  port: number;
  /** connections accepted so far */
  accepted(): number;
  /** connections the client closed (FIN received) */
  endedByClient(): number;
  close(): Promise<void>;
}

/** A TCP listener that accepts connections and never says a word. */
async function silentServer(): Promise<SilentServer> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  let ended = 0;
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('end', () => {
      ended++;
    });
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    accepted: () => accepted,
    endedByClient: () => ended,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function expectNoSecret(error: unknown): void {
  expect(error).toBeInstanceOf(Error);
  const err = error as Error;
  expect(err.message).not.toContain(SECRET);
  expect(String(err.stack)).not.toContain(SECRET);
  expect(inspect(err, { depth: 5 })).not.toContain(SECRET);
}

async function backendAlive(admin: Connection, pid: number): Promise<boolean> {
  const result = await admin.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where pid = $1', [pid]);
  return result.rows[0].n > 0;
}

async function waitUntilRunning(admin: Connection, pid: number, fragment: string): Promise<void> {
  const running = await until(async () => {
    const result = await admin.query<{ n: number }>(
      "select count(*)::int as n from pg_stat_activity where pid = $1 and state = 'active' and position($2 in query) > 0",
      [pid, fragment],
    );
    return result.rows[0].n > 0;
  });
  expect(running).toBe(true);
}

// ---------------------------------------------------------------------------------------
// connect()

describe('connect()', () => {
  it('connects with a URI', async () => {
    const conn = track(await connect(testDsn()));
    expect(conn.closed).toBe(false);
    expect(conn.broken).toBe(false);
    const result = await conn.query('select 1 as one, $1::text as two', ['x']);
    expect(result.rows).toEqual([{ one: 1, two: 'x' }]);
    expect(result.command).toBe('SELECT');
    expect(result.rowCount).toBe(1);
  });

  it("connects with a 'key=value' string", async () => {
    const parts = dsnParts();
    let conninfo = `host=${parts.host} port=${parts.port} dbname=${parts.dbname} user=${parts.user}`;
    if (parts.password) conninfo += ` password='${parts.password.replace(/['\\]/g, '\\$&')}'`;
    const conn = track(await connect(conninfo));
    const result = await conn.query<{ db: string; usr: string; port: number }>(
      'select current_database() as db, current_user as usr, inet_server_port() as port',
    );
    expect(result.rows).toEqual([{ db: parts.dbname, usr: parts.user, port: parts.port }]);
  });

  it('connects with an object of libpq keywords (port as a number)', async () => {
    const parts = dsnParts();
    const conn = track(
      await connect({
        host: parts.host,
        port: parts.port,
        dbname: parts.dbname,
        user: parts.user,
        password: parts.password,
        application_name: 'pqnode-object-form',
      }),
    );
    const result = await conn.query<{ db: string; app: string }>(
      "select current_database() as db, current_setting('application_name') as app",
    );
    expect(result.rows).toEqual([{ db: parts.dbname, app: 'pqnode-object-form' }]);
  });

  it('connects with no argument, from the PG* environment variables', async () => {
    const parts = dsnParts();
    await withEnv(
      {
        PGHOST: parts.host,
        PGPORT: String(parts.port),
        PGUSER: parts.user,
        PGDATABASE: parts.dbname,
        PGPASSWORD: parts.password,
        PGAPPNAME: 'pqnode-from-env',
      },
      async () => {
        const conn = track(await connect());
        const result = await conn.query<{ db: string; usr: string; port: number; app: string }>(
          "select current_database() as db, current_user as usr, inet_server_port() as port, current_setting('application_name') as app",
        );
        expect(result.rows).toEqual([{ db: parts.dbname, usr: parts.user, port: parts.port, app: 'pqnode-from-env' }]);
        expect(conn.info.port).toBe(parts.port);
        expect(conn.info.dbname).toBe(parts.dbname);
      },
    );
  });

  it('lets the PG* environment variables fill in what the conninfo leaves out', async () => {
    const parts = dsnParts();
    await withEnv({ PGHOST: parts.host, PGPORT: String(parts.port), PGPASSWORD: parts.password }, async () => {
      const conn = track(await connect({ dbname: parts.dbname, user: parts.user }));
      const result = await conn.query<{ port: number }>('select inet_server_port() as port');
      expect(result.rows[0].port).toBe(parts.port);
    });
  });

  it('always talks UTF8, even when PGCLIENTENCODING asks for another encoding', async () => {
    await withEnv({ PGCLIENTENCODING: 'LATIN1' }, async () => {
      const conn = track(await connectTest());
      expect(conn.info.parameterStatus('client_encoding')).toBe('UTF8');
      const result = await conn.query<{ s: string }>("select 'ħéllo ☃ 𝄞' as s");
      expect(result.rows[0].s).toBe('ħéllo ☃ 𝄞');
    });
  });

  it('applies the autocommit option', async () => {
    const manual = await open();
    expect(manual.autocommit).toBe(false);
    await manual.query('select 1');
    expect(manual.info.transactionStatus).toBe('intrans');

    const auto = await open({ autocommit: true });
    expect(auto.autocommit).toBe(true);
    await auto.query('select 1');
    expect(auto.info.transactionStatus).toBe('idle');
  });
});

describe('connect() failures', () => {
  it.each([
    ['an unknown keyword', 'host=x bogus_option=1'],
    ['a malformed URI', 'postgresql://[bad'],
    ['a non-numeric port', 'port=notanumber'],
    ['an unterminated quote', "host='127.0.0.1"],
  ])('rejects %s with OperationalError', async (_what, conninfo) => {
    const { error } = await rejectionOf(connect(conninfo));
    expect(error).toBeInstanceOf(errors.OperationalError);
    expect(error).toBeInstanceOf(errors.DatabaseError);
    expect(error).toBeInstanceOf(errors.Error);
    expect((error as Error).message.length).toBeGreaterThan(0);
  });

  it('rejects an unknown keyword in the object form with OperationalError', async () => {
    const { error } = await rejectionOf(connect({ host: '127.0.0.1', bogus_option: '1' }));
    expect(error).toBeInstanceOf(errors.OperationalError);
  });

  it('rejects with OperationalError when nothing listens on the port', async () => {
    const port = await closedPort();
    const { error, ms } = await rejectionOf(connect(`postgresql://postgres@127.0.0.1:${port}/postgres`));
    expect(error).toBeInstanceOf(errors.OperationalError);
    expect(error).not.toBeInstanceOf(errors.ConnectionTimeout);
    expect((error as Error).message).toMatch(/refused/i);
    expect(ms).toBeLessThan(5000);
  });

  it('tries the next host of a multi-host conninfo when the first one refuses', async () => {
    const parts = dsnParts();
    const port = await closedPort();
    let conninfo = `host=127.0.0.1,${parts.host} port=${port},${parts.port} dbname=${parts.dbname} user=${parts.user}`;
    if (parts.password) conninfo += ` password='${parts.password.replace(/['\\]/g, '\\$&')}'`;
    const conn = track(await connect(conninfo));
    expect(conn.info.port).toBe(parts.port);
    const result = await conn.query<{ port: number }>('select inet_server_port() as port');
    expect(result.rows[0].port).toBe(parts.port);
  });

  it('rejects an unknown host name with OperationalError', async () => {
    const { error } = await rejectionOf(connect('host=pqnode-no-such-host.invalid port=5432 connect_timeout=5'));
    expect(error).toBeInstanceOf(errors.OperationalError);
  });

  it('keeps the password out of the error (URI)', async () => {
    const { error } = await rejectionOf(connect(`postgresql://postgres:${SECRET}@127.0.0.1:1/x`));
    expect(error).toBeInstanceOf(errors.OperationalError);
    expectNoSecret(error);
    const port = await closedPort();
    const encoded = await rejectionOf(connect(`postgresql://postgres:${SECRET}%21@127.0.0.1:${port}/x?connect_timeout=5`));
    expect(encoded.error).toBeInstanceOf(errors.OperationalError);
    expectNoSecret(encoded.error);
  });

  it('keeps the password out of the error (key=value)', async () => {
    const port = await closedPort();
    const { error } = await rejectionOf(connect(`host=127.0.0.1 port=${port} user=postgres password=${SECRET} dbname=x`));
    expect(error).toBeInstanceOf(errors.OperationalError);
    expectNoSecret(error);
  });

  it('keeps the password out of the error (object)', async () => {
    const port = await closedPort();
    const { error } = await rejectionOf(connect({ host: '127.0.0.1', port, user: 'postgres', password: SECRET, dbname: 'x' }));
    expect(error).toBeInstanceOf(errors.OperationalError);
    expectNoSecret(error);
  });

  it('keeps the password out of a conninfo parse error', async () => {
    // libpq quotes the offending token, which here is the password itself
    const uri = await rejectionOf(connect(`postgresql://postgres:${SECRET}%zz@127.0.0.1:1/x`));
    expect(uri.error).toBeInstanceOf(errors.OperationalError);
    expectNoSecret(uri.error);

    const keyValue = await rejectionOf(connect(`host=127.0.0.1 password=${SECRET} bogus_option=1`));
    expect(keyValue.error).toBeInstanceOf(errors.OperationalError);
    expectNoSecret(keyValue.error);

    const badPort = await rejectionOf(connect({ host: '127.0.0.1', port: 'notanumber', password: SECRET }));
    expect(badPort.error).toBeInstanceOf(errors.OperationalError);
    expectNoSecret(badPort.error);
  });
});

describe('connect() failures: passwords in malformed conninfo', () => {
  it('keeps a password given as a URI query parameter out of a parse error', async () => {
    const { error } = await rejectionOf(connect(`postgresql://postgres@127.0.0.1:1/x?password=${SECRET}%zz`));
    expect(error).toBeInstanceOf(errors.OperationalError);
    expectNoSecret(error);
  });

  it('keeps the password of a URI given as the dbname keyword (a database name) out of the error', async () => {
    const { error } = await rejectionOf(connect({ dbname: `postgresql://postgres:${SECRET}%zz@127.0.0.1:1/x` }));
    expect(error).toBeInstanceOf(errors.OperationalError);
    expectNoSecret(error);
  });

  it('keeps a password out when a stray quote makes libpq read it as a keyword', async () => {
    // libpq takes "'SECRET password='" as the password, then quotes the bare SECRET after it
    const { error } = await rejectionOf(connect(`password='${SECRET} password='${SECRET} host=127.0.0.1 port=1`));
    expect(error).toBeInstanceOf(errors.OperationalError);
    expectNoSecret(error);
  });
});

describe('connect timeout and abort', () => {
  let silent: SilentServer;

  beforeAll(async () => {
    silent = await silentServer();
  });

  afterAll(async () => {
    await silent.close();
  });

  it('rejects with ConnectionTimeout after connectTimeout seconds when the server never answers', async () => {
    const before = silent.endedByClient();
    const { error, ms } = await rejectionOf(
      connect(`postgresql://postgres@127.0.0.1:${silent.port}/postgres`, { connectTimeout: 1 }),
    );
    expect(error).toBeInstanceOf(errors.ConnectionTimeout);
    expect(error).toBeInstanceOf(errors.OperationalError);
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(2500);
    // the half-open connection is not left behind
    expect(await until(() => silent.endedByClient() > before, 2000)).toBe(true);
  });

  it('honours a fractional connectTimeout, without blocking the event loop meanwhile', async () => {
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    try {
      const { error, ms } = await rejectionOf(
        connect({ host: '127.0.0.1', port: silent.port, user: 'postgres' }, { connectTimeout: 0.3 }),
      );
      expect(error).toBeInstanceOf(errors.ConnectionTimeout);
      expect(ms).toBeGreaterThanOrEqual(250);
      expect(ms).toBeLessThan(1500);
      expect(ticks).toBeGreaterThanOrEqual(10);
    } finally {
      clearInterval(ticker);
    }
  });

  it('honours connect_timeout given in the conninfo or in PGCONNECT_TIMEOUT', async () => {
    const start = Date.now();
    const fromConninfo = rejectionOf(connect(`host=127.0.0.1 port=${silent.port} user=postgres connect_timeout=2`));
    // the environment is restored as soon as connect() has been called
    const { pending } = await withEnv({ PGCONNECT_TIMEOUT: '2' }, async () => ({
      pending: outcome(connect({ host: '127.0.0.1', port: silent.port, user: 'postgres' })),
    }));
    const [conninfoResult, envOutcome] = await Promise.all([fromConninfo, pending]);
    expect(conninfoResult.error).toBeInstanceOf(errors.OperationalError);
    expect(conninfoResult.ms).toBeGreaterThanOrEqual(1500);
    expect(conninfoResult.ms).toBeLessThan(3500);
    expect(errorOf(envOutcome)).toBeInstanceOf(errors.OperationalError);
    expect(envOutcome.at - start).toBeGreaterThanOrEqual(1500);
    expect(envOutcome.at - start).toBeLessThan(3500);
  });

  it('rejects with TypeError for a connectTimeout that is not a positive number', async () => {
    await expect(connect(testDsn(), { connectTimeout: -1 })).rejects.toBeInstanceOf(TypeError);
    await expect(connect(testDsn(), { connectTimeout: 0 })).rejects.toBeInstanceOf(TypeError);
    // past a timer's limit it would fire at once: refused
    await expect(connect(testDsn(), { connectTimeout: Infinity })).rejects.toBeInstanceOf(RangeError);
    await expect(connect(testDsn(), { connectTimeout: 3e9 })).rejects.toBeInstanceOf(RangeError);
    await expect(connect(testDsn(), { cancelTimeout: 3e9 })).rejects.toBeInstanceOf(RangeError);
  });

  it('rejects promptly when the signal is aborted mid-connect', async () => {
    const before = silent.endedByClient();
    const acceptedBefore = silent.accepted();
    const controller = new AbortController();
    const pending = connect(`postgresql://postgres@127.0.0.1:${silent.port}/postgres`, { signal: controller.signal });
    expect(await until(() => silent.accepted() > acceptedBefore, 2000, 5)).toBe(true);
    const start = Date.now();
    controller.abort();
    const { error } = await rejectionOf(pending);
    expect(Date.now() - start).toBeLessThan(500);
    expect(error).toBe(controller.signal.reason);
    expect(await until(() => silent.endedByClient() > before, 2000)).toBe(true);
  });

  it('rejects with the abort reason the caller gave', async () => {
    const controller = new AbortController();
    const pending = connect(`postgresql://postgres@127.0.0.1:${silent.port}/postgres`, { signal: controller.signal });
    const reason = new Error('stop connecting');
    setTimeout(() => controller.abort(reason), 50);
    const { error, ms } = await rejectionOf(pending);
    expect(error).toBe(reason);
    expect(ms).toBeLessThan(1000);
  });

  it('rejects immediately, without touching the network, when the signal is already aborted', async () => {
    const acceptedBefore = silent.accepted();
    const controller = new AbortController();
    controller.abort();
    const { error, ms } = await rejectionOf(
      connect(`postgresql://postgres@127.0.0.1:${silent.port}/postgres`, { signal: controller.signal }),
    );
    expect(error).toBe(controller.signal.reason);
    expect(ms).toBeLessThan(100);
    await sleep(50);
    expect(silent.accepted()).toBe(acceptedBefore);
  });

  it('rejects an already aborted signal whose reason is no Error as one aborted while connecting', async () => {
    const acceptedBefore = silent.accepted();
    const { error } = await rejectionOf(connect(`postgresql://postgres@127.0.0.1:${silent.port}/postgres`, { signal: AbortSignal.abort('stop') }));
    expect(error).toBeInstanceOf(errors.OperationalError);
    expect((error as Error).message).toBe('connection aborted');
    await sleep(50);
    expect(silent.accepted()).toBe(acceptedBefore);
  });

  it('refuses a signal that is no AbortSignal with a TypeError, without touching the network', async () => {
    const acceptedBefore = silent.accepted();
    for (const signal of ['stop', 5, null, {}]) {
      const { error } = await rejectionOf(connect(`postgresql://postgres@127.0.0.1:${silent.port}/postgres`, { signal: signal as unknown as AbortSignal }));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(/signal must be an AbortSignal/);
    }
    await sleep(50);
    expect(silent.accepted()).toBe(acceptedBefore);
  });

  it('connects normally when a signal is given and never aborted', async () => {
    const controller = new AbortController();
    const conn = await open({ signal: controller.signal, connectTimeout: 5 });
    controller.abort();
    const result = await conn.query<{ n: number }>('select 7 as n');
    expect(result.rows[0].n).toBe(7);
    expect(conn.closed).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------
// conn.info

describe('conn.info', () => {
  it('reports the server and the session', async () => {
    const conn = await open({ autocommit: true });
    const parts = dsnParts();
    const result = await conn.query<{ version: string; pid: number; db: string; usr: string; port: number }>(
      "select current_setting('server_version_num') as version, pg_backend_pid() as pid, current_database() as db, current_user as usr, inet_server_port() as port",
    );
    const row = result.rows[0];
    const info = conn.info;
    expect(info.serverVersion).toBe(Number(row.version));
    expect(info.serverVersion).toBeGreaterThanOrEqual(150000);
    expect(info.backendPid).toBe(row.pid);
    expect(info.backendPid).toBeGreaterThan(0);
    expect(info.dbname).toBe(row.db);
    expect(info.dbname).toBe(parts.dbname);
    expect(info.user).toBe(row.usr);
    expect(info.user).toBe(parts.user);
    expect(info.port).toBe(row.port);
    expect(info.port).toBe(parts.port);
    expect(typeof info.port).toBe('number');
    expect(info.host).toBe(parts.host);
    expect(info.ssl).toBe(false);
    expect(Number.isInteger(info.libpqVersion)).toBe(true);
    expect(info.libpqVersion).toBeGreaterThan(0);
  });

  it('tracks the transaction status', async () => {
    const conn = await open();
    expect(conn.info.transactionStatus).toBe('idle');
    await conn.query('select 1');
    expect(conn.info.transactionStatus).toBe('intrans');
    await expect(conn.query('select 1/0')).rejects.toBeInstanceOf(errors.DivisionByZero);
    expect(conn.info.transactionStatus).toBe('inerror');
    await conn.rollback();
    expect(conn.info.transactionStatus).toBe('idle');
    await conn.query('select 1');
    await conn.commit();
    expect(conn.info.transactionStatus).toBe('idle');
  });

  it("reports 'active' while a statement runs", async () => {
    const conn = await open({ autocommit: true });
    const running = conn.query('select pg_sleep(0.3)');
    await sleep(50);
    expect(conn.info.transactionStatus).toBe('active');
    await running;
    expect(conn.info.transactionStatus).toBe('idle');
  });

  it('reads parameter statuses', async () => {
    const conn = await open();
    expect(conn.info.parameterStatus('server_encoding')).toBe('UTF8');
    expect(conn.info.parameterStatus('client_encoding')).toBe('UTF8');
    expect(conn.info.parameterStatus('DateStyle')).toMatch(/^ISO/);
    expect(conn.info.parameterStatus('no_such_parameter')).toBeNull();
    const version = await conn.query<{ v: string }>("select current_setting('server_version') as v");
    expect(conn.info.parameterStatus('server_version')).toBe(version.rows[0].v);
  });

  it('follows parameter changes the server reports', async () => {
    const conn = await open({ autocommit: true });
    await conn.query("set application_name = 'pqnode-renamed'");
    expect(conn.info.parameterStatus('application_name')).toBe('pqnode-renamed');
  });

  it('says unknown / null once the connection is closed', async () => {
    const conn = await open();
    await conn.close();
    expect(conn.info.transactionStatus).toBe('unknown');
    expect(conn.info.parameterStatus('server_encoding')).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------
// closing, disposal, lost connections

describe('close()', () => {
  it('closes: closed is true, broken false, queries reject with InterfaceError', async () => {
    const conn = await open();
    await conn.close();
    expect(conn.closed).toBe(true);
    expect(conn.broken).toBe(false);
    await expect(conn.query('select 1')).rejects.toBeInstanceOf(errors.InterfaceError);
    await expect(conn.execute('select 1')).rejects.toBeInstanceOf(errors.InterfaceError);
    await expect(conn.listen('ch')).rejects.toBeInstanceOf(errors.InterfaceError);
    await expect(conn.notify('ch', 'x')).rejects.toBeInstanceOf(errors.InterfaceError);
    await expect(conn.cancel()).rejects.toBeInstanceOf(errors.InterfaceError);
    expect(() => conn.cursor()).toThrow(errors.InterfaceError);
  });

  it('may be called twice, or concurrently', async () => {
    const conn = await open();
    await Promise.all([conn.close(), conn.close()]);
    await expect(conn.close()).resolves.toBeUndefined();
    expect(conn.closed).toBe(true);
    expect(conn.broken).toBe(false);
  });

  it('ends the backend on the server', async () => {
    const admin = await open({ autocommit: true });
    const conn = await open();
    const pid = conn.info.backendPid;
    expect(await backendAlive(admin, pid)).toBe(true);
    await conn.close();
    expect(await until(() => backendAlive(admin, pid).then((alive) => !alive))).toBe(true);
  });

  it('closes with await using', async () => {
    let escaped: Connection | undefined;
    {
      await using conn = await connectTest();
      escaped = conn;
      const result = await conn.query<{ n: number }>('select 1 as n');
      expect(result.rows[0].n).toBe(1);
      expect(conn.closed).toBe(false);
    }
    expect(escaped.closed).toBe(true);
    expect(escaped.broken).toBe(false);
    await expect(escaped.query('select 1')).rejects.toBeInstanceOf(errors.InterfaceError);
  });

  it('closes with await using when the block throws', async () => {
    let escaped: Connection | undefined;
    await expect(
      (async () => {
        await using conn = await connectTest();
        escaped = conn;
        throw new Error('inside the block');
      })(),
    ).rejects.toThrow('inside the block');
    expect(escaped?.closed).toBe(true);
  });

  it('has Symbol.asyncDispose that closes', async () => {
    const conn = await open();
    expect(typeof conn[Symbol.asyncDispose]).toBe('function');
    await conn[Symbol.asyncDispose]();
    expect(conn.closed).toBe(true);
  });

  it('rejects a query in flight with InterfaceError, without waiting for the server', async () => {
    const conn = await open();
    const running = outcome(conn.query('select pg_sleep(2)'));
    const queued = outcome(conn.query('select 2'));
    await sleep(50);
    const start = Date.now();
    await conn.close();
    const first = await running;
    const second = await queued;
    expect(errorOf(first)).toBeInstanceOf(errors.InterfaceError);
    expect(errorOf(second)).toBeInstanceOf(errors.InterfaceError);
    expect(first.at - start).toBeLessThan(500);
    expect(second.at - start).toBeLessThan(500);
    expect(conn.broken).toBe(false);
  });
});

describe('garbage collection', () => {
  it('closes a connection that was dropped while open', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const admin = await open({ autocommit: true });
    const pid = await (async () => {
      const dropped = await connectTest();
      await dropped.query('select 1');
      return dropped.info.backendPid;
    })();
    expect(await backendAlive(admin, pid)).toBe(true);
    const gone = await until(
      async () => {
        gc();
        await sleep(10);
        return !(await backendAlive(admin, pid));
      },
      5000,
      20,
    );
    expect(gone).toBe(true);
  });
});

describe('a connection whose backend is terminated', () => {
  it('notices it while idle, then rejects queries with OperationalError', async () => {
    const admin = await open({ autocommit: true });
    const victim = await open();
    const pid = victim.info.backendPid;
    const killed = await admin.query<{ ok: boolean }>('select pg_terminate_backend($1) as ok', [pid]);
    expect(killed.rows[0].ok).toBe(true);
    expect(await until(() => victim.broken, 3000)).toBe(true);
    expect(victim.closed).toBe(true);
    expect(victim.info.transactionStatus).toBe('unknown');
    await expect(victim.query('select 1')).rejects.toBeInstanceOf(errors.OperationalError);
    await expect(victim.query('select 1')).rejects.not.toBeInstanceOf(errors.InterfaceError);
    // close() on a broken connection is harmless and keeps it reported as broken
    await victim.close();
    expect(victim.broken).toBe(true);
    expect(victim.closed).toBe(true);
    // the rest of the process is unaffected
    const result = await admin.query<{ n: number }>('select 5 as n');
    expect(result.rows[0].n).toBe(5);
  });

  it('rejects the next query with OperationalError when it is sent right after the kill', async () => {
    const admin = await open({ autocommit: true });
    const victim = await open({ autocommit: true });
    await admin.query('select pg_terminate_backend($1)', [victim.info.backendPid]);
    const { error } = await rejectionOf(victim.query('select 1'));
    expect(error).toBeInstanceOf(errors.OperationalError);
    expect(victim.broken).toBe(true);
    expect(victim.closed).toBe(true);
    await expect(victim.query('select 1')).rejects.toBeInstanceOf(errors.OperationalError);
  });

  it('rejects a query in flight with OperationalError and marks the connection broken', async () => {
    const admin = await open({ autocommit: true });
    const victim = await open({ autocommit: true });
    const pid = victim.info.backendPid;
    const running = outcome(victim.query('select pg_sleep(10)'));
    await waitUntilRunning(admin, pid, 'pg_sleep(10)');
    const start = Date.now();
    await admin.query('select pg_terminate_backend($1)', [pid]);
    const settled = await running;
    expect(errorOf(settled)).toBeInstanceOf(errors.OperationalError);
    expect(settled.at - start).toBeLessThan(3000);
    expect(victim.broken).toBe(true);
    expect(victim.closed).toBe(true);
    await expect(victim.query('select 1')).rejects.toBeInstanceOf(errors.OperationalError);
    await expect(victim.commit()).rejects.toBeInstanceOf(errors.OperationalError);
    const result = await admin.query<{ n: number }>('select 6 as n');
    expect(result.rows[0].n).toBe(6);
  });

  it('rejects every pipelined query in flight', async () => {
    const admin = await open({ autocommit: true });
    const victim = await open({ autocommit: true });
    const pid = victim.info.backendPid;
    const queries = [victim.query('select pg_sleep(10)'), victim.query('select 1'), victim.query('select 2')].map(outcome);
    await waitUntilRunning(admin, pid, 'pg_sleep(10)');
    await admin.query('select pg_terminate_backend($1)', [pid]);
    for (const query of queries) {
      expect(errorOf(await query)).toBeInstanceOf(errors.OperationalError);
    }
    expect(victim.broken).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------
// notices

describe('notices', () => {
  it("emits 'notice' with the message, severity and diag", async () => {
    const conn = await open();
    const seen: { message: string; severity?: string; sqlstate?: string; diag: errors.Diagnostic }[] = [];
    conn.on('notice', (notice) => seen.push(notice));
    await conn.query("do $$ begin raise notice 'hello %', 42; end $$");
    expect(seen).toHaveLength(1);
    const notice = seen[0];
    expect(notice.message).toContain('hello 42');
    expect(notice.severity).toBe('NOTICE');
    expect(notice.sqlstate).toBe('00000');
    expect(notice.diag.messagePrimary).toBe('hello 42');
    expect(notice.diag.severity).toBe('NOTICE');
    expect(conn.notices.at(-1)?.diag.messagePrimary).toBe('hello 42');
  });

  it('delivers notices before the query that raised them resolves, in order', async () => {
    const conn = await open();
    const order: string[] = [];
    conn.on('notice', (notice) => order.push(`notice ${notice.diag.messagePrimary}`));
    const done = conn
      .query("do $$ begin raise notice 'one'; raise warning 'two'; raise notice 'three'; end $$")
      .then(() => order.push('resolved'));
    await done;
    expect(order).toEqual(['notice one', 'notice two', 'notice three', 'resolved']);
    expect(conn.notices.map((notice) => notice.severity)).toEqual(['NOTICE', 'WARNING', 'NOTICE']);
  });

  it('keeps the last 50 notices', async () => {
    const conn = await open();
    let emitted = 0;
    conn.on('notice', () => emitted++);
    await conn.query("do $$ begin for i in 1..60 loop raise notice 'n%', i; end loop; end $$");
    expect(emitted).toBe(60);
    expect(conn.notices).toHaveLength(50);
    expect(conn.notices[0].diag.messagePrimary).toBe('n11');
    expect(conn.notices[49].diag.messagePrimary).toBe('n60');
    expect(conn.notices.at(-1)?.message).toContain('n60');
  });
});

// ---------------------------------------------------------------------------------------
// LISTEN / NOTIFY

interface Notification {
  channel: string;
  payload: string;
  pid: number;
}

function collect(conn: Connection): Notification[] {
  const seen: Notification[] = [];
  conn.on('notification', (notification: Notification) => seen.push(notification));
  return seen;
}

describe('LISTEN / NOTIFY', () => {
  it('delivers a notification from another connection while the listener is idle', async () => {
    const listener = await open();
    const sender = await open({ autocommit: true });
    const channel = uniqueName('chan');
    const seen = collect(listener);
    await listener.listen(channel);
    await sender.notify(channel, 'the payload');
    // nothing runs on the listener: the notification must arrive on its own
    expect(await until(() => seen.length > 0, 3000)).toBe(true);
    expect(seen).toEqual([{ channel, payload: 'the payload', pid: sender.info.backendPid }]);
  });

  it('delivers a notification that arrives while the listener runs a statement', async () => {
    const listener = await open({ autocommit: true });
    const sender = await open({ autocommit: true });
    const channel = uniqueName('busy');
    const seen = collect(listener);
    await listener.listen(channel);
    const busy = listener.query('select pg_sleep(0.3)');
    await sleep(50);
    await sender.notify(channel, 'during');
    await busy;
    expect(await until(() => seen.length > 0, 3000)).toBe(true);
    expect(seen.map((n) => n.payload)).toEqual(['during']);
  });

  it('delivers an empty payload as an empty string', async () => {
    const listener = await open({ autocommit: true });
    const sender = await open({ autocommit: true });
    const channel = uniqueName('chan');
    const seen = collect(listener);
    await listener.listen(channel);
    await sender.notify(channel);
    await sender.query(`notify ${channel}`);
    expect(await until(() => seen.length >= 2, 3000)).toBe(true);
    expect(seen.map((n) => n.payload)).toEqual(['', '']);
  });

  it('delivers a notification sent by the same connection', async () => {
    const conn = await open({ autocommit: true });
    const channel = uniqueName('self');
    const seen = collect(conn);
    await conn.listen(channel);
    await conn.notify(channel, 'to myself');
    expect(await until(() => seen.length > 0, 3000)).toBe(true);
    expect(seen[0]).toEqual({ channel, payload: 'to myself', pid: conn.info.backendPid });
  });

  it('holds a notification sent inside a transaction until commit', async () => {
    const listener = await open({ autocommit: true });
    const sender = await open();
    const channel = uniqueName('tx');
    const seen = collect(listener);
    await listener.listen(channel);
    await sender.notify(channel, 'after commit');
    await listener.query('select pg_sleep(0.1)');
    expect(seen).toEqual([]);
    await sender.commit();
    expect(await until(() => seen.length > 0, 3000)).toBe(true);
    expect(seen[0].payload).toBe('after commit');
  });

  it('quotes channel names that need it', async () => {
    const listener = await open({ autocommit: true });
    const sender = await open({ autocommit: true });
    const mixed = 'Mixed Case chan';
    const quoted = 'say "hi"; drop table x';
    const lower = 'mixed case chan';
    const seen = collect(listener);
    await listener.listen(mixed);
    await listener.listen(quoted);
    await sender.notify(lower, 'wrong case');
    await sender.notify(mixed, 'm');
    await sender.notify(quoted, 'q');
    expect(await until(() => seen.length >= 2, 3000)).toBe(true);
    await sleep(50);
    expect(seen.map((n) => [n.channel, n.payload])).toEqual([
      [mixed, 'm'],
      [quoted, 'q'],
    ]);
    await listener.unlisten(quoted);
    await sender.notify(quoted, 'after unlisten');
    await sender.notify(mixed, 'still listening');
    expect(await until(() => seen.length >= 3, 3000)).toBe(true);
    await sleep(50);
    expect(seen.map((n) => n.payload)).toEqual(['m', 'q', 'still listening']);
  });

  it('stops delivery after unlisten', async () => {
    const listener = await open({ autocommit: true });
    const sender = await open({ autocommit: true });
    const gone = uniqueName('gone');
    const kept = uniqueName('kept');
    const seen = collect(listener);
    await listener.listen(gone);
    await listener.listen(kept);
    await sender.notify(gone, '1');
    expect(await until(() => seen.length >= 1, 3000)).toBe(true);
    await listener.unlisten(gone);
    await sender.notify(gone, '2');
    await sender.notify(kept, '3');
    expect(await until(() => seen.length >= 2, 3000)).toBe(true);
    await sleep(50);
    expect(seen.map((n) => [n.channel, n.payload])).toEqual([
      [gone, '1'],
      [kept, '3'],
    ]);
  });

  it('stops delivery on every channel after unlisten()', async () => {
    const listener = await open({ autocommit: true });
    const sender = await open({ autocommit: true });
    const a = uniqueName('a');
    const b = uniqueName('b');
    const seen = collect(listener);
    await listener.listen(a);
    await listener.listen(b);
    await listener.unlisten();
    await sender.notify(a, 'x');
    await sender.notify(b, 'y');
    await listener.query('select pg_sleep(0.1)');
    await sleep(50);
    expect(seen).toEqual([]);
  });

  it('rejects an empty channel name with ProgrammingError', async () => {
    const conn = await open();
    await expect(conn.listen('')).rejects.toBeInstanceOf(errors.ProgrammingError);
    await expect(conn.notify('')).rejects.toBeInstanceOf(errors.ProgrammingError);
  });

  it('notifies() yields the notifications in order and ends when the connection closes', async () => {
    const listener = await open({ autocommit: true });
    const sender = await open({ autocommit: true });
    const channel = uniqueName('iter');
    await listener.listen(channel);
    const received: Notification[] = [];
    let ended = false;
    const loop = (async () => {
      for await (const notification of listener.notifies()) received.push(notification);
      ended = true;
    })();
    for (let i = 1; i <= 5; i++) await sender.notify(channel, `m${i}`);
    expect(await until(() => received.length >= 5, 3000)).toBe(true);
    expect(received.map((n) => n.payload)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(received.every((n) => n.channel === channel && n.pid === sender.info.backendPid)).toBe(true);
    expect(ended).toBe(false);
    await listener.close();
    await Promise.race([loop, sleep(2000)]);
    expect(ended).toBe(true);
  });

  it('notifies() throws when the connection is lost', async () => {
    const admin = await open({ autocommit: true });
    const listener = await open({ autocommit: true });
    let thrown: unknown;
    const loop = (async () => {
      try {
        for await (const _notification of listener.notifies()) {
          // nothing is sent
        }
      } catch (error) {
        thrown = error;
      }
    })();
    await admin.query('select pg_terminate_backend($1)', [listener.info.backendPid]);
    await Promise.race([loop, sleep(3000)]);
    expect(thrown).toBeInstanceOf(errors.OperationalError);
    expect(listener.broken).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------
// worker_threads

/** lib/**.ts transpiled to CommonJS, by absolute file name, for workers to load without a build. */
let libSources: Record<string, string> = {};

function transpileLib(): Record<string, string> {
  const sources: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const output = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
          fileName: file,
          compilerOptions: {
            module: ts.ModuleKind.CommonJS,
            target: ts.ScriptTarget.ES2022,
            esModuleInterop: true,
            isolatedModules: true,
            preserveConstEnums: true,
          },
        });
        sources[file] = output.outputText;
      }
    }
  };
  walk(path.join(ROOT, 'lib'));
  return sources;
}

const WORKER_PRELUDE = `
const { parentPort, workerData } = require('node:worker_threads');
require.extensions['.ts'] = (module, filename) => {
  const code = workerData.sources[filename];
  if (code === undefined) throw new Error('no transpiled source for ' + filename);
  module._compile(code, filename);
};
const pqnode = require(workerData.entry);
`;

interface WorkerRun {
  worker: Worker;
  messages: unknown[];
  exited: Promise<number>;
  next(): Promise<unknown>;
}

function runWorker(body: string, data: Record<string, unknown>): WorkerRun {
  const worker = new Worker(WORKER_PRELUDE + body, {
    eval: true,
    workerData: { sources: libSources, entry: path.join(ROOT, 'lib', 'index.ts'), dsn: testDsn(), ...data },
  });
  const messages: unknown[] = [];
  const waiters: ((message: unknown) => void)[] = [];
  let failure: Error | undefined;
  worker.on('message', (message) => {
    const waiter = waiters.shift();
    if (waiter) waiter(message);
    else messages.push(message);
  });
  worker.on('error', (error) => {
    failure = error;
    for (const waiter of waiters.splice(0)) waiter({ workerError: String(error?.stack ?? error) });
  });
  const exited = new Promise<number>((resolve) => worker.on('exit', resolve));
  return {
    worker,
    messages,
    exited,
    next: () => {
      if (messages.length > 0) return Promise.resolve(messages.shift());
      if (failure) return Promise.resolve({ workerError: String(failure.stack ?? failure) });
      return new Promise((resolve) => waiters.push(resolve));
    },
  };
}

describe('worker_threads', () => {
  beforeAll(() => {
    libSources = transpileLib();
  });

  it('connects, queries and closes inside a worker', async () => {
    const run = runWorker(
      `
      (async () => {
        const conn = await pqnode.connect(workerData.dsn);
        const result = await conn.query('select $1::int + 1 as n, pg_backend_pid() as pid', [41]);
        parentPort.postMessage({ rows: result.rows, pid: conn.info.backendPid });
        await conn.close();
        parentPort.postMessage({ closed: conn.closed });
      })().catch((error) => parentPort.postMessage({ error: String(error && error.stack || error) }));
      `,
      {},
    );
    const first = (await run.next()) as { rows: { n: number; pid: number }[]; pid: number };
    expect(first).not.toHaveProperty('error');
    expect(first).not.toHaveProperty('workerError');
    expect(first.rows).toEqual([{ n: 42, pid: first.pid }]);
    expect(await run.next()).toEqual({ closed: true });
    // a closed connection keeps nothing alive: the worker ends by itself
    expect(await Promise.race([run.exited, sleep(3000).then(() => 'still running')])).toBe(0);
  });

  it('closes what a worker left open when the worker exits', async () => {
    const admin = await open({ autocommit: true });
    const run = runWorker(
      `
      (async () => {
        const conn = await pqnode.connect(workerData.dsn);
        await conn.query('select 1');
        parentPort.postMessage({ pid: conn.info.backendPid });
        await new Promise((resolve) => setTimeout(resolve, 20));
        process.exit(0);
      })().catch((error) => parentPort.postMessage({ error: String(error && error.stack || error) }));
      `,
      {},
    );
    const message = (await run.next()) as { pid: number };
    expect(message.pid).toBeGreaterThan(0);
    expect(await run.exited).toBe(0);
    // the main thread keeps working
    const result = await admin.query<{ n: number }>('select 3 as n');
    expect(result.rows[0].n).toBe(3);
    expect(await until(() => backendAlive(admin, message.pid).then((alive) => !alive), 5000, 50)).toBe(true);
  });

  it('closes what a worker left open when the worker is terminated', async () => {
    const admin = await open({ autocommit: true });
    const run = runWorker(
      `
      (async () => {
        const conn = await pqnode.connect(workerData.dsn);
        parentPort.postMessage({ pid: conn.info.backendPid });
        // a statement still running when the worker is torn down
        await conn.query('select pg_sleep(30)');
      })().catch((error) => parentPort.postMessage({ error: String(error && error.stack || error) }));
      `,
      {},
    );
    const message = (await run.next()) as { pid: number };
    expect(message.pid).toBeGreaterThan(0);
    await sleep(50);
    await run.worker.terminate();
    await run.exited;
    const result = await admin.query<{ n: number }>('select 4 as n');
    expect(result.rows[0].n).toBe(4);
    // the client socket is closed; the server notices when the sleep's backend checks its client
    await admin.query('select pg_cancel_backend($1)', [message.pid]);
    expect(await until(() => backendAlive(admin, message.pid).then((alive) => !alive), 5000, 50)).toBe(true);
  });

  it('survives a worker that exits while it is still connecting', async () => {
    const silent = await silentServer();
    try {
      const run = runWorker(
        `
        pqnode.connect({ host: '127.0.0.1', port: workerData.port, user: 'postgres' }).catch(() => undefined);
        setTimeout(() => {
          parentPort.postMessage('connecting');
          process.exit(0);
        }, 50);
        `,
        { port: silent.port },
      );
      expect(await run.next()).toBe('connecting');
      expect(await run.exited).toBe(0);
      expect(silent.accepted()).toBe(1);
      // the socket of the abandoned attempt is closed with the worker
      expect(await until(() => silent.endedByClient() === 1, 2000)).toBe(true);
      const conn = await open();
      const result = await conn.query<{ n: number }>('select 11 as n');
      expect(result.rows[0].n).toBe(11);
    } finally {
      await silent.close();
    }
  });

  it('runs connections in several workers at once', async () => {
    const runs = [1, 2, 3].map((i) =>
      runWorker(
        `
        (async () => {
          const conn = await pqnode.connect(workerData.dsn);
          const result = await conn.query('select $1::int * 10 as n', [workerData.i]);
          await conn.close();
          parentPort.postMessage(result.rows[0].n);
        })().catch((error) => parentPort.postMessage({ error: String(error && error.stack || error) }));
        `,
        { i },
      ),
    );
    const values = await Promise.all(runs.map((run) => run.next()));
    expect(values).toEqual([10, 20, 30]);
    await Promise.all(runs.map((run) => run.exited));
  });
});

// ---------------------------------------------------------------------------------------
// many connections, cancel

describe('many connections', () => {
  it('opens 20 connections concurrently, queries each and closes them all', async () => {
    const conns = await Promise.all(Array.from({ length: 20 }, () => open({ autocommit: true })));
    const results = await Promise.all(
      conns.map((conn, i) => conn.query<{ n: number; pid: number }>('select $1::int as n, pg_backend_pid() as pid', [i])),
    );
    expect(results.map((result) => result.rows[0].n)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    const pids = new Set(results.map((result) => result.rows[0].pid));
    expect(pids.size).toBe(20);
    results.forEach((result, i) => expect(result.rows[0].pid).toBe(conns[i].info.backendPid));
    await Promise.all(conns.map((conn) => conn.close()));
    expect(conns.every((conn) => conn.closed && !conn.broken)).toBe(true);
  });
});

describe('cancel()', () => {
  it('cancels the running statement with QueryCanceled; the connection stays usable', async () => {
    const admin = await open({ autocommit: true });
    const conn = await open({ autocommit: true });
    const running = outcome(conn.query('select pg_sleep(10)'));
    await waitUntilRunning(admin, conn.info.backendPid, 'pg_sleep(10)');
    const start = Date.now();
    await conn.cancel();
    const settled = await running;
    const error = errorOf(settled);
    expect(settled.at - start).toBeLessThan(2000);
    expect(error).toBeInstanceOf(errors.QueryCanceled);
    expect(error).toBeInstanceOf(errors.QueryCanceledError);
    expect(error).toBeInstanceOf(errors.OperationalError);
    expect((error as errors.Error).sqlstate).toBe('57014');
    expect((error as errors.Error).diag.sqlstate).toBe('57014');
    expect(conn.closed).toBe(false);
    expect(conn.broken).toBe(false);
    const result = await conn.query<{ n: number }>('select 8 as n');
    expect(result.rows[0].n).toBe(8);
  });

  it('cancels inside a transaction; rollback makes the connection usable again', async () => {
    const admin = await open({ autocommit: true });
    const conn = await open();
    const running = outcome(conn.query('select pg_sleep(10)'));
    await waitUntilRunning(admin, conn.info.backendPid, 'pg_sleep(10)');
    await conn.cancel();
    expect(errorOf(await running)).toBeInstanceOf(errors.QueryCanceled);
    expect(conn.info.transactionStatus).toBe('inerror');
    await expect(conn.query('select 1')).rejects.toBeInstanceOf(errors.InFailedSqlTransaction);
    await conn.rollback();
    const result = await conn.query<{ n: number }>('select 9 as n');
    expect(result.rows[0].n).toBe(9);
  });

  it('is harmless when nothing runs', async () => {
    const conn = await open({ autocommit: true });
    await expect(conn.cancel()).resolves.toBeUndefined();
    await sleep(50);
    const result = await conn.query<{ n: number }>('select 10 as n');
    expect(result.rows[0].n).toBe(10);
  });
});

describe('host names are resolved off the event loop', () => {
  const server = new URL(testDsn());
  const port = server.port || '5432';

  it('connects through a host name, which info.host still reports', async (context) => {
    const name = hostname();
    const addresses = await lookup(name, { all: true }).catch(() => []);
    // the machine's own name only serves here when it points at the loopback server
    if (!addresses.some((entry) => entry.address === '127.0.0.1')) context.skip();
    const conn = await connect(`host=${name} port=${port} user=postgres dbname=postgres`);
    try {
      expect(conn.info.host).toBe(name);
      expect((await conn.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await conn.close();
    }
  });

  it('a name that does not resolve is an OperationalError that names it', async () => {
    const error = await connect(`host=no-such-host.invalid port=${port} user=postgres`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(errors.OperationalError);
    expect((error as Error).message).toContain('no-such-host.invalid');
  });

  it('a multi-host conninfo skips a name that does not resolve', async () => {
    const conn = await connect(`host=no-such-host.invalid,127.0.0.1 port=${port},${port} user=postgres dbname=postgres`);
    try {
      expect(conn.info.host).toBe('127.0.0.1');
    } finally {
      await conn.close();
    }
  });
});
