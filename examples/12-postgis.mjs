// 12 — PostGIS: geometries as GeoJSON, and a nearest-neighbour query.
//
// With psycopg2, geometries come back as hex EWKB and are decoded by hand (shapely's
// wkb.loads) or fetched through ST_AsGeoJSON. pqnode decodes the EWKB itself:
// types.registerPostgis(conn) makes geometry and geography columns come back as GeoJSON
// geometries with their `srid`, and a GeoJSON object goes in where the statement casts its
// placeholder ($1::geometry) or wrapped in types.Geometry.
//
// Skips (exit code 0) when the server has no PostGIS (apt-get install postgresql-15-postgis-3).
import assert from 'node:assert/strict';
import { connect, types } from '../dist/index.mjs';

const conn = await connect(process.env.PQNODE_TEST_DSN, { autocommit: true });
try {
  const { rows } = await conn.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'`);
  if (rows.length === 0) {
    console.log('skipped: this server has no PostGIS extension (apt-get install postgresql-15-postgis-3)');
  } else {
    await conn.query('CREATE EXTENSION IF NOT EXISTS postgis');
    await types.registerPostgis(conn);

    await conn.query('DROP TABLE IF EXISTS example_cafes');
    await conn.query('CREATE TABLE example_cafes (name text, location geometry(Point, 4326))');
    await conn.query('CREATE INDEX ON example_cafes USING gist (location)');

    // --- GeoJSON in: a plain object where the placeholder is cast ---------------------------------
    const cafes = [
      ['Le Nord', [2.3553, 48.8809]],
      ['Rive Gauche', [2.3364, 48.8530]],
      ['Bastille', [2.3690, 48.8533]],
      ['Montmartre', [2.3431, 48.8867]],
      ['Opéra', [2.3316, 48.8720]],
      ['Nation', [2.3958, 48.8483]],
      ['Tour Eiffel', [2.2945, 48.8584]],
    ];
    for (const [name, coordinates] of cafes) {
      await conn.query('INSERT INTO example_cafes VALUES ($1, $2::geometry)', [name, { type: 'Point', coordinates, srid: 4326 }]);
    }

    // --- nearest neighbours: the GiST index orders by distance (<->) ------------------------------
    // (<-> on geometry is the planar distance, in degrees here; ST_Distance on geography is metres)
    const here = new types.Geometry({ type: 'Point', coordinates: [2.3522, 48.8566], srid: 4326 });
    const nearest = await conn.query(
      `SELECT name, location, round(ST_Distance(location::geography, $1::geography)) AS metres
         FROM example_cafes ORDER BY location <-> $1 LIMIT 3`,
      [here],
    );
    for (const row of nearest.rows) console.log(`${row.name.padEnd(12)} ${row.metres} m`, JSON.stringify(row.location));
    assert.deepEqual(nearest.rows.map((row) => row.name), ['Rive Gauche', 'Bastille', 'Opéra']);

    // --- GeoJSON out: any geometry, with Z/M coordinates and collections --------------------------
    const area = await conn.query(`SELECT ST_Buffer(ST_MakePoint(0, 0), 1, 2) AS shape, 'POINT Z (1 2 3)'::geometry AS point`);
    console.log('a polygon:', JSON.stringify(area.rows[0].shape));
    assert.deepEqual({ ...area.rows[0].point }, { type: 'Point', coordinates: [1, 2, 3] });

    // a value read goes back as the geometry it was
    const { rows: within } = await conn.query(`SELECT count(*)::int AS n FROM example_cafes WHERE ST_DWithin(location::geography, $1::geography, 3000)`, [
      nearest.rows[0].location,
    ]);
    console.log(`cafés within 3 km of ${nearest.rows[0].name}: ${within[0].n}`);

    await conn.query('DROP TABLE example_cafes');
  }
} finally {
  await conn.close();
}
