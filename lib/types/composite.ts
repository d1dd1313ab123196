// Composite types (CREATE TYPE ... AS (...), and the row type of every table): the text is
// '(1,"a b",,"")' — fields in order, an empty field is NULL, '""' is the empty string, and
// inside quotes '"' and '\' are doubled (or escaped by a backslash).
import type { Connection } from '../connection';
import { DataError, ProgrammingError } from '../errors';
import { TO_POSTGRES, type AdaptInner, type PostgresText, type ToPostgres } from '../adapt/to-postgres';
import { fetchTypeInfoOf, targetRegistry, type RegisterOptions, type TypeInfo } from './typeinfo';

function malformed(text: string, detail: string): DataError {
  return new DataError(`malformed record literal ${JSON.stringify(text)}: ${detail}`);
}

/** A record literal → the text of each field, null for NULL. */
export function parseRecord(text: string): (string | null)[] {
  const fields: (string | null)[] = [];
  let i = 0;
  while (i < text.length && /\s/.test(text[i])) i++;
  if (text[i] !== '(') throw malformed(text, 'it must start with "("');
  i++;
  for (;;) {
    let value = '';
    let seen = false; // a quoted part, even empty, makes the field non-NULL
    for (;;) {
      if (i >= text.length) throw malformed(text, 'missing the closing ")"');
      const c = text[i];
      if (c === ',' || c === ')') break;
      seen = true;
      if (c === '"') {
        i++;
        for (;;) {
          if (i >= text.length) throw malformed(text, 'unterminated quoted field');
          const q = text[i];
          if (q === '"' && text[i + 1] === '"') {
            value += '"';
            i += 2;
          } else if (q === '"') {
            i++;
            break;
          } else if (q === '\\' && i + 1 < text.length) {
            value += text[i + 1];
            i += 2;
          } else {
            value += q;
            i++;
          }
        }
      } else if (c === '\\' && i + 1 < text.length) {
        value += text[i + 1];
        i += 2;
      } else {
        value += c;
        i++;
      }
    }
    fields.push(seen ? value : null);
    if (text[i] === ')') break;
    i++;
  }
  if (text.slice(i + 1).trim() !== '') throw malformed(text, 'junk after ")"');
  return fields;
}

/** A field's text for a record literal: quoted when the server would not read it back as itself. */
function quoteField(text: string | null): string {
  if (text === null) return '';
  if (text !== '' && !/["\\,()\s]/.test(text)) return text;
  return '"' + text.replace(/["\\]/g, '$&$&') + '"';
}

/**
 * A composite value as a parameter: `new Composite([1, 'a'])`, or with the TypeInfo that
 * registerComposite / fetchTypeInfo returned, `new Composite({ x: 1, label: 'a' }, info)`,
 * whose fields are put in the type's order (a missing one is NULL) and whose OID is declared.
 */
export class Composite implements ToPostgres {
  constructor(
    readonly values: readonly unknown[] | Readonly<Record<string, unknown>>,
    readonly type?: TypeInfo,
  ) {
    if (values === null || typeof values !== 'object') throw new ProgrammingError('a Composite needs an array or an object of field values');
    if (!Array.isArray(values)) {
      if (type === undefined) throw new ProgrammingError('a Composite made from an object needs the TypeInfo of its type, to know the order of the fields');
      const known = new Set(type.fields.map((field) => field.name));
      for (const key of Object.keys(values)) {
        if (!known.has(key)) throw new ProgrammingError(`type ${type.name} has no field ${JSON.stringify(key)}`);
      }
    } else if (type !== undefined && type.fields.length !== values.length) {
      throw new ProgrammingError(`type ${type.name} has ${type.fields.length} fields, got ${values.length} values`);
    }
  }

  [TO_POSTGRES](adaptInner: AdaptInner): PostgresText {
    const values = Array.isArray(this.values)
      ? (this.values as readonly unknown[])
      : (this.type as TypeInfo).fields.map((field) => (this.values as Record<string, unknown>)[field.name]);
    return { text: recordText(values, adaptInner), oid: this.type?.oid ?? 0 };
  }
}

function recordText(values: readonly unknown[], adaptInner: AdaptInner): string {
  return '(' + values.map((value) => quoteField(adaptInner(value)?.text ?? null)).join(',') + ')';
}

/** Where a record's prototype keeps the TypeInfo of its type (a symbol: no field can be named so). */
const RECORD_TYPE: unique symbol = Symbol('pqnode.recordType');

/**
 * What a registered composite type is read as: an object with a property per field, of a
 * class named after the type that knows the type, so that it goes back as a value of that
 * type (`where card = $1`, `insert ... values ($1)`). A property the type has no field for
 * is refused rather than dropped.
 */
export class CompositeRecord implements ToPostgres {
  declare readonly [RECORD_TYPE]: TypeInfo;

  [TO_POSTGRES](adaptInner: AdaptInner): PostgresText {
    const type = this[RECORD_TYPE];
    const own = this as unknown as Record<string, unknown>;
    let known = 0;
    const values = type.fields.map((field) => {
      if (!Object.hasOwn(own, field.name)) return undefined;
      known++;
      return own[field.name];
    });
    if (known !== Object.keys(own).length) {
      const extra = Object.keys(own).find((key) => !type.fields.some((field) => field.name === key));
      throw new ProgrammingError(`type ${type.name} has no field ${JSON.stringify(extra)}`);
    }
    return { text: recordText(values, adaptInner), oid: type.oid };
  }
}

/** The class of the records of one registered type. */
function recordClass(info: TypeInfo): new () => CompositeRecord {
  const RecordOfType = class extends CompositeRecord {};
  Object.defineProperty(RecordOfType, 'name', { value: info.name });
  Object.defineProperty(RecordOfType.prototype, RECORD_TYPE, { value: info });
  return RecordOfType;
}

export interface RegisterCompositeOptions extends RegisterOptions {
  /** build the JS value from the fields by name (a CompositeRecord when omitted; what it makes needs an adapter to go back) */
  factory?: (fields: Record<string, unknown>) => unknown;
}

/**
 * Read the composite type `name` as objects keyed by attribute name (CompositeRecord: they
 * go back as values of the type), each field through its type's typecaster (a nested
 * composite or a range, once registered too); its arrays follow.
 */
export async function registerComposite(conn: Connection, name: string, options: RegisterCompositeOptions = {}): Promise<TypeInfo> {
  const { factory } = options;
  if (factory !== undefined && typeof factory !== 'function') throw new ProgrammingError('registerComposite: factory must be a function');
  const info = await fetchTypeInfoOf(conn, name, 'composite', 'registerComposite');
  const registry = targetRegistry(conn, options);
  const names = info.fields.map((field) => field.name);
  const fieldOids = info.fields.map((field) => field.typeOid);
  const RecordOfType = recordClass(info);
  registry.setDerived(info.oid, (casterOf) => {
    const casters = fieldOids.map((oid) => casterOf(oid));
    return (text: string) => {
      const fields = parseRecord(text);
      if (fields.length !== names.length) {
        throw new DataError(`record ${JSON.stringify(text)} has ${fields.length} fields where type ${info.name} has ${names.length}`);
      }
      const out = new RecordOfType() as unknown as Record<string, unknown>;
      for (let i = 0; i < names.length; i++) {
        const field = fields[i];
        const cast = casters[i];
        const value = field === null ? null : cast !== undefined ? cast(field) : field;
        if (names[i] === '__proto__') Object.defineProperty(out, names[i], { value, enumerable: true, writable: true, configurable: true });
        else out[names[i]] = value;
      }
      return factory !== undefined ? factory(out) : out;
    };
  });
  if (info.arrayOid !== 0) registry.setArray(info.arrayOid, info.oid, info.delimiter);
  return info;
}
