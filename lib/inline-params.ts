// Parameters quoted into the text, client-side: for mogrify() (logs, debugging) and for
// statements that cannot take bind parameters (COPY). Values are adapted as parameters are,
// quoted by libpq, and cast to the type the adapter chose.
import type { Connection } from './connection';
import { adaptParams } from './adapt/adapters';
import { Oid, nameByOid } from './types/oids';

export function inlineParams(conn: Connection, text: string, values: readonly unknown[]): string {
  if (values.length === 0) return text;
  const adapted = adaptParams(values, conn.adapters);
  const nativeConn = conn._native;
  const literals = adapted.values.map((value, index) => {
    if (value === null) return 'NULL';
    const textValue = Buffer.isBuffer(value) ? `\\x${value.toString('hex')}` : value;
    const literal = nativeConn.escapeLiteral(textValue);
    const oid = Buffer.isBuffer(value) ? Oid.bytea : adapted.typeOids[index];
    const typeName = oid === 0 ? undefined : nameByOid(oid);
    return typeName === undefined ? literal : `${literal}::${typeName}`;
  });
  return text.replace(/\$(\d+)/g, (match, digits: string) => literals[Number(digits) - 1] ?? match);
}
