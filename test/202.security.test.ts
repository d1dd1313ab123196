// SSL and SCRAM against a server of its own: a CA and a server certificate made with openssl
// for this run, hostssl + scram-sha-256 for one user, and passwords kept out of every message.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, errors, Pool, type Connection } from '../lib';
import { errorOf } from './fault-helpers';
import { loadTestServerModule, type TestServer } from './helpers';

const USER = 'pqnode_scram';
const PASSWORD = "Pw-9f3k'x q%@/secret";
const WRONG_PASSWORD = 'Wrong-pw-7d2m-nope';

let server: TestServer;
let certDir: string;
let caFile: string;
let otherCaFile: string;

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: certDir, stdio: 'pipe' });
}

/** A CA and a server certificate for localhost and 127.0.0.1, signed by it. */
function makeCertificates(): { cert: string; key: string } {
  certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pqnode-certs-'));
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const name of ['ca', 'other-ca']) {
    openssl(['req', '-x509', ...ecKey, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=pqnode test ${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  }
  openssl(['req', ...ecKey, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
  fs.writeFileSync(path.join(certDir, 'san.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'san.cnf']);
  caFile = path.join(certDir, 'ca.crt');
  otherCaFile = path.join(certDir, 'other-ca.crt');
  return {
    cert: fs.readFileSync(path.join(certDir, 'server.crt'), 'utf8'),
    key: fs.readFileSync(path.join(certDir, 'server.key'), 'utf8'),
  };
}

beforeAll(async () => {
  const { cert, key } = makeCertificates();
  const { startTestServer } = await loadTestServerModule();
  server = await startTestServer({
    settings: { ssl: 'on', ssl_cert_file: 'server.crt', ssl_key_file: 'server.key', password_encryption: 'scram-sha-256' },
    files: { 'server.crt': cert, 'server.key': key },
    hba: [`hostnossl all ${USER} 127.0.0.1/32 reject`, `hostssl all ${USER} 127.0.0.1/32 scram-sha-256`, `hostssl all ${USER} ::1/128 scram-sha-256`],
  });
  const admin = await connect(server.dsn, { autocommit: true });
  try {
    const literal = `'${PASSWORD.replace(/'/g, "''")}'`;
    await admin.query(`create role ${USER} login password ${literal}`);
  } finally {
    await admin.close();
  }
});

afterAll(async () => {
  await server?.stop();
  if (certDir) fs.rmSync(certDir, { recursive: true, force: true });
});

function scram(extra: Record<string, string> = {}) {
  return { host: '127.0.0.1', port: server.port, dbname: 'postgres', user: USER, password: PASSWORD, sslmode: 'require', ...extra };
}

/** Every way an error can reach a log. */
function everythingShown(error: unknown): string {
  const e = error as Error;
  return [e.message, e.stack, String(e), inspect(e, { depth: 5 }), JSON.stringify(e), inspect(e.cause, { depth: 5 })].join('\n');
}

async function withConn<T>(conninfo: Parameters<typeof connect>[0], fn: (conn: Connection) => Promise<T>): Promise<T> {
  const conn = await connect(conninfo);
  try {
    return await fn(conn);
  } finally {
    await conn.close();
  }
}

describe('SSL', () => {
  it('sslmode=require: info.ssl is true', async () => {
    await withConn(scram(), async (conn) => {
      expect(conn.info.ssl).toBe(true);
      const used = await conn.query<{ ssl: boolean }>('select ssl from pg_stat_ssl where pid = pg_backend_pid()');
      expect(used.rows[0].ssl).toBe(true);
    });
  });

  it('sslmode=disable: info.ssl is false', async () => {
    await withConn(`${server.dsn}?sslmode=disable`, async (conn) => {
      expect(conn.info.ssl).toBe(false);
    });
  });

  it('verify-full with the right CA and host name succeeds', async () => {
    await withConn(scram({ host: 'localhost', sslmode: 'verify-full', sslrootcert: caFile }), async (conn) => {
      expect(conn.info.ssl).toBe(true);
      expect(conn.info.host).toBe('localhost');
    });
    await withConn(scram({ host: '127.0.0.1', sslmode: 'verify-full', sslrootcert: caFile }), async (conn) => {
      expect(conn.info.ssl).toBe(true);
    });
  });

  it('verify-full fails when the host name is not the certificate\'s', async () => {
    const error = await errorOf(connect(scram({ host: 'wrong.example', hostaddr: '127.0.0.1', sslmode: 'verify-full', sslrootcert: caFile })));
    expect(error).toBeInstanceOf(errors.OperationalError);
    expect((error as Error).message).toMatch(/does not match host name "wrong\.example"/);
    expect(everythingShown(error)).not.toContain(PASSWORD);
  });

  it('verify-ca fails with a CA that did not sign the certificate', async () => {
    const error = await errorOf(connect(scram({ sslmode: 'verify-ca', sslrootcert: otherCaFile })));
    expect(error).toBeInstanceOf(errors.OperationalError);
    expect((error as Error).message).toMatch(/certificate/i);
  });

  it('the server refuses this user without SSL', async () => {
    const error = await errorOf(connect(scram({ sslmode: 'disable' })));
    expect(error).toBeInstanceOf(errors.OperationalError);
    expect((error as Error).message).toMatch(/pg_hba\.conf rejects/);
  });
});

describe('SCRAM-SHA-256 and passwords', () => {
  it('connects with the right password', async () => {
    await withConn(scram(), async (conn) => {
      const who = await conn.query<{ user: string }>('select current_user as user');
      expect(who.rows[0].user).toBe(USER);
    });
  });

  const forms: [string, () => Parameters<typeof connect>[0]][] = [
    ['an object', () => scram({ password: WRONG_PASSWORD })],
    ['key=value', () => `host=127.0.0.1 port=${server.port} dbname=postgres user=${USER} password=${WRONG_PASSWORD} sslmode=require`],
    ['a URI', () => `postgresql://${USER}:${encodeURIComponent(WRONG_PASSWORD)}@127.0.0.1:${server.port}/postgres?sslmode=require`],
  ];
  for (const [form, conninfo] of forms) {
    it(`a wrong password (${form}): InvalidPassword (28P01) that never shows the password`, async () => {
      const error = await errorOf(connect(conninfo()));
      expect(error).toBeInstanceOf(errors.InvalidPassword);
      expect(error).toBeInstanceOf(errors.OperationalError);
      expect((error as errors.Error).sqlstate).toBe('28P01');
      expect((error as errors.Error).diag.messagePrimary).toBe(`password authentication failed for user "${USER}"`);
      // the message as libpq writes it by default: no code, no LOCATION line, no trailing newline
      expect((error as Error).message).toMatch(new RegExp(`failed: FATAL: {2}password authentication failed for user "${USER}"$`));
      expect(everythingShown(error)).not.toContain(WRONG_PASSWORD);
    });
  }

  it('no password in info, in a connection, or in a pool', async () => {
    const pool = new Pool(scram(), { min: 1, max: 1 });
    try {
      await pool.connection(async (conn) => {
        const info = conn.info;
        const shown = [
          inspect(info),
          inspect(conn, { depth: 3 }),
          JSON.stringify({ host: info.host, port: info.port, user: info.user, dbname: info.dbname }),
          inspect(pool, { depth: 5 }),
          JSON.stringify(pool),
          JSON.stringify(pool.stats()),
        ].join('\n');
        expect(shown).not.toContain(PASSWORD);
        expect(info.user).toBe(USER);
      });
    } finally {
      await pool.close();
    }
  });

  it('a pool with a wrong password: PoolTimeout whose message and cause never show it', async () => {
    const pool = new Pool(scram({ password: WRONG_PASSWORD }), { min: 1, max: 1, timeout: 0.5 });
    try {
      const error = await errorOf(pool.acquire());
      expect(error).toBeInstanceOf(errors.PoolTimeout);
      expect((error as Error).cause).toBeInstanceOf(errors.InvalidPassword);
      expect((error as Error).message).toMatch(/password authentication failed/);
      expect(everythingShown(error)).not.toContain(WRONG_PASSWORD);
    } finally {
      await pool.close();
    }
  });
});
