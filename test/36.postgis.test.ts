// PostGIS's geometry and geography: the EWKB reader and writer on their own, then against a
// server with the extension. Without PostGIS the server tests skip, saying why; under CI
// they fail instead when the server has the extension's files but cannot create it.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { connect, errors, types, type Connection } from '../lib';
import { formatEwkbHex, parseEwkb, parseEwkbHex, type GeoJsonGeometry } from '../lib/types/ewkb';
import { connectTest, rejectionOf, singleValue, testDsnWith, thrownBy, uniqueName } from './helpers';

// One of each kind, in each dimension, empty or not: [the GeoJSON, its EWKT on the server]
const CASES: [GeoJsonGeometry, string][] = [
  [{ type: 'Point', coordinates: [1, 2] }, 'POINT(1 2)'],
  [{ type: 'Point', coordinates: [1.5, -2.25, 3] }, 'POINT(1.5 -2.25 3)'],
  [{ type: 'Point', coordinates: [1, 2, 4], hasM: true }, 'POINTM(1 2 4)'],
  [{ type: 'Point', coordinates: [1, 2, 3, 4] }, 'POINT(1 2 3 4)'],
  [{ type: 'Point', coordinates: [] }, 'POINT EMPTY'],
  [{ type: 'LineString', coordinates: [[0, 0], [1, 1], [2, 0]] }, 'LINESTRING(0 0,1 1,2 0)'],
  [{ type: 'LineString', coordinates: [[0, 0, 1], [1, 1, 2]] }, 'LINESTRING(0 0 1,1 1 2)'],
  [{ type: 'LineString', coordinates: [] }, 'LINESTRING EMPTY'],
  [{ type: 'Polygon', coordinates: [[[0, 0], [4, 0], [4, 4], [0, 0]], [[1, 1], [2, 1], [2, 2], [1, 1]]] }, 'POLYGON((0 0,4 0,4 4,0 0),(1 1,2 1,2 2,1 1))'],
  [{ type: 'Polygon', coordinates: [] }, 'POLYGON EMPTY'],
  [{ type: 'MultiPoint', coordinates: [[1, 2], [3, 4]] }, 'MULTIPOINT(1 2,3 4)'],
  [{ type: 'MultiPoint', coordinates: [[1, 2, 3, 4]] }, 'MULTIPOINT(1 2 3 4)'],
  [{ type: 'MultiLineString', coordinates: [[[0, 0], [1, 1]], [[2, 2], [3, 3]]] }, 'MULTILINESTRING((0 0,1 1),(2 2,3 3))'],
  [{ type: 'MultiPolygon', coordinates: [[[[0, 0], [1, 0], [1, 1], [0, 0]]], [[[5, 5], [6, 5], [6, 6], [5, 5]]]] }, 'MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5)))'],
  [{ type: 'MultiPolygon', coordinates: [], hasM: undefined }, 'MULTIPOLYGON EMPTY'],
  [
    { type: 'GeometryCollection', geometries: [{ type: 'Point', coordinates: [1, 2] }, { type: 'LineString', coordinates: [[0, 0], [1, 1]] }] },
    'GEOMETRYCOLLECTION(POINT(1 2),LINESTRING(0 0,1 1))',
  ],
  [{ type: 'GeometryCollection', geometries: [] }, 'GEOMETRYCOLLECTION EMPTY'],
];

/** The GeoJSON without the keys whose value is undefined, as a reader gives it back. */
function defined(geometry: GeoJsonGeometry): GeoJsonGeometry {
  return JSON.parse(JSON.stringify(geometry)) as GeoJsonGeometry;
}

describe('EWKB without a server', () => {
  it('reads back what it writes, for every kind and dimension', () => {
    for (const [geometry] of CASES) {
      expect(parseEwkbHex(formatEwkbHex(geometry))).toEqual(defined(geometry));
      const withSrid = { ...geometry, srid: 3857 } as GeoJsonGeometry;
      expect(parseEwkbHex(formatEwkbHex(withSrid))).toEqual(defined(withSrid));
    }
  });

  it('writes the EWKB PostGIS writes: little-endian, SRID flag, NaN for an empty point', () => {
    expect(formatEwkbHex({ type: 'Point', coordinates: [1, 2], srid: 4326 })).toBe('0101000020e6100000000000000000f03f0000000000000040');
    expect(formatEwkbHex({ type: 'Point', coordinates: [] })).toBe('0101000000000000000000f87f000000000000f87f');
  });

  it('reads big-endian and ISO WKB (1000s for Z)', () => {
    const big = Buffer.alloc(1 + 4 + 16);
    big[0] = 0;
    big.writeUInt32BE(1, 1);
    big.writeDoubleBE(7, 5);
    big.writeDoubleBE(-8, 13);
    expect(parseEwkb(big)).toEqual({ type: 'Point', coordinates: [7, -8] });
    const iso = Buffer.alloc(1 + 4 + 24);
    iso[0] = 1;
    iso.writeUInt32LE(1001, 1);
    iso.writeDoubleLE(1, 5);
    iso.writeDoubleLE(2, 13);
    iso.writeDoubleLE(3, 21);
    expect(parseEwkb(iso)).toEqual({ type: 'Point', coordinates: [1, 2, 3] });
  });

  it('refuses corrupt EWKB with a DataError rather than reading past the end', () => {
    const point = formatEwkbHex({ type: 'Point', coordinates: [1, 2] });
    for (const bad of [point.slice(0, -2), point + '00', 'zz', '0209000000', '010200000000ffffff']) {
      expect(thrownBy(() => parseEwkbHex(bad))).toBeInstanceOf(errors.DataError);
    }
  });
});

let conn: Connection | undefined;
let skipReason = '';
const database = uniqueName('gis');

/** Whether the extension's files are where the Debian package puts them for this server's version. */
function packageInstalled(major: number): boolean {
  return fs.existsSync(`/usr/share/postgresql/${major}/extension/postgis.control`);
}

beforeAll(async () => {
  const admin = await connectTest({ autocommit: true });
  try {
    const available = await singleValue<boolean>(admin, `select exists (select 1 from pg_available_extensions where name = 'postgis')`);
    if (!available) {
      const major = Math.floor(admin.info.serverVersion / 10000);
      if (process.env.CI === 'true' && packageInstalled(major)) {
        throw new Error(`postgresql-${major}-postgis-3 is installed but the test server (${admin.info.serverVersion}) does not offer the postgis extension`);
      }
      skipReason = 'PostGIS is not installed for the test server (apt-get install postgresql-15-postgis-3)';
      return;
    }
    await admin.query(`create database ${database}`);
  } finally {
    await admin.close();
  }
  conn = await connect(testDsnWith({ dbname: database }), { autocommit: true });
  await conn.query('create extension postgis');
  await types.registerPostgis(conn);
});

afterAll(async () => {
  await conn?.close();
  if (skipReason !== '') return;
  const admin = await connectTest({ autocommit: true });
  await admin.query(`drop database if exists ${database}`);
  await admin.close();
});

/** The connection, or a skip saying why there is none. */
function gis(context: TestContext): Connection {
  if (conn === undefined) return context.skip(skipReason) as never;
  return conn;
}

describe('registerPostgis', () => {
  it('reads every kind of geometry, empty and with Z/M, as the GeoJSON it is', async (context) => {
    const c = gis(context);
    for (const [geometry, ewkt] of CASES) {
      expect(await singleValue(c, `select $1::text::geometry`, [ewkt]), ewkt).toEqual(defined(geometry));
    }
  });

  it('writes every kind the server reads as the same geometry, from Geometry and from $1::geometry', async (context) => {
    const c = gis(context);
    for (const [geometry, ewkt] of CASES) {
      const expected = await singleValue<string>(c, `select st_asewkt($1::text::geometry)`, [ewkt]);
      expect(await singleValue(c, `select st_asewkt($1)`, [new types.Geometry(geometry)]), ewkt).toBe(expected);
      expect(await singleValue(c, `select st_asewkt($1::geometry)`, [geometry]), ewkt).toBe(expected);
      expect(await singleValue(c, `select $1::geometry`, [geometry]), ewkt).toEqual(defined(geometry));
    }
  });

  it('keeps SRIDs both ways; a geometry read goes back as it came', async (context) => {
    const c = gis(context);
    const read = await singleValue<GeoJsonGeometry>(c, `select 'SRID=3857;LINESTRING(1 2,3 4)'::geometry`);
    expect(read).toEqual({ type: 'LineString', coordinates: [[1, 2], [3, 4]], srid: 3857 });
    expect(await singleValue(c, `select st_srid($1::geometry)`, [{ type: 'Point', coordinates: [0, 0], srid: 4326 }])).toBe(4326);
    expect(await singleValue(c, `select st_srid($1::geometry)`, [{ type: 'Point', coordinates: [0, 0] }])).toBe(0);
    // untyped, the value read goes back as a geometry, SRID and all
    expect(await singleValue(c, `select st_asewkt($1)`, [read])).toBe('SRID=3857;LINESTRING(1 2,3 4)');
    expect(await singleValue(c, `select $1::geometry(LineString, 3857)`, [{ ...read }])).toEqual(read);
  });

  it('reads and writes geography, whose SRID is 4326 unless said otherwise', async (context) => {
    const c = gis(context);
    expect(await singleValue(c, `select 'POINT(2.35 48.85)'::geography`)).toEqual({ type: 'Point', coordinates: [2.35, 48.85], srid: 4326 });
    const paris = { type: 'Point', coordinates: [2.35, 48.85] };
    const london = { type: 'Point', coordinates: [-0.13, 51.51] };
    const metres = await singleValue<number>(c, `select st_distance($1::geography, $2::geography)`, [paris, london]);
    expect(metres).toBeGreaterThan(340_000);
    expect(metres).toBeLessThan(345_000);
    const back = await singleValue<GeoJsonGeometry>(c, `select $1::geography`, [paris]);
    expect(back).toEqual({ ...paris, srid: 4326 });
    expect(await singleValue(c, `select st_astext($1)`, [back])).toBe('POINT(2.35 48.85)');
  });

  it('reads arrays of geometry (whose elements are separated by ":") and NULL', async (context) => {
    const c = gis(context);
    expect(await singleValue(c, `select array['POINT(1 2)', NULL, 'SRID=4326;POINT EMPTY']::geometry[]`)).toEqual([
      { type: 'Point', coordinates: [1, 2] },
      null,
      { type: 'Point', coordinates: [], srid: 4326 },
    ]);
    // many geometries in one parameter: EWKB texts cast to geometry[]
    const many = [types.formatEwkbHex({ type: 'Point', coordinates: [1, 2], srid: 4326 }), types.formatEwkbHex({ type: 'LineString', coordinates: [] })];
    expect(await singleValue(c, `select array_agg(st_asewkt(g)) from unnest($1::text[]::geometry[]) g`, [many])).toEqual([
      'SRID=4326;POINT(1 2)',
      'LINESTRING EMPTY',
    ]);
    expect(await singleValue(c, `select null::geometry`)).toBeNull();
    expect(await singleValue(c, `select $1::geometry is null`, [null])).toBe(true);
  });

  it('finds the nearest neighbours of a point given as GeoJSON', async (context) => {
    const c = gis(context);
    await c.query(`create table places (name text, geom geometry(Point, 4326))`);
    await c.query(`create index on places using gist (geom)`);
    await c.query(
      `insert into places select 'p' || i, st_setsrid(st_makepoint(i % 20, i / 20), 4326) from generate_series(0, 399) i`,
    );
    const here = new types.Geometry({ type: 'Point', coordinates: [10.2, 7.3], srid: 4326 });
    const result = await c.query<{ name: string; geom: GeoJsonGeometry }>(`select name, geom from places order by geom <-> $1 limit 5`, [here]);
    expect(result.rows.map((row) => row.geom.type === 'Point' && row.geom.coordinates)).toEqual([
      [10, 7],
      [10, 8],
      [11, 7],
      [11, 8],
      [9, 7],
    ]);
    expect(result.rows[0]).toEqual({ name: 'p150', geom: { type: 'Point', coordinates: [10, 7], srid: 4326 } });
  });

  it('refuses a GeoJSON it cannot write with an error naming the parameter', async (context) => {
    const c = gis(context);
    const unknownType = await rejectionOf(c.query(`select $1::int, $2::geometry`, [1, { type: 'Circle', coordinates: [0, 0] }]));
    expect(unknownType).toBeInstanceOf(errors.ProgrammingError);
    expect(unknownType.message).toMatch(/parameter \$2.*unknown GeoJSON geometry type "Circle"/);
    const feature = await rejectionOf(c.query(`select $1`, [new types.Geometry({ type: 'Feature' } as unknown as GeoJsonGeometry)]));
    expect(feature.message).toMatch(/parameter \$1.*"Feature".*geometry of a Feature/);
    const badPosition = await rejectionOf(c.query(`select $1::geography`, [{ type: 'LineString', coordinates: [[0, 0], [1]] }]));
    expect(badPosition.message).toMatch(/parameter \$1 .*coordinates\[1\]: expected a position of 2 numbers/);
    // the connection is still usable
    expect(await singleValue(c, 'select 1')).toBe(1);
  });

  it('refuses a database without PostGIS', async (context) => {
    gis(context);
    const plain = await connectTest();
    try {
      expect(await rejectionOf(types.registerPostgis(plain))).toBeInstanceOf(errors.ProgrammingError);
    } finally {
      await plain.close();
    }
  });
});
