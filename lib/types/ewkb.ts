// PostGIS's geometry and geography as GeoJSON-shaped objects, read from and written to
// EWKB, the extended well-known binary the server prints (as hex) for both types:
//   byte order (1 = little-endian) | uint32 type | [uint32 SRID] | the body
// The type's low bits are the kind (1 Point .. 7 GeometryCollection); EWKB flags Z, M and
// "has an SRID" in its high bits (ISO WKB adds 1000/2000/3000 instead; both are read).
// A multi-geometry or a collection holds whole geometries, each with its own header.
//
// Coordinates are [x, y], [x, y, z], [x, y, z, m], or [x, y, m] with `hasM: true` on the
// geometry (GeoJSON has no way of saying that the third number is a measure). An empty
// geometry has empty coordinates (an empty point is written with NaN coordinates).
import { DataError, ProgrammingError } from '../errors';
import { TO_POSTGRES, type PostgresText, type ToPostgres } from '../adapt/to-postgres';

export type Position = number[];

interface GeometryBase {
  /** the spatial reference system, when the value has one */
  srid?: number;
  /** the third coordinate is a measure (XYM), not a height */
  hasM?: boolean;
}

export interface PointGeometry extends GeometryBase {
  type: 'Point';
  coordinates: Position;
}
export interface LineStringGeometry extends GeometryBase {
  type: 'LineString';
  coordinates: Position[];
}
export interface PolygonGeometry extends GeometryBase {
  type: 'Polygon';
  coordinates: Position[][];
}
export interface MultiPointGeometry extends GeometryBase {
  type: 'MultiPoint';
  coordinates: Position[];
}
export interface MultiLineStringGeometry extends GeometryBase {
  type: 'MultiLineString';
  coordinates: Position[][];
}
export interface MultiPolygonGeometry extends GeometryBase {
  type: 'MultiPolygon';
  coordinates: Position[][][];
}
export interface GeometryCollectionGeometry extends GeometryBase {
  type: 'GeometryCollection';
  geometries: GeoJsonGeometry[];
}

export type GeoJsonGeometry =
  | PointGeometry
  | LineStringGeometry
  | PolygonGeometry
  | MultiPointGeometry
  | MultiLineStringGeometry
  | MultiPolygonGeometry
  | GeometryCollectionGeometry;

const KINDS = ['', 'Point', 'LineString', 'Polygon', 'MultiPoint', 'MultiLineString', 'MultiPolygon', 'GeometryCollection'] as const;
const KIND_CODES: ReadonlyMap<string, number> = new Map(KINDS.map((name, code) => [name, code]));

const FLAG_Z = 0x80000000;
const FLAG_M = 0x40000000;
const FLAG_SRID = 0x20000000;

// ---------------------------------------------------------------------------------------
// reading

class Reader {
  pos = 0;
  little = true;
  constructor(
    readonly buf: Buffer,
    readonly text: string,
  ) {}

  fail(detail: string): DataError {
    const shown = this.text.length > 80 ? this.text.slice(0, 80) + '...' : this.text;
    return new DataError(`malformed EWKB ${JSON.stringify(shown)}: ${detail} at byte ${this.pos}`);
  }

  need(bytes: number): void {
    if (this.pos + bytes > this.buf.length) throw this.fail('unexpected end');
  }

  uint32(): number {
    this.need(4);
    const v = this.little ? this.buf.readUInt32LE(this.pos) : this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** a count of items of at least `minBytes` each: a count the rest cannot hold is corrupt */
  count(minBytes: number): number {
    const n = this.uint32();
    if (n * minBytes > this.buf.length - this.pos) throw this.fail(`a count of ${n} past the end`);
    return n;
  }

  float64(): number {
    const v = this.little ? this.buf.readDoubleLE(this.pos) : this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  position(dims: number): Position {
    this.need(dims * 8);
    const p = new Array<number>(dims);
    for (let i = 0; i < dims; i++) p[i] = this.float64();
    return p;
  }

  positions(dims: number): Position[] {
    const n = this.count(dims * 8);
    const out = new Array<Position>(n);
    for (let i = 0; i < n; i++) out[i] = this.position(dims);
    return out;
  }

  rings(dims: number): Position[][] {
    const n = this.count(4);
    const out = new Array<Position[]>(n);
    for (let i = 0; i < n; i++) out[i] = this.positions(dims);
    return out;
  }
}

interface Header {
  kind: number;
  hasZ: boolean;
  hasM: boolean;
  srid: number | undefined;
}

function readHeader(r: Reader): Header {
  r.need(1);
  const order = r.buf[r.pos++];
  if (order !== 0 && order !== 1) throw r.fail(`byte order ${order}`);
  r.little = order === 1;
  const raw = r.uint32();
  let hasZ = (raw & FLAG_Z) !== 0;
  let hasM = (raw & FLAG_M) !== 0;
  const srid = (raw & FLAG_SRID) !== 0 ? r.uint32() : undefined;
  let kind = raw & 0x0fffffff;
  // ISO WKB: 1001 is a Point Z, 2001 a Point M, 3001 a Point ZM
  if (kind > 1000) {
    const iso = Math.floor(kind / 1000);
    kind %= 1000;
    if (iso === 1 || iso === 3) hasZ = true;
    if (iso === 2 || iso === 3) hasM = true;
  }
  if (kind < 1 || kind > 7) throw r.fail(`unknown geometry type ${raw >>> 0}`);
  return { kind, hasZ, hasM, srid };
}

function readGeometry(r: Reader, depth: number): GeoJsonGeometry {
  if (depth > 64) throw r.fail('collections nested too deep');
  const header = readHeader(r);
  const dims = 2 + (header.hasZ ? 1 : 0) + (header.hasM ? 1 : 0);
  let geometry: GeoJsonGeometry;
  switch (header.kind) {
    case 1: {
      const p = r.position(dims);
      // PostGIS writes an empty point as NaN coordinates
      geometry = { type: 'Point', coordinates: p.every(Number.isNaN) ? [] : p };
      break;
    }
    case 2:
      geometry = { type: 'LineString', coordinates: r.positions(dims) };
      break;
    case 3:
      geometry = { type: 'Polygon', coordinates: r.rings(dims) };
      break;
    case 4:
    case 5:
    case 6: {
      const n = r.count(5);
      const parts = new Array<GeoJsonGeometry>(n);
      for (let i = 0; i < n; i++) parts[i] = readGeometry(r, depth + 1);
      const want = KINDS[header.kind - 3];
      for (const part of parts) if (part.type !== want) throw r.fail(`a ${part.type} inside a ${KINDS[header.kind]}`);
      const coordinates = parts.map((part) => (part as PointGeometry | LineStringGeometry | PolygonGeometry).coordinates);
      // an empty point has no place in a MultiPoint's coordinates: it is dropped, as GeoJSON writers do
      const kept = header.kind === 4 ? coordinates.filter((c) => c.length > 0) : coordinates;
      geometry = { type: KINDS[header.kind], coordinates: kept } as GeoJsonGeometry;
      break;
    }
    default: {
      const n = r.count(5);
      const geometries = new Array<GeoJsonGeometry>(n);
      for (let i = 0; i < n; i++) geometries[i] = readGeometry(r, depth + 1);
      geometry = { type: 'GeometryCollection', geometries };
    }
  }
  if (header.hasM && !header.hasZ) geometry.hasM = true;
  if (header.srid !== undefined && header.srid !== 0) geometry.srid = header.srid;
  return geometry;
}

/** A geometry read from EWKB bytes; `text` is what errors show. */
export function parseEwkb(buf: Buffer, text = buf.toString('hex')): GeoJsonGeometry {
  const r = new Reader(buf, text);
  const geometry = readGeometry(r, 0);
  if (r.pos !== buf.length) throw r.fail(`${buf.length - r.pos} bytes after the geometry`);
  return geometry;
}

/** A geometry (or geography) from the server's text output: hex EWKB. */
export function parseEwkbHex(text: string): GeoJsonGeometry {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) {
    throw new DataError(`malformed EWKB ${JSON.stringify(text.slice(0, 80))}: not hexadecimal`);
  }
  return parseEwkb(Buffer.from(text, 'hex'), text);
}

// ---------------------------------------------------------------------------------------
// writing

class Writer {
  buf = Buffer.allocUnsafe(256);
  pos = 0;

  reserve(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + bytes));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  byte(v: number): void {
    this.reserve(1);
    this.buf[this.pos++] = v;
  }

  uint32(v: number): void {
    this.reserve(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }

  float64(v: number): void {
    this.reserve(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }
}

/** Why a value is not a geometry, for the caller to put in its own error. */
export class InvalidGeometry extends Error {}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return typeof value === 'string' ? JSON.stringify(value) : `${typeof value} ${String(value)}`;
}

function positionOf(value: unknown, dims: number, where: string): Position {
  if (!Array.isArray(value) || value.length !== dims || !value.every((n) => typeof n === 'number')) {
    throw new InvalidGeometry(`${where}: expected a position of ${dims} numbers, got ${Array.isArray(value) ? `[${value.map(describe).join(', ')}]` : describe(value)}`);
  }
  return value as Position;
}

function arrayOf(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new InvalidGeometry(`${where}: expected an array, got ${describe(value)}`);
  return value;
}

/** The coordinates' dimension: that of the first position found (2 when there is none). */
function firstPositionLength(coordinates: unknown, depth: number): number {
  let c = coordinates;
  for (let i = 0; i < depth; i++) {
    if (!Array.isArray(c) || c.length === 0) return 2;
    c = c[0];
  }
  return Array.isArray(c) && c.length > 0 ? c.length : 2;
}

const NESTING: Readonly<Record<string, number>> = {
  Point: 0,
  LineString: 1,
  MultiPoint: 1,
  Polygon: 2,
  MultiLineString: 2,
  MultiPolygon: 3,
};

interface Dims {
  count: number;
  flags: number;
}

function dimsOf(geometry: Record<string, unknown>, nesting: number, where: string): Dims {
  const n = firstPositionLength(geometry.coordinates, nesting);
  if (n < 2 || n > 4) throw new InvalidGeometry(`${where}: positions have 2, 3 or 4 numbers, not ${n}`);
  if (n === 4) return { count: 4, flags: FLAG_Z | FLAG_M };
  if (n === 3) return { count: 3, flags: geometry.hasM === true ? FLAG_M : FLAG_Z };
  return { count: 2, flags: 0 };
}

function writeHeader(w: Writer, kind: number, flags: number, srid: number | undefined): void {
  w.byte(1);
  w.uint32(kind | flags | (srid !== undefined ? FLAG_SRID : 0));
  if (srid !== undefined) w.uint32(srid);
}

function writePositions(w: Writer, list: unknown, dims: number, where: string): void {
  const positions = arrayOf(list, where);
  w.uint32(positions.length);
  for (let i = 0; i < positions.length; i++) {
    const p = positionOf(positions[i], dims, `${where}[${i}]`);
    for (let d = 0; d < dims; d++) w.float64(p[d]);
  }
}

function writeRings(w: Writer, list: unknown, dims: number, where: string): void {
  const rings = arrayOf(list, where);
  w.uint32(rings.length);
  for (let i = 0; i < rings.length; i++) writePositions(w, rings[i], dims, `${where}[${i}]`);
}

function sridOf(geometry: Record<string, unknown>, where: string): number | undefined {
  const srid = geometry.srid;
  if (srid === undefined || srid === null) return undefined;
  if (typeof srid !== 'number' || !Number.isInteger(srid) || srid < 0 || srid > 999999) {
    throw new InvalidGeometry(`${where}: srid must be an integer from 0 to 999999, got ${describe(srid)}`);
  }
  return srid;
}

function writeGeometry(w: Writer, value: unknown, where: string, srid: number | undefined, depth: number): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidGeometry(`${where}: expected a GeoJSON geometry object, got ${describe(value)}`);
  }
  if (depth > 64) throw new InvalidGeometry(`${where}: collections nested too deep`);
  const geometry = value as Record<string, unknown>;
  const type = geometry.type;
  const kind = typeof type === 'string' ? KIND_CODES.get(type) : undefined;
  if (kind === undefined || kind === 0) {
    const hint = type === 'Feature' || type === 'FeatureCollection' ? ' (pass the geometry of a Feature, not the Feature)' : '';
    throw new InvalidGeometry(
      `${where}: unknown GeoJSON geometry type ${describe(type)}; expected one of ${KINDS.slice(1).join(', ')}${hint}`,
    );
  }
  if (kind === 7) {
    const parts = arrayOf(geometry.geometries, `${where}.geometries`);
    // a collection takes the dimensions of its first member
    let flags = 0;
    if (parts.length > 0 && parts[0] !== null && typeof parts[0] === 'object') {
      const first = parts[0] as Record<string, unknown>;
      const nesting = NESTING[String(first.type)];
      if (nesting !== undefined) flags = dimsOf(first, nesting, `${where}.geometries[0]`).flags;
    }
    writeHeader(w, kind, flags, srid);
    w.uint32(parts.length);
    for (let i = 0; i < parts.length; i++) writeGeometry(w, parts[i], `${where}.geometries[${i}]`, undefined, depth + 1);
    return;
  }
  const nesting = NESTING[type as string];
  const dims = dimsOf(geometry, nesting, where);
  writeHeader(w, kind, dims.flags, srid);
  const coordinates = geometry.coordinates;
  const at = `${where}.coordinates`;
  switch (kind) {
    case 1: {
      const list = arrayOf(coordinates, at);
      const p = list.length === 0 ? new Array<number>(dims.count).fill(NaN) : positionOf(list, dims.count, at);
      for (let d = 0; d < dims.count; d++) w.float64(p[d]);
      return;
    }
    case 2:
      writePositions(w, coordinates, dims.count, at);
      return;
    case 3:
      writeRings(w, coordinates, dims.count, at);
      return;
    default: {
      // a multi-geometry: its members are whole geometries, without an SRID of their own
      const members = arrayOf(coordinates, at);
      w.uint32(members.length);
      for (let i = 0; i < members.length; i++) {
        writeHeader(w, kind - 3, dims.flags, undefined);
        const where = `${at}[${i}]`;
        if (kind === 4) {
          const p = positionOf(members[i], dims.count, where);
          for (let d = 0; d < dims.count; d++) w.float64(p[d]);
        } else if (kind === 5) {
          writePositions(w, members[i], dims.count, where);
        } else {
          writeRings(w, members[i], dims.count, where);
        }
      }
    }
  }
}

/**
 * A GeoJSON geometry as hex EWKB (little-endian, with its SRID when it has one), the text
 * geometry and geography read. Throws InvalidGeometry saying what in it is wrong.
 */
export function formatEwkbHex(value: unknown): string {
  const w = new Writer();
  const srid = value !== null && typeof value === 'object' ? sridOf(value as Record<string, unknown>, 'the geometry') : undefined;
  writeGeometry(w, value, 'the geometry', srid, 0);
  return w.buf.toString('hex', 0, w.pos);
}

/** A GeoJSON geometry as the hex EWKB of parameter `name`: a ProgrammingError naming it when it is not one. */
export function geometryParamText(value: unknown, name: string): string {
  try {
    return formatEwkbHex(value);
  } catch (error) {
    if (error instanceof InvalidGeometry) {
      throw new ProgrammingError(`cannot adapt parameter ${name} to a geometry: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

/**
 * A GeoJSON geometry to send as a PostGIS value: `new Geometry({ type: 'Point',
 * coordinates: [1, 2], srid: 4326 })`. Untyped (oid 0) unless given the OID of geometry or
 * geography, so that the server reads it as the column or the operator wants.
 */
export class Geometry implements ToPostgres {
  constructor(
    readonly geometry: GeoJsonGeometry,
    readonly oid = 0,
  ) {}

  [TO_POSTGRES](): PostgresText {
    return { text: geometryParamText(this.geometry, 'geometry'), oid: this.oid };
  }
}
