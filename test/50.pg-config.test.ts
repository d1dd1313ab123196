// node-postgres configuration → libpq keywords: precedence, startup parameters, TLS material
// written to private files, password functions; and a few of them against the server.
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';

import { connectSettings, queryTimeoutOf, resolvePassword } from '../lib/pg/config';
import pg, { Client } from '../lib/pg';
import { rejectionOf, testDsn } from './helpers';

const cleanups: (() => void)[] = [];

function settings(config: Parameters<typeof connectSettings>[0], password?: string) {
  const made = connectSettings(config, password);
  cleanups.push(made.cleanup);
  return made;
}

afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----';

describe('connectSettings', () => {
  it('maps node-postgres fields onto libpq keywords', () => {
    const { keywords, connectTimeout } = settings(
      { host: 'db.example', port: 6543, user: 'u', database: 'd', application_name: 'app', connectionTimeoutMillis: 2500, ssl: false, client_encoding: 'UTF8' },
      'secret',
    );
    expect(keywords).toMatchObject({ host: 'db.example', port: '6543', user: 'u', dbname: 'd', password: 'secret', application_name: 'app', sslmode: 'disable', client_encoding: 'UTF8' });
    expect(connectTimeout).toBe(2.5);
  });

  it('connects to localhost over TCP when nothing names a host, as node-postgres does', () => {
    const saved = process.env.PGHOST;
    delete process.env.PGHOST;
    try {
      expect(settings({}).keywords.host).toBe('localhost');
    } finally {
      if (saved !== undefined) process.env.PGHOST = saved;
    }
  });

  it('lets the connection string win over the fields, and keeps its node-postgres parameters out of libpq', () => {
    const { keywords } = settings({
      connectionString: 'postgresql://alice:pw@h1:5433/shop?application_name=fromurl&ssl=false&statement_timeout=1000',
      user: 'bob',
      host: 'other',
    });
    expect(keywords).toMatchObject({ user: 'alice', password: 'pw', host: 'h1', port: '5433', dbname: 'shop', application_name: 'fromurl', sslmode: 'disable' });
    expect(keywords.options).toBe('-c statement_timeout=1000');
    expect(keywords).not.toHaveProperty('ssl');
  });

  it('sends statement, lock and idle-in-transaction timeouts as -c options after the given options', () => {
    const { keywords } = settings({ options: '-c search_path=a\\ b', statement_timeout: 5000, lock_timeout: 100, idle_in_transaction_session_timeout: 60000 });
    expect(keywords.options).toBe('-c search_path=a\\ b -c statement_timeout=5000 -c lock_timeout=100 -c idle_in_transaction_session_timeout=60000');
  });

  it('maps keepAlive to libpq keepalives', () => {
    expect(settings({ keepAlive: true, keepAliveInitialDelayMillis: 10000 }).keywords).toMatchObject({ keepalives: '1', keepalives_idle: '10' });
    expect(settings({ keepAlive: false }).keywords.keepalives).toBe('0');
  });

  it('writes inline TLS material to private files and removes them at cleanup', () => {
    const made = connectSettings({ ssl: { ca: PEM, cert: PEM, key: 'KEY', passphrase: 'p', minVersion: 'TLSv1.2' } }, undefined);
    const { keywords } = made;
    expect(keywords).toMatchObject({ sslmode: 'verify-full', sslpassword: 'p', ssl_min_protocol_version: 'TLSv1.2' });
    for (const file of [keywords.sslrootcert, keywords.sslcert, keywords.sslkey]) {
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    }
    expect(fs.readFileSync(keywords.sslrootcert, 'utf8')).toBe(`${PEM}\n`);
    expect(fs.readFileSync(keywords.sslkey, 'utf8')).toBe('KEY\n');
    const folder = keywords.sslkey.slice(0, keywords.sslkey.lastIndexOf('/'));
    expect(fs.statSync(folder).mode & 0o777).toBe(0o700);
    made.cleanup();
    expect(fs.existsSync(folder)).toBe(false);
  });

  it('maps rejectUnauthorized false to sslmode require, ssl true to verify-full with Node\'s CAs, no-verify to require', () => {
    expect(settings({ ssl: { rejectUnauthorized: false } }).keywords).toMatchObject({ sslmode: 'require' });
    expect(settings({ ssl: { rejectUnauthorized: false } }).keywords.sslrootcert).toBeUndefined();
    const strict = settings({ ssl: true }).keywords;
    expect(strict.sslmode).toBe('verify-full');
    expect(fs.readFileSync(strict.sslrootcert, 'utf8')).toContain('BEGIN CERTIFICATE');
    expect(settings({ connectionString: 'postgres://h/db?sslmode=no-verify' }).keywords.sslmode).toBe('require');
    expect(settings({ connectionString: 'postgres://h/db?sslmode=verify-ca' }).keywords.sslmode).toBe('verify-ca');
  });

  it('reads query_timeout from the config or the connection string', () => {
    expect(queryTimeoutOf({ query_timeout: 50 })).toBe(50);
    expect(queryTimeoutOf({ connectionString: 'postgres://h/db?query_timeout=70' })).toBe(70);
    expect(queryTimeoutOf({})).toBeUndefined();
  });

  it('resolves a password function, sync or async, and refuses a non-string', async () => {
    expect(await resolvePassword(() => 'a')).toBe('a');
    expect(await resolvePassword(async () => 'b')).toBe('b');
    await expect(resolvePassword((() => 42) as unknown as () => string)).rejects.toThrow(/must be a string/);
  });

  it('refuses an unparsable connection string', () => {
    expect(() => connectSettings({ connectionString: 'postgres://h/db?nonsense=1' }, undefined)).toThrow(/invalid connection string/);
  });
});

describe('against the server', () => {
  it('calls a password function when connecting, and sets application_name', async () => {
    let calls = 0;
    const c = new Client({
      connectionString: testDsn(),
      application_name: 'pqnode-pg-test',
      password: () => {
        calls++;
        return 'unused-with-trust-auth';
      },
    });
    await c.connect();
    try {
      expect(calls).toBe(1);
      expect((await c.query('SHOW application_name')).rows[0].application_name).toBe('pqnode-pg-test');
    } finally {
      await c.end();
    }
  });

  it('applies lock_timeout and idle_in_transaction_session_timeout', async () => {
    const c = new Client({ connectionString: testDsn(), lock_timeout: 1234, idle_in_transaction_session_timeout: 56789 });
    await c.connect();
    try {
      const { rows } = await c.query("SELECT current_setting('lock_timeout') AS l, current_setting('idle_in_transaction_session_timeout') AS i");
      expect(rows[0]).toEqual({ l: '1234ms', i: '56789ms' });
    } finally {
      await c.end();
    }
  });

  it('fails a connect whose password function throws, with its error', async () => {
    const c = new Client({ connectionString: testDsn(), password: () => Promise.reject(new Error('vault down')) });
    expect((await rejectionOf(c.connect())).message).toBe('vault down');
  });

  it('uses defaults changed by the user', () => {
    const saved = pg.defaults.application_name;
    pg.defaults.application_name = 'from-defaults';
    const savedEnv = process.env.PGAPPNAME;
    delete process.env.PGAPPNAME;
    try {
      expect(settings({}).keywords.application_name).toBe('from-defaults');
    } finally {
      pg.defaults.application_name = saved;
      if (savedEnv !== undefined) process.env.PGAPPNAME = savedEnv;
    }
  });
});
