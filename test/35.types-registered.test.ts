import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errors, types } from '../lib';
import { globalAdapters } from '../lib/adapt/adapters';
import { globalTypecasters } from '../lib/adapt/typecasters';
import { parseRecord } from '../lib/types/composite';
import { formatHstore, parseHstorePairs } from '../lib/types/hstore';
import { rejectionOf, thrownBy, uniqueName, withConnection, sharedConnection, singleValueOn } from './helpers';

const conn = sharedConnection({ autocommit: true });
const schema = uniqueName('reg');

beforeAll(async () => {
  await conn().query(`create schema ${schema}`);
});

afterAll(async () => {
  await conn().query(`drop schema if exists ${schema} cascade`);
});

const one = singleValueOn(conn);

describe('fetchTypeInfo', () => {
  it('describes built-in, enum, composite, range and domain types', async () => {
    await conn().query(`create type ${schema}.mood as enum ('sad', 'ok', 'happy')`);
    await conn().query(`create type ${schema}.pair as (left_side int, "Right Side" text)`);
    await conn().query(`create type ${schema}.floatrange as range (subtype = float8)`);
    await conn().query(`create domain ${schema}.email as text check (value like '%@%')`);

    const int4 = await types.fetchTypeInfo(conn(), 'integer');
    expect(int4).toMatchObject({ name: 'int4', schema: 'pg_catalog', oid: 23, arrayOid: 1007, category: 'base', delimiter: ',' });
    expect((await types.fetchTypeInfo(conn(), 'box'))?.delimiter).toBe(';');
    expect(await types.fetchTypeInfo(conn(), 'text[]')).toMatchObject({ name: '_text', oid: 1009, elementOid: 25, arrayOid: 0 });

    const mood = await types.fetchTypeInfo(conn(), `${schema}.mood`);
    expect(mood).toBeInstanceOf(types.TypeInfo);
    expect(mood).toMatchObject({ name: 'mood', schema, category: 'enum', labels: ['sad', 'ok', 'happy'] });
    expect(mood?.arrayOid).toBeGreaterThan(0);

    const pair = await types.fetchTypeInfo(conn(), `${schema}.pair`);
    expect(pair?.category).toBe('composite');
    expect(pair?.fields).toEqual([
      { name: 'left_side', typeOid: 23 },
      { name: 'Right Side', typeOid: 25 },
    ]);

    const range = await types.fetchTypeInfo(conn(), `${schema}.floatrange`);
    expect(range).toMatchObject({ category: 'range', subtypeOid: 701 });
    expect(range?.multirangeOid).toBeGreaterThan(0);
    expect(range?.multirangeArrayOid).toBeGreaterThan(0);

    expect(await types.fetchTypeInfo(conn(), `${schema}.email`)).toMatchObject({ category: 'domain', baseTypeOid: 25 });
    expect(await types.fetchTypeInfo(conn(), 'int4range')).toMatchObject({ category: 'range', subtypeOid: 23, multirangeOid: 4451 });
    expect(await types.fetchTypeInfo(conn(), 'int4multirange')).toMatchObject({ category: 'multirange', oid: 4451 });
  });

  it('is null for a type that does not exist; a bad name is an error', async () => {
    expect(await types.fetchTypeInfo(conn(), 'no_such_type_here')).toBeNull();
    expect(await types.fetchTypeInfo(conn(), `${schema}.nothing`)).toBeNull();
    expect(await rejectionOf(types.fetchTypeInfo(conn(), ''))).toBeInstanceOf(errors.ProgrammingError);
    expect(await rejectionOf(types.fetchTypeInfo(conn(), 'a b c d'))).toBeInstanceOf(errors.DatabaseError);
  });

  it('ignores a typecaster the user set on oid or int4', async () => {
    await withConnection(async (c) => {
      types.setTypecaster('oid', () => 'nope', { conn: c });
      types.setTypecaster('int4', () => 'nope', { conn: c });
      expect(await types.fetchTypeInfo(c, 'int4')).toMatchObject({ oid: 23, arrayOid: 1007 });
    });
  });
});

describe('registerEnum', () => {
  it('values are strings; arrays of the enum become arrays after registering', async () => {
    await conn().query(`create type ${schema}.color as enum ('red', 'green', 'blue', 'with space', 'ünïcode "q"')`);
    await withConnection(async (c) => {
      expect(await one(`select 'red'::${schema}.color`, [], c)).toBe('red');
      expect(await one(`select array['red', 'blue']::${schema}.color[]`, [], c)).toBe('{red,blue}');
      const info = await types.registerEnum(c, `${schema}.color`);
      expect(info.labels).toEqual(['red', 'green', 'blue', 'with space', 'ünïcode "q"']);
      expect(await one(`select array['red', null, 'with space', 'ünïcode "q"']::${schema}.color[]`, [], c)).toEqual([
        'red',
        null,
        'with space',
        'ünïcode "q"',
      ]);
      expect(await one(`select $1::${schema}.color[]`, [['green', 'with space']], c)).toEqual(['green', 'with space']);
      expect(await one(`select $1::${schema}.color`, ['blue'], c)).toBe('blue');
      expect(await rejectionOf(c.query(`select $1::${schema}.color`, ['purple']))).toBeInstanceOf(errors.InvalidTextRepresentation);
      // only on that connection
      expect(await one(`select array['red']::${schema}.color[]`)).toBe('{red}');
    });
  });

  it('refuses a name that is not an enum, or no type at all', async () => {
    expect(await rejectionOf(types.registerEnum(conn(), 'int4'))).toBeInstanceOf(errors.ProgrammingError);
    const error = await rejectionOf(types.registerEnum(conn(), `${schema}.missing`));
    expect(error).toBeInstanceOf(errors.ProgrammingError);
    expect(error.message).toContain('missing');
  });
});

describe('registerComposite', () => {
  beforeAll(async () => {
    await conn().query(`create type ${schema}.point3 as (x float8, y float8, z float8)`);
    await conn().query(`create type ${schema}.card as (
      id int8, title text, tags text[], at timestamptz, span int4range, spot ${schema}.point3, "Odd Name" bool, data jsonb, raw bytea)`);
  });

  it('rows become objects by attribute name, each field typecast, nested composites and arrays too', async () => {
    await withConnection(async (c) => {
      const plain = await one<string>(`select row(1, 2, 3)::${schema}.point3`, [], c);
      expect(plain).toBe('(1,2,3)');
      await types.registerComposite(c, `${schema}.point3`);
      await types.registerComposite(c, `${schema}.card`);
      const card = await one(
        `select row(9007199254740993, 'a "title", (with) \\ stuff', array['x', null, 'y z'], '2024-02-29 12:00:00+00',
          '[1,5)', row(1.5, -2, 'NaN')::${schema}.point3, true, '{"k": [1, "v"]}', '\\x00ff')::${schema}.card`,
        [],
        c,
      );
      expect(card).toEqual({
        id: 9007199254740993n,
        title: 'a "title", (with) \\ stuff',
        tags: ['x', null, 'y z'],
        at: new Date('2024-02-29T12:00:00Z'),
        span: new types.Range(1, 5),
        spot: { x: 1.5, y: -2, z: NaN },
        'Odd Name': true,
        data: { k: [1, 'v'] },
        raw: Buffer.from([0, 255]),
      });
      const cards = await one<unknown[]>(
        `select array[row(1, '', null, null, null, null, null, null, null)::${schema}.card, null, row(null, null, '{}', null, 'empty', row(null, null, null), false, 'null', '\\x')::${schema}.card]`,
        [],
        c,
      );
      expect(cards[0]).toEqual({ id: 1n, title: '', tags: null, at: null, span: null, spot: null, 'Odd Name': null, data: null, raw: null });
      expect(cards[1]).toBeNull();
      expect(cards[2]).toEqual({
        id: null,
        title: null,
        tags: [],
        at: null,
        span: types.Range.empty(),
        spot: { x: null, y: null, z: null },
        'Odd Name': false,
        data: null,
        raw: Buffer.alloc(0),
      });
    });
  });

  it('a table row type can be registered, and a factory builds the values', async () => {
    await conn().query(`create table ${schema}.person (name text, born date)`);
    await withConnection(async (c) => {
      class Person {
        constructor(readonly fields: Record<string, unknown>) {}
      }
      await types.registerComposite(c, `${schema}.person`, { factory: (fields) => new Person(fields) });
      const person = await one<Person>(`select row('Ada', '1815-12-10')::${schema}.person`, [], c);
      expect(person).toBeInstanceOf(Person);
      expect(person.fields).toEqual({ name: 'Ada', born: '1815-12-10' });
    });
  });

  it('Composite values go in as parameters, from an array or (with the TypeInfo) an object', async () => {
    await withConnection(async (c) => {
      const spot = await types.registerComposite(c, `${schema}.point3`);
      const card = await types.registerComposite(c, `${schema}.card`);
      const value = new types.Composite(
        {
          id: 2n ** 62n,
          title: 'quote " backslash \\ comma , paren ) blank ',
          tags: ['a,b', null, '"q"', ''],
          at: new Date('2000-01-01T00:00:00.001Z'),
          span: new types.Range(-1, 1, '[]'),
          spot: new types.Composite([1, 2, 3], spot),
          data: { nested: ['x'] },
          raw: Buffer.from('\u0000\\'),
        },
        card,
      );
      expect(await one('select pg_typeof($1)::text', [value], c)).toBe(`${schema}.card`);
      expect(await one('select $1', [value], c)).toEqual({
        id: 2n ** 62n,
        title: 'quote " backslash \\ comma , paren ) blank ',
        tags: ['a,b', null, '"q"', ''],
        at: new Date('2000-01-01T00:00:00.001Z'),
        span: new types.Range(-1, 2),
        spot: { x: 1, y: 2, z: 3 },
        'Odd Name': null,
        data: { nested: ['x'] },
        raw: Buffer.from('\u0000\\'),
      });
      // an anonymous record from an array, read by the context
      expect(await one(`select ($1::${schema}.point3).z`, [new types.Composite([1, null, 3.5])], c)).toBe(3.5);
      // arrays of composites
      const many = await one<unknown[]>(`select $1::${schema}.point3[]`, [[new types.Composite([1, 2, 3], spot), null]], c);
      expect(many).toEqual([{ x: 1, y: 2, z: 3 }, null]);
    });
  });

  it('bad Composite values are refused before sending', async () => {
    const spot = await types.fetchTypeInfo(conn(), `${schema}.point3`);
    expect(thrownBy(() => new types.Composite({ x: 1 }))).toBeInstanceOf(errors.ProgrammingError);
    expect(thrownBy(() => new types.Composite({ w: 1 }, spot ?? undefined))).toBeInstanceOf(errors.ProgrammingError);
    expect(thrownBy(() => new types.Composite([1, 2], spot ?? undefined))).toBeInstanceOf(errors.ProgrammingError);
    expect(thrownBy(() => new types.Composite(null as unknown as unknown[]))).toBeInstanceOf(errors.ProgrammingError);
    const error = await rejectionOf(conn().query('select $1::text, $2::text', ['x', new types.Composite([() => 1])]));
    expect(error).toBeInstanceOf(errors.ProgrammingError);
    expect(error.message).toContain('$2');
  });

  it('registerComposite refuses what is not a composite', async () => {
    expect(await rejectionOf(types.registerComposite(conn(), 'int4'))).toBeInstanceOf(errors.ProgrammingError);
    expect(await rejectionOf(types.registerComposite(conn(), `${schema}.nope`))).toBeInstanceOf(errors.ProgrammingError);
  });

  it('record literals parse NULLs, empty strings, quotes and escapes', () => {
    expect(parseRecord('(1,,"","a ""b"" \\\\c")')).toEqual(['1', null, '', 'a "b" \\c']);
    expect(parseRecord('()')).toEqual([null]);
    for (const bad of ['', '1,2', '(1,2', '("a)', '(1)x']) expect(thrownBy(() => parseRecord(bad)), bad).toBeInstanceOf(errors.DataError);
  });
});

describe('registerRange', () => {
  it('user range types read their ends with the subtype typecaster, multiranges and arrays too', async () => {
    await conn().query(`create type ${schema}.timerange as range (subtype = time)`);
    await conn().query(`create type ${schema}.f8range as range (subtype = float8)`);
    await withConnection(async (c) => {
      expect(await one(`select '[1.5,2.5)'::${schema}.f8range`, [], c)).toBe('[1.5,2.5)');
      const info = await types.registerRange(c, `${schema}.f8range`);
      await types.registerRange(c, `${schema}.timerange`);
      expect(await one(`select '[1.5,Infinity)'::${schema}.f8range`, [], c)).toEqual(new types.Range(1.5, Infinity));
      expect(await one(`select '(,12:00]'::${schema}.timerange`, [], c)).toEqual(new types.Range(null, '12:00:00', '(]'));
      expect(await one(`select array['[1,2)'::${schema}.f8range, null]`, [], c)).toEqual([new types.Range(1, 2), null]);
      const multirange = (await c.query<unknown[]>('select typname from pg_type where oid = $1', [info.multirangeOid], { rowFactory: 'tuple' })).rows[0][0];
      expect(await one(`select '{[1,2), [3,4]}'::${schema}.${String(multirange)}`, [], c)).toEqual([new types.Range(1, 2), new types.Range(3, 4, '[]')]);
      expect(await one(`select $1::${schema}.f8range`, [new types.Range(-0.5, 0.25, '(]')], c)).toEqual(new types.Range(-0.5, 0.25, '(]'));
    });
  });

  it('refuses a type that is not a range', async () => {
    expect(await rejectionOf(types.registerRange(conn(), 'int4'))).toBeInstanceOf(errors.ProgrammingError);
  });
});

describe('registerHstore', () => {
  let available = false;
  beforeAll(async () => {
    try {
      await conn().query(`create extension if not exists hstore with schema ${schema}`);
      available = true;
    } catch {
      available = false;
    }
  });

  it('hstore comes back as a Map, or as an object when asked; Maps go in', async (context) => {
    if (!available) context.skip();
    await withConnection(async (c) => {
      await c.query(`set search_path = ${schema}, public`);
      expect(await one(`select 'a=>1'::hstore`, [], c)).toBe('"a"=>"1"');
      await types.registerHstore(c);
      const value = await one(`select 'a=>1, "b c"=>NULL, "quote\\"d"=>"back\\\\slash", ""=>"", "ü"=>"☃"'::hstore`, [], c);
      expect(value).toEqual(
        new Map<string, string | null>([
          ['a', '1'],
          ['b c', null],
          ['quote"d', 'back\\slash'],
          ['', ''],
          ['ü', '☃'],
        ]),
      );
      const map = new Map<string, string | null>([
        ['k', 'v'],
        ['null', null],
        ['=>', ',"\\'],
        ['__proto__', 'x'],
      ]);
      expect(await one('select $1', [map], c)).toEqual(map);
      expect(await one('select pg_typeof($1)::text', [map], c)).toBe('hstore');
      expect(await one('select $1::hstore[]', [[map, null, new Map()]], c)).toEqual([map, null, new Map()]);
      expect(await one("select array['a=>1'::hstore]", [], c)).toEqual([new Map([['a', '1']])]);
      const error = await rejectionOf(c.query('select $1', [new Map([[1, 'x']])]));
      expect(error).toBeInstanceOf(errors.ProgrammingError);
      // other connections keep the text, and refuse Maps
      expect(await one(`select 'a=>1'::${schema}.hstore`)).toBe('"a"=>"1"');
      expect(await rejectionOf(conn().query('select $1', [map]))).toBeInstanceOf(errors.ProgrammingError);
    });
    await withConnection(async (c) => {
      // by name, outside the search_path
      await types.registerHstore(c, `${schema}.hstore`, { as: 'object' });
      const value = await one<Record<string, unknown>>(`select '"__proto__"=>"p", x=>NULL'::${schema}.hstore`, [], c);
      // an object of a class that knows its hstore type: it goes back as an hstore, not as JSON
      expect(Object.getPrototypeOf(Object.getPrototypeOf(value))).toBe(Object.prototype);
      expect(Object.keys(value).sort()).toEqual(['__proto__', 'x']);
      expect(value['__proto__']).toBe('p');
      expect(value.x).toBeNull();
      expect(await one(`select $1::text`, [value], c)).toBe('"x"=>NULL, "__proto__"=>"p"');
    });
  });

  it('registers globally when asked', async (context) => {
    if (!available) context.skip();
    await withConnection(async (c) => {
      await c.query(`set search_path = ${schema}, public`);
      const info = await types.registerHstore(c, { global: true });
      try {
        expect(await one(`select 'a=>b'::${schema}.hstore`)).toEqual(new Map([['a', 'b']]));
      } finally {
        globalTypecasters.delete(info.oid);
        globalTypecasters.delete(info.arrayOid);
        globalAdapters.delete(Map);
      }
      expect(await one(`select 'a=>b'::${schema}.hstore`)).toBe('"a"=>"b"');
    });
  });

  it('is refused where the extension is missing, and with a bad option', async () => {
    await withConnection(async (c) => {
      await c.query('set search_path = pg_catalog');
      expect(await rejectionOf(types.registerHstore(c))).toBeInstanceOf(errors.ProgrammingError);
      expect(await rejectionOf(types.registerHstore(c, { as: 'list' as 'map' }))).toBeInstanceOf(errors.ProgrammingError);
    });
  });

  it('parses and formats the text format', () => {
    expect(parseHstorePairs('')).toEqual([]);
    expect(parseHstorePairs('a=>b,c=>NULL , "d"=>"NULL"')).toEqual([
      ['a', 'b'],
      ['c', null],
      ['d', 'NULL'],
    ]);
    expect(formatHstore([['a"', null]])).toBe('"a\\""=>NULL');
    expect(formatHstore([['n', 1]])).toBe('"n"=>"1"');
    expect(thrownBy(() => formatHstore([['o', {}]]))).toBeInstanceOf(errors.ProgrammingError);
    for (const bad of ['a', 'a=>', 'a=>"b', 'a=>b c=>d']) expect(thrownBy(() => parseHstorePairs(bad)), bad).toBeInstanceOf(errors.DataError);
  });
});
