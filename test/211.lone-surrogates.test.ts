// A JS string may hold half of a UTF-16 surrogate pair alone. Such a "lone surrogate" has no
// UTF-8 form: the encoder writes U+FFFD in its place, and what the server stored would not be
// what the caller gave. It is refused with a DataError naming where it was, wherever text
// leaves for the server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errors, Json, sql, types, Xid } from '../lib';
import { rejectionOf, thrownBy, sharedConnection, connectTest, makeTable } from './helpers';

const conn = sharedConnection({ autocommit: true });
let table: string;

beforeAll(async () => {
  table = await makeTable(conn(), 't text, j json, b jsonb', { prefix: 'lone' });
});

afterAll(async () => {
  await conn().query(`drop table if exists ${table}`);
});

const HIGH = 'a\uD800b';
const LOW = 'a\uDC00b';

function expectLone(error: Error, where: string): void {
  expect(error).toBeInstanceOf(errors.DataError);
  expect(error.message).toContain(where);
  expect(error.message).toMatch(/surrogate/);
}

describe('query parameters', () => {
  it('a string parameter, named by its position', async () => {
    expectLone(await rejectionOf(conn().query('select $1::text', [HIGH])), '$1');
    expectLone(await rejectionOf(conn().query('select $1::text, $2::text', ['fine', LOW])), '$2');
    expectLone(await rejectionOf(conn().query('select $1::text', ['\uDFFF'])), '$1');
    expectLone(await rejectionOf(conn().query('select $1::text', ['end\uD83D'])), '$1');
  });

  it('inside arrays, flat or nested', async () => {
    expectLone(await rejectionOf(conn().query('select $1::text[]', [['ok', HIGH]])), '$1');
    expectLone(await rejectionOf(conn().query('select $1::text[]', [[null, LOW]])), '$1');
    expectLone(await rejectionOf(conn().query('select $1::text[]', [[['ok'], [HIGH]]])), '$1');
  });

  it('inside JSON, in a value or a key', async () => {
    expectLone(await rejectionOf(conn().query(`insert into ${table} (j) values ($1)`, [{ k: HIGH }])), '$1');
    expectLone(await rejectionOf(conn().query(`insert into ${table} (j) values ($1)`, [{ [LOW]: 1 }])), '$1');
    expectLone(await rejectionOf(conn().query(`insert into ${table} (b) values ($1)`, [new Json([1, 'x\uDBFF'])])), '$1');
    expectLone(await rejectionOf(conn().query(`insert into ${table} (j) values ($1)`, [{ deep: [{ k: `\\${HIGH}` }] }])), '$1');
  });

  it('in a value an adapter or a value class makes', async () => {
    class Tag {
      constructor(readonly name: string) {}
    }
    const local = await connectTest({ autocommit: true });
    try {
      local.adapters.set(Tag, (tag) => tag.name);
      expectLone(await rejectionOf(local.query('select $1::text', [new Tag(HIGH)])), '$1');
      expectLone(await rejectionOf(local.query('select $1::int4range', [new types.Range(HIGH, 'b')])), '$1');
    } finally {
      await local.close();
    }
  });

  it('through a cursor and executemany', async () => {
    expectLone(await rejectionOf(conn().execute('select %s::text', [HIGH])), '$1');
    expectLone(await rejectionOf(conn().cursor().executemany(`insert into ${table} (t) values (%s)`, [['ok'], [LOW]])), '$1');
  });

  it('a whole pair, a lone surrogate written as JSON text, and U+FFFD itself go through unchanged', async () => {
    const pair = 'smile \uD83D\uDE00';
    const escaped = { k: '\\ud800 is six characters' };
    const replacement = 'already \uFFFD';
    const result = await conn().query<{ a: string; b: unknown; c: string; d: string[] }>(
      'select $1::text as a, $2::json as b, $3::text as c, $4::text[] as d',
      [pair, escaped, replacement, [pair, replacement]],
    );
    expect(result.rows[0]).toEqual({ a: pair, b: escaped, c: replacement, d: [pair, replacement] });
  });

  it('the connection carries on', async () => {
    await rejectionOf(conn().query('select $1::text', [HIGH]));
    const result = await conn().query<{ ok: number }>('select 1 as ok');
    expect(result.rows).toEqual([{ ok: 1 }]);
  });
});

describe('other ways text leaves', () => {
  it('COPY rows, text and binary, and COPY data given as a string', async () => {
    const text = await conn().copy(`copy ${table} (t) from stdin`);
    expectLone(await rejectionOf(text.writeRow([HIGH])), '$1');
    expectLone(await rejectionOf(text.write(`${LOW}\n`)), 'COPY data');
    await text.abort();
    const binary = await conn().copy(`copy ${table} (t) from stdin (format binary)`);
    binary.setTypes(['text']);
    expect(await rejectionOf(binary.writeRow([HIGH]))).toBeInstanceOf(errors.DataError);
    await binary.abort();
    expectLone(await rejectionOf(conn().copyFrom(`copy ${table} (t) from stdin`, [`${HIGH}\n`])), 'COPY data');
    const count = await conn().query<{ n: bigint }>(`select count(*) as n from ${table} where t like 'a%b'`);
    expect(count.rows[0].n).toBe(0n);
  });

  it('mogrify() and sql.Literal', () => {
    expectLone(thrownBy(() => conn().cursor().mogrify('select %s', [HIGH])), '$1');
    expect(thrownBy(() => sql.Literal(HIGH).asString(conn()))).toBeInstanceOf(errors.DataError);
  });

  it('the text of a statement, a COPY statement included', async () => {
    const texts = [
      () => conn().query(`select '${HIGH}' as t`),
      () => conn().copy(`copy (select '${HIGH}') to stdout`),
      () => conn().copyFrom(`copy ${table} (t) from stdin -- ${LOW}`, 'x\n'),
    ];
    for (const run of texts) {
      const error = await rejectionOf(run());
      expect(error).toBeInstanceOf(errors.ProgrammingError);
      expect(error.message).toMatch(/surrogate/);
    }
  });

  it('a COPY statement with a NUL is refused as a query with one is, not cut short', async () => {
    const error = await rejectionOf(conn().copyFrom(`copy ${table} (t) from stdin\u0000 -- more`, 'x\n'));
    expect(error).toBeInstanceOf(errors.ProgrammingError);
    expect(error.message).toMatch(/NUL/);
    const result = await conn().query<{ ok: number }>('select 1 as ok');
    expect(result.rows).toEqual([{ ok: 1 }]);
  });
});

describe('names that go into a statement', () => {
  it('a LISTEN / UNLISTEN channel: refused, not listened to under U+FFFD', async () => {
    for (const run of [() => conn().listen(HIGH), () => conn().unlisten(LOW), () => conn().listen('ok\u0000')]) {
      const error = await rejectionOf(run());
      expect(error).toBeInstanceOf(errors.ProgrammingError);
      expect(error.message).toMatch(/channel name/);
    }
    const channels = await conn().query<{ c: string }>('select pg_listening_channels() as c');
    expect(channels.rows).toEqual([]);
    // a whole pair is a character like any other
    await conn().listen('ok😀');
    expect((await conn().query<{ c: string }>('select pg_listening_channels() as c')).rows).toEqual([{ c: 'ok😀' }]);
    await conn().unlisten('ok😀');
  });

  it('a two-phase transaction id: refused before the transaction begins', async () => {
    const tpc = await connectTest();
    try {
      expect(thrownBy(() => tpc.xid(1, HIGH, 'b'))).toBeInstanceOf(errors.ProgrammingError);
      expect(thrownBy(() => tpc.xid(1, 'g', LOW))).toBeInstanceOf(errors.ProgrammingError);
      for (const id of [HIGH, new Xid(null, LOW, null)]) {
        const error = await rejectionOf(tpc.tpcBegin(id));
        expect(error).toBeInstanceOf(errors.ProgrammingError);
        expect(error.message).toMatch(/surrogate/);
      }
      expect(await rejectionOf(tpc.tpcCommit(HIGH))).toBeInstanceOf(errors.ProgrammingError);
      expect(tpc.info.transactionStatus).toBe('idle');
      // the connection carries on, and a well-formed id works
      await tpc.tpcBegin(tpc.xid(7, 'g😀', 'b'));
      await tpc.tpcRollback();
    } finally {
      await tpc.close();
    }
  });
});
