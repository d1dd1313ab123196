// The built-in PostgreSQL types: their OIDs are fixed in the server catalog (pg_type.dat),
// so they can be known without asking the server.

export interface BuiltinType {
  /** the name in pg_type (typname) */
  readonly name: string;
  readonly oid: number;
  /** the OID of the array of this type, 0 when the server defines none */
  readonly arrayOid: number;
  /** the array element separator in the text format (typdelim): ',' for all but box */
  readonly delimiter: string;
  /** other spellings the SQL grammar accepts for this type */
  readonly aliases: readonly string[];
}

function t(name: string, oid: number, arrayOid: number, aliases: readonly string[] = [], delimiter = ','): BuiltinType {
  return Object.freeze({ name, oid, arrayOid, delimiter, aliases: Object.freeze([...aliases]) });
}

export const BUILTIN_TYPES: readonly BuiltinType[] = Object.freeze([
  t('bool', 16, 1000, ['boolean']),
  t('bytea', 17, 1001),
  t('char', 18, 1002, ['"char"']),
  t('name', 19, 1003),
  t('int8', 20, 1016, ['bigint']),
  t('int2', 21, 1005, ['smallint']),
  t('int2vector', 22, 1006),
  t('int4', 23, 1007, ['integer', 'int']),
  t('regproc', 24, 1008),
  t('text', 25, 1009),
  t('oid', 26, 1028),
  t('tid', 27, 1010),
  t('xid', 28, 1011),
  t('cid', 29, 1012),
  t('oidvector', 30, 1013),
  t('json', 114, 199),
  t('xml', 142, 143),
  t('pg_node_tree', 194, 0),
  t('point', 600, 1017),
  t('lseg', 601, 1018),
  t('path', 602, 1019),
  t('box', 603, 1020, [], ';'),
  t('polygon', 604, 1027),
  t('line', 628, 629),
  t('cidr', 650, 651),
  t('float4', 700, 1021, ['real']),
  t('float8', 701, 1022, ['double precision', 'float']),
  t('unknown', 705, 0),
  t('circle', 718, 719),
  t('macaddr8', 774, 775),
  t('money', 790, 791),
  t('macaddr', 829, 1040),
  t('inet', 869, 1041),
  t('aclitem', 1033, 1034),
  t('bpchar', 1042, 1014, ['character']),
  t('varchar', 1043, 1015, ['character varying']),
  t('date', 1082, 1182),
  t('time', 1083, 1183, ['time without time zone']),
  t('timestamp', 1114, 1115, ['timestamp without time zone']),
  t('timestamptz', 1184, 1185, ['timestamp with time zone']),
  t('interval', 1186, 1187),
  t('timetz', 1266, 1270, ['time with time zone']),
  t('bit', 1560, 1561),
  t('varbit', 1562, 1563, ['bit varying']),
  t('numeric', 1700, 1231, ['decimal']),
  t('refcursor', 1790, 2201),
  t('regprocedure', 2202, 2207),
  t('regoper', 2203, 2208),
  t('regoperator', 2204, 2209),
  t('regclass', 2205, 2210),
  t('regtype', 2206, 2211),
  t('record', 2249, 2287),
  t('cstring', 2275, 1263),
  t('any', 2276, 0),
  t('anyarray', 2277, 0),
  t('void', 2278, 0),
  t('trigger', 2279, 0),
  t('anyelement', 2283, 0),
  t('uuid', 2950, 2951),
  t('txid_snapshot', 2970, 2949),
  t('pg_lsn', 3220, 3221),
  t('tsvector', 3614, 3643),
  t('tsquery', 3615, 3645),
  t('gtsvector', 3642, 3644),
  t('regconfig', 3734, 3735),
  t('regdictionary', 3769, 3770),
  t('jsonb', 3802, 3807),
  t('int4range', 3904, 3905),
  t('numrange', 3906, 3907),
  t('tsrange', 3908, 3909),
  t('tstzrange', 3910, 3911),
  t('daterange', 3912, 3913),
  t('int8range', 3926, 3927),
  t('jsonpath', 4072, 4073),
  t('regnamespace', 4089, 4090),
  t('regrole', 4096, 4097),
  t('regcollation', 4191, 4192),
  t('int4multirange', 4451, 6150),
  t('nummultirange', 4532, 6151),
  t('tsmultirange', 4533, 6152),
  t('tstzmultirange', 4534, 6153),
  t('datemultirange', 4535, 6155),
  t('int8multirange', 4536, 6157),
  t('pg_snapshot', 5038, 5039),
  t('xid8', 5069, 271),
]);

/** OIDs of the types the library refers to by name. */
export const Oid = Object.freeze({
  invalid: 0,
  bool: 16,
  bytea: 17,
  char: 18,
  name: 19,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  oid: 26,
  json: 114,
  xml: 142,
  point: 600,
  box: 603,
  cidr: 650,
  float4: 700,
  float8: 701,
  unknown: 705,
  money: 790,
  macaddr: 829,
  inet: 869,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  timetz: 1266,
  numeric: 1700,
  record: 2249,
  uuid: 2950,
  jsonb: 3802,
  int4range: 3904,
  numrange: 3906,
  tsrange: 3908,
  tstzrange: 3910,
  daterange: 3912,
  int8range: 3926,

  boolArray: 1000,
  byteaArray: 1001,
  int8Array: 1016,
  int2Array: 1005,
  int4Array: 1007,
  textArray: 1009,
  jsonArray: 199,
  float4Array: 1021,
  float8Array: 1022,
  dateArray: 1182,
  timestampArray: 1115,
  timestamptzArray: 1185,
  numericArray: 1231,
  jsonbArray: 3807,
} as const);

const byOid = new Map<number, BuiltinType>();
const byArrayOid = new Map<number, BuiltinType>();
const byName = new Map<string, BuiltinType>();
for (const type of BUILTIN_TYPES) {
  byOid.set(type.oid, type);
  if (type.arrayOid !== 0) byArrayOid.set(type.arrayOid, type);
  byName.set(type.name, type);
  for (const alias of type.aliases) byName.set(alias, type);
}

/** The built-in type with this OID (not an array OID: see `elementTypeOf`). */
export function typeByOid(oid: number): BuiltinType | undefined {
  return byOid.get(oid);
}

/** The element type of a built-in array OID, e.g. 1007 → int4. */
export function elementTypeOf(arrayOid: number): BuiltinType | undefined {
  return byArrayOid.get(arrayOid);
}

/** Whether the OID is that of an array of a built-in type. */
export function isBuiltinArrayOid(oid: number): boolean {
  return byArrayOid.has(oid);
}

/** The array OID of a built-in type OID, or undefined. */
export function arrayOidOf(oid: number): number | undefined {
  const type = byOid.get(oid);
  return type !== undefined && type.arrayOid !== 0 ? type.arrayOid : undefined;
}

/**
 * Reduce a type name as a user may write it to the form the table is keyed by:
 * case and repeated blanks do not matter, a 'pg_catalog.' qualifier and type modifiers
 * such as '(10)' or '(10,2)' are dropped. A name in double quotes keeps its case, as in SQL.
 */
function normalize(name: string): string {
  let text = name.trim();
  if (text.length > 1 && text.startsWith('"') && text.endsWith('"') && text.indexOf('"', 1) === text.length - 1) {
    // '"char"' is the spelling of the one-byte internal type, distinct from char(n)
    return text === '"char"' ? '"char"' : text.slice(1, -1);
  }
  text = text.toLowerCase().replace(/\s*\([^)]*\)/g, '').replace(/\s+/g, ' ');
  if (text.startsWith('pg_catalog.')) text = text.slice('pg_catalog.'.length);
  return text;
}

/** The built-in type named so (its pg_type name or an SQL alias), or undefined. */
export function typeByName(name: string): BuiltinType | undefined {
  return byName.get(normalize(name));
}

/**
 * The OID for a type name, arrays included: 'int4', 'integer', 'integer[]', '_int4',
 * 'character varying(20)', 'timestamp with time zone'. Undefined when not built in.
 */
export function oidByName(name: string): number | undefined {
  let text = normalize(name);
  let array = false;
  if (text.endsWith('[]')) {
    array = true;
    text = text.slice(0, -2).trimEnd();
    // a multi-dimensional spelling such as int4[][] is the same array type
    while (text.endsWith('[]')) text = text.slice(0, -2).trimEnd();
  }
  let type = byName.get(text);
  if (type === undefined && !array && text.startsWith('_')) {
    // pg_type names arrays after their element with a leading underscore
    type = byName.get(text.slice(1));
    if (type !== undefined) array = true;
  }
  if (type === undefined) return undefined;
  if (!array) return type.oid;
  return type.arrayOid !== 0 ? type.arrayOid : undefined;
}

/** The pg_type name of a built-in OID (arrays as '_elem'), or undefined. */
export function nameByOid(oid: number): string | undefined {
  const type = byOid.get(oid);
  if (type !== undefined) return type.name;
  const element = byArrayOid.get(oid);
  return element !== undefined ? `_${element.name}` : undefined;
}
