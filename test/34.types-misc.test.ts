import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { errors, types, type Connection } from '../lib';
import { parseBox, parseCircle, parseLine, parsePath, parsePoint, parsePolygon } from '../lib/types/geometric';
import { connectTest, rejectionOf, thrownBy, sharedConnection } from './helpers';

const conn = sharedConnection({ autocommit: true });

async function row(text: string, params?: unknown[], c: Connection = conn()): Promise<unknown[]> {
  return (await c.query<unknown[]>(text, params, { rowFactory: 'tuple' })).rows[0];
}

async function one<T = unknown>(text: string, params?: unknown[], c: Connection = conn()): Promise<T> {
  return (await row(text, params, c))[0] as T;
}

describe('geometric types', () => {
  it('come back as plain objects of numbers', async () => {
    expect(
      await row(`select '(1.5,-2)'::point, '{1,-1,0}'::line, '[(1,2),(3,4)]'::lseg, '(1,2),(3,4)'::box,
        '[(0,0),(1,1),(2,0)]'::path, '((0,0),(1,1))'::path, '((0,0),(1,1),(1,0))'::polygon, '<(1,2),3.5>'::circle`),
    ).toEqual([
      { x: 1.5, y: -2 },
      { a: 1, b: -1, c: 0 },
      [
        { x: 1, y: 2 },
        { x: 3, y: 4 },
      ],
      // the server stores the upper right corner first
      [
        { x: 3, y: 4 },
        { x: 1, y: 2 },
      ],
      {
        closed: false,
        points: [
          { x: 0, y: 0 },
          { x: 1, y: 1 },
          { x: 2, y: 0 },
        ],
      },
      {
        closed: true,
        points: [
          { x: 0, y: 0 },
          { x: 1, y: 1 },
        ],
      },
      [
        { x: 0, y: 0 },
        { x: 1, y: 1 },
        { x: 1, y: 0 },
      ],
      { x: 1, y: 2, radius: 3.5 },
    ]);
  });

  it('keep NaN, ±Infinity, exponents and the float8 extremes', async () => {
    expect(await one("select '(NaN,-Infinity)'::point")).toEqual({ x: NaN, y: -Infinity });
    expect(await one("select point(1e300, -1.7976931348623157e308)")).toEqual({ x: 1e300, y: -1.7976931348623157e308 });
    expect(await one("select point(5e-324, 0.1)")).toEqual({ x: 5e-324, y: 0.1 });
    expect(await one("select '<(0,0),Infinity>'::circle")).toEqual({ x: 0, y: 0, radius: Infinity });
  });

  it('arrays of them, box arrays split on ";"', async () => {
    expect(await one("select array['(1,2)'::point, null, '(3,4)']")).toEqual([{ x: 1, y: 2 }, null, { x: 3, y: 4 }]);
    expect(await one("select '{(1,1),(0,0);(3,3),(2,2)}'::box[]")).toEqual([
      [
        { x: 1, y: 1 },
        { x: 0, y: 0 },
      ],
      [
        { x: 3, y: 3 },
        { x: 2, y: 2 },
      ],
    ]);
    expect(await one("select array['<(1,2),3>'::circle]")).toEqual([{ x: 1, y: 2, radius: 3 }]);
    expect(await one("select array['[(0,0),(1,1)]'::lseg, null]")).toEqual([
      [
        { x: 0, y: 0 },
        { x: 1, y: 1 },
      ],
      null,
    ]);
  });

  it('go in as their text', async () => {
    expect(await one('select $1::point', ['(1,2)'])).toEqual({ x: 1, y: 2 });
    // box[] separates its elements with ';'
    expect(await one('select $1::box[]', [['(1,1),(0,0)', '(3,3),(2,2)']])).toHaveLength(2);
  });

  it('values read go back as they came, and can be made to send', async () => {
    const row = await conn().query(
      `select '(1.5,-2)'::point as p, '{1,-1,0}'::line as l, '[(1,2),(3,4)]'::lseg as s, '(3,4),(1,2)'::box as b,
        '[(0,0),(1,1)]'::path as o, '((0,0),(1,1))'::path as c, '((0,0),(1,1),(1,0))'::polygon as g, '<(1,2),3.5>'::circle as r,
        '{(1,1),(0,0);(3,3),(2,2)}'::box[] as bs, array['(NaN,-Infinity)'::point] as ps`,
    );
    const values = row.rows[0] as Record<string, unknown>;
    const back = await conn().query(
      `select $1::point::text as p, $2::line::text as l, $3::lseg::text as s, $4::box::text as b, $5::path::text as o, $6::path::text as c,
        $7::polygon::text as g, $8::circle::text as r, $9::box[]::text as bs, $10::point[]::text as ps`,
      [values.p, values.l, values.s, values.b, values.o, values.c, values.g, values.r, values.bs, values.ps],
    );
    expect(back.rows[0]).toEqual({
      p: '(1.5,-2)',
      l: '{1,-1,0}',
      s: '[(1,2),(3,4)]',
      b: '(3,4),(1,2)',
      o: '[(0,0),(1,1)]',
      c: '((0,0),(1,1))',
      g: '((0,0),(1,1),(1,0))',
      r: '<(1,2),3.5>',
      bs: '{(1,1),(0,0);(3,3),(2,2)}',
      ps: '{"(NaN,-Infinity)"}',
    });
    // untyped, for a column of the type to read them: a box compares (by area) with =
    expect(await one("select '(3,4),(1,2)'::box = $1", [values.b])).toBe(true);
    expect(await one("select '(1.5,-2)'::point ~= $1", [new types.Point(1.5, -2)])).toBe(true);
    expect(await one('select $1::polygon::text', [new types.Polygon([{ x: 0, y: 0 }, { x: 1, y: 0 }, { x: 0, y: 1 }])])).toBe('((0,0),(1,0),(0,1))');
  });

  it('malformed text is a DataError', () => {
    for (const [parse, bad] of [
      [parsePoint, '(1)'],
      [parsePoint, '(1,2,3)'],
      [parsePoint, '(a,b)'],
      [parseLine, '{1,2}'],
      [parseBox, '(1,2)'],
      [parsePath, '[]'],
      [parsePath, '[(1,2),(3)]'],
      [parsePolygon, '()'],
      [parseCircle, '<(1,2)>'],
    ] as const) {
      expect(thrownBy(() => parse(bad)), bad).toBeInstanceOf(errors.DataError);
    }
  });

  it('random points come back equal', async () => {
    const coordinate = fc.double({ noNaN: false });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(coordinate, coordinate), { minLength: 1, maxLength: 20 }), async (pairs) => {
        const back = await one<{ x: number; y: number }[]>('select array_agg(point(x, y)) from unnest($1::float8[], $2::float8[]) as t(x, y)', [
          pairs.map(([x]) => x),
          pairs.map(([, y]) => y),
        ]);
        // float8 has no negative zero in a point's output beyond '-0'; compare as the server keeps them
        back.forEach((point, i) => {
          expect(point.x).toBe(pairs[i][0] === 0 ? point.x : pairs[i][0]);
          expect(point.y).toBe(pairs[i][1] === 0 ? point.y : pairs[i][1]);
        });
      }),
      { numRuns: 30 },
    );
  });
});

describe('types that come back as their text', () => {
  it('network addresses', async () => {
    expect(
      await row(
        "select '192.168.0.1/24'::inet, '::ffff:1.2.3.4'::inet, '10.0.0.0/8'::cidr, '2001:db8::/32'::cidr, '08:00:2b:01:02:03'::macaddr, '08:00:2b:01:02:03:04:05'::macaddr8",
      ),
    ).toEqual(['192.168.0.1/24', '::ffff:1.2.3.4', '10.0.0.0/8', '2001:db8::/32', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05']);
    expect(await one('select $1::inet', ['fe80::1%eth0'].map((v) => v.replace('%eth0', '')))).toBe('fe80::1');
    expect(await one('select $1::cidr[]', [['10.0.0.0/8', null]])).toEqual(['10.0.0.0/8', null]);
    expect(await one("select array['1.2.3.4'::inet, null]")).toEqual(['1.2.3.4', null]);
    expect(await one("select '{08:00:2b:01:02:03}'::macaddr[]")).toEqual(['08:00:2b:01:02:03']);
  });

  it('bit strings, money, xml, pg_lsn, tsvector, tsquery, time and timetz', async () => {
    expect(
      await row(`select B'1010'::bit(4), B''::varbit, '12.34'::money, '<a b="c">ü</a>'::xml, '16/B374D848'::pg_lsn,
        'the fat cats'::tsvector, to_tsquery('simple', 'fat & !cat'), '24:00:00'::time, '23:59:59.999999'::time,
        '13:04:05.5+05:30'::timetz, '00:00:00-15:59'::timetz`),
    ).toEqual(['1010', '', '$12.34', '<a b="c">ü</a>', '16/B374D848', "'cats' 'fat' 'the'", "'fat' & !'cat'", '24:00:00', '23:59:59.999999', '13:04:05.5+05:30', '00:00:00-15:59']);
    expect(await one('select $1::varbit', ['1'.repeat(100)])).toBe('1'.repeat(100));
    expect(await one("select array[B'1', B'01']::varbit[]")).toEqual(['1', '01']);
    expect(await one('select $1::time[]', [['00:00:00', null]])).toEqual(['00:00:00', null]);
  });

  it('oid is a number; reg* types are names', async () => {
    expect(await row("select 4294967295::oid, 'int4'::regtype, 'pg_class'::regclass, 'now'::regproc, 'english'::regconfig, 'pg_catalog'::regnamespace")).toEqual([
      4294967295,
      'integer',
      'pg_class',
      'now',
      'english',
      'pg_catalog',
    ]);
    expect(await one("select array['int4'::regtype, 'text']")).toEqual(['integer', 'text']);
    expect(await one('select $1::oid[]', [[1, 4294967295]])).toEqual([1, 4294967295]);
  });

  it('a domain comes back as its base type; arrays of it once its TypeInfo is registered', async () => {
    const c = await connectTest({ autocommit: true });
    try {
      await c.query('create domain pg_temp.positive as int check (value > 0)');
      await c.query("create domain pg_temp.span as interval");
      expect(await one('select 5::pg_temp.positive', [], c)).toBe(5);
      expect(await one("select '1 day'::pg_temp.span", [], c)).toBeInstanceOf(types.Interval);
      expect(await one('select array[5::pg_temp.positive]', [], c)).toBe('{5}');
      const info = await types.fetchTypeInfo(c, 'pg_temp.positive');
      expect(info?.category).toBe('domain');
      expect(info?.baseTypeOid).toBe(23);
      info?.register(c);
      expect(await one('select array[5::pg_temp.positive, null]', [], c)).toEqual([5, null]);
      const spans = await types.fetchTypeInfo(c, 'pg_temp.span');
      spans?.register(c);
      expect((await one<unknown[]>("select array['1 day'::pg_temp.span]", [], c))[0]).toBeInstanceOf(types.Interval);
      const error = await rejectionOf(c.query('select $1::pg_temp.positive', [0]));
      expect(error).toBeInstanceOf(errors.CheckViolation);
    } finally {
      await c.close();
    }
  });
});

describe('int8 and numeric options', () => {
  it('int8 as number, string or bigint, arrays following', async () => {
    const c = await connectTest({ autocommit: true });
    try {
      types.setInt8Type('number', { conn: c });
      expect(await row("select 9007199254740991::int8, '{1,-2}'::int8[], '[1,5)'::int8range", [], c)).toEqual([
        9007199254740991,
        [1, -2],
        new types.Range(1, 5),
      ]);
      const error = await rejectionOf(c.query('select 9007199254740992::int8 as big'));
      expect(error).toBeInstanceOf(errors.DataError);
      expect(error.message).toContain('big');
      types.setInt8Type('string', { conn: c });
      expect(await one('select (-9223372036854775808)::int8', [], c)).toBe('-9223372036854775808');
      types.setInt8Type('bigint', { conn: c });
      expect(await one('select 1::int8', [], c)).toBe(1n);
      // other connections never changed
      expect(await one('select 1::int8')).toBe(1n);
    } finally {
      await c.close();
    }
  });

  it('a connection can go back to bigint while the global setting says number', async () => {
    const c = await connectTest({ autocommit: true });
    try {
      types.setInt8Type('number');
      expect(await one('select 7::int8', [], c)).toBe(7);
      types.setInt8Type('bigint', { conn: c });
      expect(await one('select 7::int8', [], c)).toBe(7n);
      expect(await one('select 7::int8')).toBe(7);
    } finally {
      types.setInt8Type('bigint');
      await c.close();
    }
    expect(await one('select 7::int8')).toBe(7n);
  });

  it('numeric as string (default), number, or a user decimal class', async () => {
    class Decimal {
      constructor(readonly text: string) {}
    }
    const c = await connectTest({ autocommit: true });
    try {
      expect(await one("select 'NaN'::numeric", [], c)).toBe('NaN');
      types.setNumericType('number', { conn: c });
      expect(await row("select 1.5::numeric, 'NaN'::numeric, '-Infinity'::numeric, '{0.25}'::numeric[]", [], c)).toEqual([1.5, NaN, -Infinity, [0.25]]);
      types.setNumericType((text) => new Decimal(text), { conn: c });
      const value = await one<Decimal>('select 123456789012345678901234567890.123456789::numeric', [], c);
      expect(value).toBeInstanceOf(Decimal);
      expect(value.text).toBe('123456789012345678901234567890.123456789');
      types.setAdapter(Decimal, (d) => d.text, { conn: c });
      expect(await one('select $1::numeric::text', [value], c)).toBe('123456789012345678901234567890.123456789');
      types.setNumericType('string', { conn: c });
      expect(await one('select 1.50::numeric', [], c)).toBe('1.50');
    } finally {
      await c.close();
    }
  });

  it('bad choices are refused', () => {
    expect(thrownBy(() => types.setInt8Type('float' as 'number'))).toBeInstanceOf(errors.ProgrammingError);
    expect(thrownBy(() => types.setNumericType('decimal' as 'number'))).toBeInstanceOf(errors.ProgrammingError);
  });
});

describe('timestamp read in local time', () => {
  it("setTimestampType('local') reads the wall clock in the process's time zone", async () => {
    const saved = process.env.TZ;
    process.env.TZ = 'America/New_York';
    const c = await connectTest({ autocommit: true });
    try {
      types.setTimestampType('local', { conn: c });
      const [summer, old, bc, inf, arr] = await row(
        "select '2024-07-01 12:30:00.25'::timestamp, '0099-01-01 00:00:00'::timestamp, '0044-03-15 12:00:00 BC'::timestamp, 'infinity'::timestamp, array['2024-01-01 00:00'::timestamp]",
        [],
        c,
      );
      expect(summer).toEqual(new Date('2024-07-01T16:30:00.250Z'));
      expect((old as Date).getFullYear()).toBe(99);
      expect([(bc as Date).getFullYear(), (bc as Date).getMonth(), (bc as Date).getDate(), (bc as Date).getHours()]).toEqual([-43, 2, 15, 12]);
      expect(inf).toBe(Infinity);
      expect(arr).toEqual([new Date('2024-01-01T05:00:00Z')]);
      // timestamptz is an instant either way; other connections still read UTC
      expect(await one("select '2024-07-01 12:30:00+00'::timestamptz", [], c)).toEqual(new Date('2024-07-01T12:30:00Z'));
      expect(await one("select '2024-07-01 12:30:00'::timestamp")).toEqual(new Date('2024-07-01T12:30:00Z'));
      types.setTimestampType('utc', { conn: c });
      expect(await one("select '2024-07-01 12:30:00'::timestamp", [], c)).toEqual(new Date('2024-07-01T12:30:00Z'));
      expect(thrownBy(() => types.setTimestampType('zulu' as 'utc'))).toBeInstanceOf(errors.ProgrammingError);
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
      await c.close();
    }
  });
});

describe('bytea escape format', () => {
  it('reads every byte back under bytea_output = escape, in arrays too', async () => {
    const c = await connectTest({ autocommit: true });
    try {
      await c.query("set bytea_output = 'escape'");
      const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      expect(await one<string>('select $1::bytea::text', [bytes], c)).toMatch(/^\\000\\001/);
      expect(Buffer.compare(await one<Buffer>('select $1::bytea', [bytes], c), bytes)).toBe(0);
      const array = await one<Buffer[]>('select array[$1::bytea, null, $2::bytea]', [bytes, Buffer.alloc(0)], c);
      expect(Buffer.compare(array[0], bytes)).toBe(0);
      expect(array[1]).toBeNull();
      expect(array[2]).toEqual(Buffer.alloc(0));
    } finally {
      await c.close();
    }
  });
});
