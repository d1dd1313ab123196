// What the server's catalog says about a type, read by name: the OIDs and shapes that
// typecasters for types created with CREATE TYPE / CREATE DOMAIN / CREATE EXTENSION need,
// since their OIDs differ from one database to the next.
import type { Connection } from '../connection';
import { ProgrammingError } from '../errors';
import { globalTypecasters, type TypecasterRegistry } from '../adapt/typecasters';

/** pg_type.typtype, spelled out */
export type TypeCategory = 'base' | 'composite' | 'domain' | 'enum' | 'pseudo' | 'range' | 'multirange';

const CATEGORIES: Readonly<Record<string, TypeCategory>> = {
  b: 'base',
  c: 'composite',
  d: 'domain',
  e: 'enum',
  p: 'pseudo',
  r: 'range',
  m: 'multirange',
};

export interface TypeField {
  name: string;
  typeOid: number;
}

export interface RegisterOptions {
  /** register for every connection (OIDs are per database: use it when all connections go to one) */
  global?: boolean;
}

export class TypeInfo {
  constructor(
    /** the name in pg_type */
    readonly name: string,
    readonly schema: string,
    readonly oid: number,
    /** the OID of the array type, 0 for none */
    readonly arrayOid: number,
    readonly category: TypeCategory,
    /** the array element separator: ',' for all but box */
    readonly delimiter: string,
    /** domains: the type they constrain; 0 otherwise */
    readonly baseTypeOid: number,
    /** arrays (and fixed-length types read by subscript, such as point): the element type; 0 otherwise */
    readonly elementOid: number,
    /** ranges: the type of their ends; 0 otherwise */
    readonly subtypeOid: number,
    /** ranges: their multirange type and its array (PostgreSQL 14 and later); 0 otherwise */
    readonly multirangeOid: number,
    readonly multirangeArrayOid: number,
    /** composites: the attributes in order */
    readonly fields: readonly TypeField[],
    /** enums: the labels in sort order */
    readonly labels: readonly string[],
  ) {}

  /**
   * Register what every kind of type needs: its arrays, and for a domain, the typecaster of
   * its base type (the server reports a domain column as its base type, but not the
   * elements of an array of the domain).
   */
  register(conn: Connection | null, options: RegisterOptions = {}): void {
    const registry = targetRegistry(conn, options);
    if (this.category === 'domain' && this.baseTypeOid !== 0) {
      const base = this.baseTypeOid;
      registry.setDerived(this.oid, (casterOf) => casterOf(base) ?? identity);
    }
    if (this.arrayOid !== 0) registry.setArray(this.arrayOid, this.oid, this.delimiter);
  }
}

function identity(text: string): string {
  return text;
}

/** The registry `register*` functions write to. */
export function targetRegistry(conn: Connection | null, options: RegisterOptions): TypecasterRegistry {
  if (options.global === true || conn === null) return globalTypecasters;
  return conn.typecasters;
}

function oidList(text: string | null): number[] {
  if (text === null || text === '') return [];
  return text.split(',').map(Number);
}

interface TypeRow {
  oid: string;
  typname: string;
  nspname: string;
  typarray: string;
  typtype: string;
  typdelim: string;
  typbasetype: string;
  typelem: string;
  rngsubtype: string | null;
  multirange: string | null;
  multirange_array: string | null;
  field_names: string[] | null;
  field_types: string | null;
  labels: string[] | null;
}

/**
 * The catalog entry of the type named `name` ('mytype', 'myschema.mytype', 'int4'; found
 * as the server resolves type names, through the search_path), or null when there is none.
 */
export async function fetchTypeInfo(conn: Connection, name: string): Promise<TypeInfo | null> {
  if (typeof name !== 'string' || name.trim() === '') throw new ProgrammingError('fetchTypeInfo needs a type name');
  const multirange =
    conn.info.serverVersion >= 140000
      ? 'r.rngmultitypid::text as multirange, (select m.typarray::text from pg_catalog.pg_type m where m.oid = r.rngmultitypid) as multirange_array'
      : 'null::text as multirange, null::text as multirange_array';
  // OIDs travel as text: a typecaster the user set on oid must not change what is read here
  const result = await conn.query<TypeRow>(
    `select t.oid::text, t.typname::text, n.nspname::text, t.typarray::text, t.typtype::text, t.typdelim::text,
       t.typbasetype::text, t.typelem::text, r.rngsubtype::text, ${multirange},
       (select array_agg(a.attname::text order by a.attnum) from pg_catalog.pg_attribute a
         where a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped) as field_names,
       (select string_agg(a.atttypid::text, ',' order by a.attnum) from pg_catalog.pg_attribute a
         where a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped) as field_types,
       (select array_agg(e.enumlabel::text order by e.enumsortorder) from pg_catalog.pg_enum e
         where e.enumtypid = t.oid) as labels
     from pg_catalog.pg_type t
     join pg_catalog.pg_namespace n on n.oid = t.typnamespace
     left join pg_catalog.pg_range r on r.rngtypid = t.oid
     where t.oid = pg_catalog.to_regtype($1)`,
    [name],
    { rowFactory: 'object' },
  );
  const row = result.rows[0];
  if (row === undefined) return null;
  const names = row.field_names ?? [];
  const typeOids = oidList(row.field_types);
  return new TypeInfo(
    row.typname,
    row.nspname,
    Number(row.oid),
    Number(row.typarray),
    CATEGORIES[row.typtype] ?? 'base',
    row.typdelim,
    Number(row.typbasetype),
    Number(row.typelem),
    Number(row.rngsubtype ?? 0),
    Number(row.multirange ?? 0),
    Number(row.multirange_array ?? 0),
    names.map((fieldName, i) => ({ name: fieldName, typeOid: typeOids[i] })),
    row.labels ?? [],
  );
}

/** fetchTypeInfo for a register* function: the type must exist and be of the expected kind. */
export async function fetchTypeInfoOf(conn: Connection, name: string, category: TypeCategory | null, caller: string): Promise<TypeInfo> {
  const info = await fetchTypeInfo(conn, name);
  if (info === null) throw new ProgrammingError(`${caller}: no type named ${JSON.stringify(name)} in this database`);
  if (category !== null && info.category !== category) {
    throw new ProgrammingError(`${caller}: ${JSON.stringify(name)} is a ${info.category} type, not a ${category} type`);
  }
  return info;
}
