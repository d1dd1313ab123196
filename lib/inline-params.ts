// Parameters quoted into the text, client-side: for mogrify() (logs, debugging) and for
// statements that cannot take bind parameters (COPY). Values are adapted as parameters are,
// quoted by libpq, and cast to the type the adapter chose. Only real placeholders are
// replaced: a `$1` in a string, an identifier or a comment is text, and a value quoted there
// would end it and be read as SQL.
import type { Connection } from './connection';
import { adaptParams } from './adapt/adapters';
import { inlinePlaceholders } from './sql-split';
import { Oid, nameByOid } from './types/oids';

export function inlineParams(conn: Connection, text: string, values: readonly unknown[]): string {
  if (values.length === 0) return text;
  const adapted = adaptParams(values, conn.adapters);
  const nativeConn = conn._native;
  const literals = adapted.values.map((value, index) => {
    if (value === null) return 'NULL';
    const textValue = Buffer.isBuffer(value) ? `\\x${value.toString('hex')}` : value;
    // PQescapeLiteral doubles quotes and backslashes (E'' when there are any): safe whatever
    // standard_conforming_strings is
    const literal = nativeConn.escapeLiteral(textValue);
    const oid = Buffer.isBuffer(value) ? Oid.bytea : adapted.typeOids[index];
    const typeName = oid === 0 ? undefined : nameByOid(oid);
    return typeName === undefined ? literal : `${literal}::${typeName}`;
  });
  // the session's setting, as libpq last heard it from the server
  const backslashEscapes = nativeConn.parameterStatus('standard_conforming_strings') === 'off';
  return inlinePlaceholders(text, (n) => literals[n - 1], backslashEscapes);
}
