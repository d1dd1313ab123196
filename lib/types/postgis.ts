// PostGIS: geometry and geography read as GeoJSON-shaped objects (with `srid`), decoded
// from the hex EWKB the server prints, and written back as EWKB. Their OIDs are per
// database (the extension creates them): registerPostgis looks them up.
import type { Connection } from '../connection';
import { ProgrammingError } from '../errors';
import { TO_POSTGRES, type PostgresText, type ToPostgres } from '../adapt/to-postgres';
import { geometryParamText, parseEwkbHex, type GeoJsonGeometry } from './ewkb';
import { fetchTypeInfo, targetRegistry, type RegisterOptions, type TypeInfo } from './typeinfo';

export interface RegisterPostgisOptions extends RegisterOptions {
  /** the schema PostGIS is installed in, when it is not on the search_path (e.g. 'extensions') */
  schema?: string;
}

export interface PostgisTypes {
  geometry: TypeInfo;
  /** null when the database has no geography type */
  geography: TypeInfo | null;
}

/**
 * The class of the values read from a column of type `oid`: GeoJSON-shaped, and knowing
 * their type, so that a value read goes back as the geometry (or geography) it was.
 */
function readValueClass(oid: number, name: string): new () => object {
  class PostgisValue implements ToPostgres {
    [TO_POSTGRES](): PostgresText {
      return { text: geometryParamText(this, name), oid };
    }
  }
  Object.defineProperty(PostgisValue, 'name', { value: name });
  return PostgisValue;
}

function register(conn: Connection, info: TypeInfo, options: RegisterOptions): void {
  const Value = readValueClass(info.oid, info.name);
  const registry = targetRegistry(conn, options);
  registry.set(info.oid, (text): GeoJsonGeometry => Object.assign(new Value(), parseEwkbHex(text)));
  // geometry's arrays separate their elements with ':'
  if (info.arrayOid !== 0) registry.setArray(info.arrayOid, info.oid, info.delimiter);
}

/**
 * Read geometry and geography values as GeoJSON geometries with their `srid`
 * ({ type: 'Point', coordinates: [1, 2], srid: 4326 }); such a value goes back as the type
 * it came from. Send a GeoJSON geometry as `new types.Geometry(value)`, or as a plain
 * object where the statement casts its placeholder (`$1::geometry`, `$1::geography`).
 * The extension must be installed in the database (CREATE EXTENSION postgis).
 */
export async function registerPostgis(conn: Connection, options: RegisterPostgisOptions = {}): Promise<PostgisTypes> {
  const prefix = options.schema !== undefined ? `${options.schema}.` : '';
  const geometry = await fetchTypeInfo(conn, `${prefix}geometry`);
  if (geometry === null) {
    throw new ProgrammingError(`registerPostgis: no type ${JSON.stringify(`${prefix}geometry`)} in this database (CREATE EXTENSION postgis)`);
  }
  const geography = await fetchTypeInfo(conn, `${prefix}geography`);
  register(conn, geometry, options);
  if (geography !== null) register(conn, geography, options);
  return { geometry, geography };
}
