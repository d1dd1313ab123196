// Enums: the value is its label, a string, as the server writes it; registering one makes
// its arrays arrays of labels (unregistered, an array of an enum comes back as its text).
import type { Connection } from '../connection';
import { fetchTypeInfoOf, targetRegistry, type RegisterOptions, type TypeInfo } from './typeinfo';

/** Read the enum `name` (values and arrays as label strings); its labels are in the TypeInfo returned. */
export async function registerEnum(conn: Connection, name: string, options: RegisterOptions = {}): Promise<TypeInfo> {
  const info = await fetchTypeInfoOf(conn, name, 'enum', 'registerEnum');
  const registry = targetRegistry(conn, options);
  registry.set(info.oid, (text) => text);
  if (info.arrayOid !== 0) registry.setArray(info.arrayOid, info.oid, info.delimiter);
  return info;
}
