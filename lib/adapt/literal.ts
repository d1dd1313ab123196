// A value written into a statement's text as an SQL constant: for sql.Literal, mogrify()
// (what a statement looks like with its values in, as psycopg2 prints it) and COPY, which
// takes no bind parameters. Numbers and booleans are bare (`42`, `1.5`, `true`), NULL is
// NULL, anything else is a quoted string with a cast where the value has a type of its own
// (`'\x0102'::bytea`, `'1 day'::interval`). Values sent untyped as parameters are written
// untyped here too, so that the text means what the statement with parameters means.
//
// Nothing here may let a value end the constant it is written in: strings go through the
// caller's quoting, and the bare forms are only digits, '.', 'e', '+' and '-' (a negative
// number after a space, which keeps '-' from making '--', a comment, with a '-' before it).
import { formatBytea } from '../types/bytea';
import { elementTypeOf, nameByOid, Oid, typeByOid } from '../types/oids';
import { adaptValue, type AdapterRegistry } from './adapters';
import type { TypecasterRegistry } from './typecasters';

export interface LiteralContext {
  adapters: AdapterRegistry;
  typecasters?: TypecasterRegistry;
  /** the text as a string constant that reads back the same whatever standard_conforming_strings is */
  quote(text: string): string;
  /**
   * The literal stands alone (sql.Literal): it says what it is where a parameter would let
   * the context decide — a Date is a timestamptz, a number that is not an integer a float8.
   * Otherwise (mogrify, COPY) it is written as the parameter would be sent.
   */
  standalone: boolean;
}

/** `::type` for a type OID, '' when it has no name known here. */
export function typeCast(oid: number): string {
  const element = elementTypeOf(oid);
  if (element !== undefined) return `::${element.name}[]`;
  const type = typeByOid(oid);
  if (type !== undefined) return `::${type.name}`;
  const name = nameByOid(oid);
  return name === undefined ? '' : `::${name}`;
}

/** A number's text bare, a space before its minus sign. */
function bare(text: string): string {
  return text.charCodeAt(0) === 0x2d /* - */ ? ` ${text}` : text;
}

const PLAIN_NUMBER = /^-?\d+(\.\d+)?$/;

/** The value as an SQL constant; `position` names it in errors. */
export function sqlLiteral(value: unknown, context: LiteralContext, position = 1): string {
  if (value === null || value === undefined) return 'NULL';
  // a user adapter decides for its values, primitives included
  if (context.adapters.lookup(value) === undefined) {
    switch (typeof value) {
      case 'number':
        if (Number.isInteger(value) && !Object.is(value, -0)) return bare(String(value));
        // a bare 1.5 is a numeric: alone, a float says it is a float8
        if (Number.isFinite(value) && !Object.is(value, -0) && !context.standalone) return bare(String(value));
        break;
      case 'bigint':
        return bare(value.toString());
      case 'boolean':
        return value ? 'true' : 'false';
      default:
        break;
    }
  }
  const adapted = adaptValue(value, context.adapters, position, { typecasters: context.typecasters });
  if (adapted.value === null) return 'NULL';
  const text = Buffer.isBuffer(adapted.value) ? formatBytea(adapted.value) : adapted.value;
  let oid = adapted.oid;
  if (oid === 0 && context.standalone) {
    if (value instanceof Date) oid = Oid.timestamptz;
    else if (typeof value === 'number') oid = Oid.float8;
  }
  switch (oid) {
    case Oid.bool:
      return text === 't' || text === 'true' ? 'true' : 'false';
    case Oid.int2:
    case Oid.int4:
    case Oid.int8:
    case Oid.numeric:
      if (PLAIN_NUMBER.test(text)) return bare(text);
      break;
    default:
      break;
  }
  return `${context.quote(text)}${oid === 0 ? '' : typeCast(oid)}`;
}
