// Range types made with CREATE TYPE ... AS RANGE: read like the built-in ones, each end
// through the typecaster of the subtype, with their multiranges and the arrays of both.
import type { Connection } from '../connection';
import { multirangeOf, rangeOf } from '../adapt/typecasters';
import { fetchTypeInfoOf, targetRegistry, type RegisterOptions, type TypeInfo } from './typeinfo';

/** Read the range type `name` as Range values (and its multirange as Multirange values). */
export async function registerRange(conn: Connection, name: string, options: RegisterOptions = {}): Promise<TypeInfo> {
  const info = await fetchTypeInfoOf(conn, name, 'range', 'registerRange');
  const registry = targetRegistry(conn, options);
  registry.setDerived(info.oid, rangeOf(info.subtypeOid).build);
  if (info.arrayOid !== 0) registry.setArray(info.arrayOid, info.oid, info.delimiter);
  if (info.multirangeOid !== 0) {
    registry.setDerived(info.multirangeOid, multirangeOf(info.oid).build);
    if (info.multirangeArrayOid !== 0) registry.setArray(info.multirangeArrayOid, info.multirangeOid);
  }
  return info;
}
