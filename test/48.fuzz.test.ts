// Random parameters, random SQL text and random conninfo strings thrown at the driver: the
// answer is a result or an error of ours (errors.Error) or a TypeError, never a crash or a
// hang, and the connection still works afterwards.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { connect, errors } from '../lib';
import { testDsn, sharedConnection } from './helpers';

const HANG_MS = 5000;
const conn = sharedConnection({ autocommit: true });

beforeAll(async () => {
  // a random statement that happens to be slow must not pass for a hang
  await conn().query("set statement_timeout = '2s'");
});

/** Settles like `promise`, or rejects with a 'hang' error after HANG_MS. */
async function bounded<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: ${what}`)), HANG_MS);
  });
  try {
    return await Promise.race([promise, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `fn`; an error must be one of ours or a TypeError (a hang or anything else fails). */
async function answersOrRefuses(fn: () => Promise<unknown>, what: string): Promise<void> {
  try {
    await bounded(fn(), what);
  } catch (error) {
    if (error instanceof errors.Error || error instanceof TypeError) return;
    throw error;
  }
}

async function stillWorks(): Promise<void> {
  if (conn().info.transactionStatus !== 'idle') await conn().rollback();
  const result = await bounded(conn().query<{ n: number }>('select 1 as n'), 'select 1 after');
  expect(result.rows[0].n).toBe(1);
}

const circular: Record<string, unknown> = { a: 1 };
circular.self = circular;

const scalar = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.bigInt(),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.date({ noInvalidDate: false }),
  fc.uint8Array({ maxLength: 16 }),
  fc.constantFrom(NaN, Infinity, -Infinity, -0, 2 ** 53 + 2, '\u0000', '\ud800', "'); drop table x; --"),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  fc.constantFrom<unknown>(Symbol('s'), () => 1, new Map([[1, 2]]), new Set([1]), circular, Object.create(null), new Error('x'), /re/),
);
const param = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.array(fc.array(fc.oneof(fc.integer(), fc.constant(null)), { maxLength: 3 }), { maxLength: 3 }) },
);

const sqlFragment = fc.oneof(
  fc.constantFrom(
    'select', 'from', 'where', 'values', 'with', 'as', 'and', 'or', 'not', '(', ')', ',', ';', "'", '"', "''", '$$', '$a$',
    '--', '/*', '*/', '\\', "E'", '$1', '$2', '$0', '%s', '%(x)s', '%%', '%', '1', '-1.5e3', 'null', 'true', '::int', '::text',
    '::int[]', '[', ']', 'array', 'generate_series(1,3)', 'pg_typeof(1)', 'begin', 'commit', 'rollback', 'savepoint s',
    'copy (select 1) to stdout', 'copy pg_temp.fuzz from stdin', 'listen fuzz', 'notify fuzz', 'show all', 'explain', 'table',
    'create temp table if not exists fuzz (a int)', 'insert into pg_temp.fuzz values (1)', 'do $$ begin raise notice $q$n$q$; end $$',
    '\n', ' ', '\t', 'é', '😀', '\u0000',
  ),
  fc.string({ unit: 'binary', maxLength: 8 }),
);
const sqlText = fc.array(sqlFragment, { maxLength: 16 }).map((parts) => parts.join(' '));

describe('fuzzing', () => {
  it('random parameters: a result or a typed error, the connection usable after', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(param, { maxLength: 5 }), async (params) => {
        const placeholders = params.map((_, index) => `$${index + 1}`).join(', ');
        await answersOrRefuses(() => conn().query(`select ${placeholders || '1'}`, params), `params ${String(params.length)}`);
        await answersOrRefuses(() => conn().query('select $1::text as a, $2::int as b', params.slice(0, 2)), 'typed params');
        await stillWorks();
      }),
      { numRuns: 150 },
    );
  });

  it('random SQL text: a result or a typed error, the connection usable after', async () => {
    await fc.assert(
      fc.asyncProperty(sqlText, async (text) => {
        await answersOrRefuses(() => conn().query(text), JSON.stringify(text));
        await stillWorks();
      }),
      { numRuns: 300 },
    );
  });

  it('random SQL text with psycopg placeholders and parameters through a cursor', async () => {
    await fc.assert(
      fc.asyncProperty(sqlText, fc.oneof(fc.array(param, { maxLength: 3 }), fc.dictionary(fc.constantFrom('x', 'y'), param)), async (text, params) => {
        await answersOrRefuses(async () => {
          const cursor = await conn().execute(text, params as unknown[]);
          await cursor.fetchall();
        }, JSON.stringify(text));
        await stillWorks();
      }),
      { numRuns: 150 },
    );
  });

  it('random conninfo strings: a connection or a typed error, within the connect timeout', async () => {
    const url = new URL(testDsn());
    const port = url.port || '5432';
    const PASSWORD = 'Zq8xW3pK9vL';
    const keyword = fc.constantFrom(
      'dbname', 'user', 'port', 'connect_timeout', 'application_name', 'options', 'sslmode', 'target_session_attrs',
      'keepalives', 'keepalives_idle', 'client_encoding', 'gssencmode', 'channel_binding', 'fallback_application_name',
      'require_auth', 'bogus', '',
    );
    const value = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc.constantFrom('', "'", '\\', "'a b'", '=', '0', '-1', '99999999999', 'disable', 'require', 'prefer', 'any', 'read-write'),
    );
    // the password marker stands only where a password goes: that is what must never leak
    const passwordPair = fc
      .constantFrom(PASSWORD, `'${PASSWORD}'`, `${PASSWORD}'`, `'${PASSWORD}`)
      .map((text) => `password=${text}`);
    const pair = fc.oneof(
      fc.tuple(keyword, fc.constantFrom('=', ' = ', '==', ''), value).map(([key, sep, text]) => `${key}${sep}${text}`),
      passwordPair,
    );
    const keyValue = fc.array(pair, { maxLength: 6 }).map((pairs) => `${pairs.join(' ')} host=127.0.0.1 port=${port}`);
    const uri = fc
      .tuple(
        fc.string({ maxLength: 6 }),
        fc.constantFrom(PASSWORD, '', `${PASSWORD}%zz`),
        fc.string({ maxLength: 6 }),
        fc.array(fc.tuple(keyword, value), { maxLength: 3 }),
        fc.boolean(),
      )
      .map(([user, password, db, query, passwordInQuery]) => {
        const pairs = query.map(([key, text]) => `${encodeURIComponent(key)}=${encodeURIComponent(text)}`);
        if (passwordInQuery) pairs.push(`password=${password}`);
        const search = pairs.join('&');
        const userinfo = passwordInQuery ? encodeURIComponent(user) : `${encodeURIComponent(user)}:${password}`;
        return `postgresql://${userinfo}@127.0.0.1:${port}/${encodeURIComponent(db)}${search ? `?${search}` : ''}`;
      });
    // nothing random may name a host: the test stays on loopback
    const conninfo = fc.oneof(keyValue, uri, fc.string({ unit: 'binary', maxLength: 30 })).filter((text) => !/host|service/i.test(text.replace(/host=127\.0\.0\.1 port=\d+$/, '').replace(/@127\.0\.0\.1:\d+\//, '@/')));
    await fc.assert(
      fc.asyncProperty(conninfo, async (text) => {
        try {
          const opened = await bounded(connect(text, { connectTimeout: 2 }), `connect ${JSON.stringify(text)}`);
          await bounded(opened.query('select 1'), 'select 1 on the new connection').catch((error: unknown) => {
            if (!(error instanceof errors.Error)) throw error;
          });
          await opened.close();
        } catch (error) {
          if (!(error instanceof errors.Error || error instanceof TypeError)) throw error;
          expect((error as Error).message).not.toContain(PASSWORD);
        }
        await stillWorks();
      }),
      { numRuns: 100 },
    );
  });

  it('COPY FROM STDIN sent as a plain query fails at once instead of waiting forever', async () => {
    await conn().query('create temp table if not exists fuzz (a int)');
    const error = await bounded(conn().query('copy pg_temp.fuzz from stdin').then(() => null, (e: unknown) => e), 'copy from stdin');
    expect(error).toBeInstanceOf(errors.Error);
    expect((error as Error).message).toMatch(/copyFrom\(\)/);
    await stillWorks();
  });
});
