// What an object conninfo holds are values: a dbname that reads like a conninfo string or a
// URI names a database, it does not redirect the connection (and its password) elsewhere.
// Only a conninfo string is parsed. Also: the caller's application name wins over pqnode's.
import net, { type AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect, errors, Pool } from '../lib';
import { closedAfterEach, rejectionOf, testDsn, uniqueName, withEnv, sharedConnection } from './helpers';
import { coreOf } from '../lib/core/interface';
import { connectParams } from '../lib/conninfo';

const SECRET = 'Obj3ct-pw-never-shown';

interface FakeServer {
  port: number;
  /** connections it accepted so far */
  readonly accepted: number;
  close(): Promise<void>;
}

/** A listener on 127.0.0.1 that counts who connects and hangs up on them at once. */
async function fakeServer(): Promise<FakeServer> {
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get accepted() {
      return accepted;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const url = new URL(testDsn());
/** the test server as an object of keywords */
const base = {
  host: decodeURIComponent(url.hostname),
  port: Number(url.port || 5432),
  user: decodeURIComponent(url.username),
  connect_timeout: 5,
};

let fake: FakeServer;
const admin = sharedConnection({ autocommit: true });
const databases: string[] = [];

// a listener of its own for every test: what it counts is that test's doing
beforeEach(async () => {
  fake = await fakeServer();
});

afterEach(async () => {
  await fake.close();
});

// registered after the hook above so that, hooks running in reverse, connections close first
const { track } = closedAfterEach();

afterAll(async () => {
  for (const name of databases) await admin().query(`drop database if exists ${coreOf(admin()).escapeIdentifier(name)} with (force)`);
});

function everythingShown(error: unknown): string {
  const e = error as Error;
  return [e.message, e.stack, String(e), inspect(e, { depth: 5 })].join('\n');
}

/** A database whose name is exactly `name`, dropped after the file. */
async function createDatabase(name: string): Promise<void> {
  databases.push(name);
  await admin().query(`create database ${coreOf(admin()).escapeIdentifier(name)}`);
}

describe('an object conninfo: every value is a value', () => {
  it('a dbname written as key=value pairs names a database, and sends nothing where it points', async () => {
    const dbname = `dbname=x host=127.0.0.1 port=${fake.port}`;
    const error = await rejectionOf(connect({ ...base, dbname }));
    expect(error).toBeInstanceOf(errors.OperationalError);
    expect(error.message).toContain(`database "${dbname}" does not exist`);
    expect(fake.accepted).toBe(0);
  });

  it('a dbname written as a URI names a database, and sends nothing where it points', async () => {
    const dbname = `postgresql://evil@127.0.0.1:${fake.port}/x`;
    const error = await rejectionOf(connect({ ...base, dbname }));
    expect(error).toBeInstanceOf(errors.OperationalError);
    expect(error.message).toContain(`database "${dbname}" does not exist`);
    expect(fake.accepted).toBe(0);
  });

  it('connects to a database literally named like a conninfo string or a URI', async () => {
    for (const name of [`dbname=x port=${fake.port}`, `postgres://127.0.0.1:${fake.port}/${uniqueName('d')}`.slice(0, 63)]) {
      await createDatabase(name);
      const conn = await connect({ ...base, dbname: name });
      track(conn);
      const result = await conn.query<{ db: string }>('select current_database() as db');
      expect(result.rows[0].db).toBe(name);
      expect(conn.info.dbname).toBe(name);
    }
    expect(fake.accepted).toBe(0);
  });

  it('a password in a URI given as dbname stays a database name, and out of the message', async () => {
    const dbname = `postgresql://evil:${SECRET}@127.0.0.1:${fake.port}/x`;
    const error = await rejectionOf(connect({ ...base, password: 'other', dbname }));
    expect(error).toBeInstanceOf(errors.OperationalError);
    expect(error.message).toMatch(/does not exist/);
    expect(everythingShown(error)).not.toContain(SECRET);
    expect(fake.accepted).toBe(0);
  });

  it('a host holding blanks and = is a host name, not more keywords', async () => {
    const error = await rejectionOf(connect({ ...base, host: `127.0.0.1 port=${fake.port}`, dbname: 'postgres' }));
    expect(error).toBeInstanceOf(errors.OperationalError);
    expect(fake.accepted).toBe(0);
  });

  it('other keywords holding key=value text are values too', async () => {
    // application_name is sent as it is and reads back the same
    const text = `host=127.0.0.1 port=${fake.port}`;
    const conn = await connect({ ...base, dbname: url.pathname.slice(1), application_name: text });
    track(conn);
    const result = await conn.query<{ app: string }>("select current_setting('application_name') as app");
    expect(result.rows[0].app).toBe(text);
    expect(fake.accepted).toBe(0);
  });

  it('PGDATABASE holding a conninfo string is a database name', async () => {
    const dbname = `dbname=x port=${fake.port} host=127.0.0.1`;
    await withEnv({ PGDATABASE: dbname }, async () => {
      const error = await rejectionOf(connect({ ...base }));
      expect(error).toBeInstanceOf(errors.OperationalError);
      expect(error.message).toContain(`database "${dbname}" does not exist`);
    });
    expect(fake.accepted).toBe(0);
  });

  it('a pool given an object does not expand its dbname either', async () => {
    const dbname = `postgresql://127.0.0.1:${fake.port}/x`;
    const pool = new Pool({ ...base, dbname }, { min: 0, max: 1, timeout: 1 });
    try {
      const error = await rejectionOf(pool.query('select 1'));
      expect(error).toBeInstanceOf(errors.Error);
    } finally {
      await pool.close();
    }
    expect(fake.accepted).toBe(0);
  });

  it('a conninfo string is still parsed, URI or key=value', async () => {
    const uri = await rejectionOf(connect(`postgresql://u@127.0.0.1:${fake.port}/x?connect_timeout=5`));
    expect(uri).toBeInstanceOf(errors.OperationalError);
    const pairs = await rejectionOf(connect(`host=127.0.0.1 port=${fake.port} dbname=x connect_timeout=5`));
    expect(pairs).toBeInstanceOf(errors.OperationalError);
    // both went where the string said
    expect(fake.accepted).toBe(2);
  });
});

describe('conninfo text that libpq would not read as given', () => {
  it('a NUL in a value or in a conninfo string is refused, not cut short', async () => {
    const database = url.pathname.slice(1);
    for (const conninfo of [{ ...base, dbname: `${database}\u0000other` }, `${testDsn()}\u0000 port=1`]) {
      const error = await rejectionOf(connect(conninfo));
      expect(error).toBeInstanceOf(errors.OperationalError);
      expect(error.message).toMatch(/NUL/);
    }
  });

  it('a lone surrogate in a value is refused, not turned into U+FFFD; the password stays out of the message', async () => {
    const password = `${SECRET}\uD800`;
    const error = await rejectionOf(connect({ ...base, dbname: url.pathname.slice(1), password }));
    expect(error).toBeInstanceOf(errors.OperationalError);
    expect(error.message).toMatch(/surrogate/);
    expect(everythingShown(error)).not.toContain(SECRET);
    const app = await rejectionOf(connect({ ...base, dbname: url.pathname.slice(1), application_name: 'a\uDC00' }));
    expect(app).toBeInstanceOf(errors.OperationalError);
  });
});

describe('application_name: the caller wins', () => {
  const appName = async (conninfo: Parameters<typeof connect>[0]) => {
    const conn = await connect(conninfo);
    track(conn);
    const result = await conn.query<{ application_name: string }>('show application_name');
    return result.rows[0].application_name;
  };

  it("pqnode's name when the caller names nothing", async () => {
    await withEnv({ PGAPPNAME: undefined }, async () => {
      expect(await appName(testDsn())).toBe('pqnode');
      expect(await appName({ ...base, dbname: url.pathname.slice(1) })).toBe('pqnode');
    });
  });

  it("the caller's fallback_application_name (object and string)", async () => {
    await withEnv({ PGAPPNAME: undefined }, async () => {
      expect(await appName({ ...base, dbname: url.pathname.slice(1), fallback_application_name: 'mine-fallback' })).toBe('mine-fallback');
      expect(await appName(`${testDsn()}?fallback_application_name=mine-fallback2`)).toBe('mine-fallback2');
    });
  });

  it('an empty application_name stays empty', async () => {
    await withEnv({ PGAPPNAME: undefined }, async () => {
      expect(await appName({ ...base, dbname: url.pathname.slice(1), application_name: '' })).toBe('');
      expect(await appName(`${testDsn()}?application_name=`)).toBe('');
    });
  });

  it('PGAPPNAME wins over the fallback, even empty', async () => {
    await withEnv({ PGAPPNAME: 'from-env' }, async () => {
      expect(await appName(testDsn())).toBe('from-env');
    });
    await withEnv({ PGAPPNAME: '' }, async () => {
      expect(await appName(testDsn())).toBe('');
    });
  });
});

describe('a conninfo string given again', () => {
  const text = `host=127.0.0.1 port=1 dbname=again password=${SECRET}`;

  it('makes the same keywords, in arrays of its own each time', () => {
    const first = connectParams(text);
    // what resolveHosts does to the arrays it is given
    first.keywords.push('hostaddr');
    first.values.push('127.0.0.1');
    const second = connectParams(text);
    expect(second.keywords).not.toContain('hostaddr');
    expect(second).toEqual({ ...first, keywords: first.keywords.slice(0, -1), values: first.values.slice(0, -1) });
    expect(second.secrets).toEqual([SECRET]);
    // shared between the two: nobody may change them
    expect(Object.isFrozen(second.settings)).toBe(true);
  });

  it('reads the environment each time', async () => {
    await withEnv({ PGCONNECT_TIMEOUT: undefined, PGAPPNAME: undefined }, async () => {
      expect(connectParams(text).connectTimeout).toBeUndefined();
      expect(connectParams(text).keywords).toContain('fallback_application_name');
    });
    await withEnv({ PGCONNECT_TIMEOUT: '7', PGAPPNAME: 'from-env' }, async () => {
      expect(connectParams(text).connectTimeout).toBe(7);
      expect(connectParams(text).keywords).not.toContain('fallback_application_name');
    });
  });

  it('an invalid one is refused every time, the password out of the message', () => {
    const bad = `host=127.0.0.1 password=${SECRET} nonsense_keyword=1`;
    for (let i = 0; i < 2; i++) {
      expect(() => connectParams(bad)).toThrow(errors.OperationalError);
      expect(() => connectParams(bad)).not.toThrow(SECRET);
    }
  });
});
