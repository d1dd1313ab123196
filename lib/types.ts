// The public `types` namespace: typecasters (PostgreSQL → JS) and adapters (JS → PostgreSQL),
// global or for one connection.
import type { Connection } from './connection';
import { globalTypecasters, resolveOid, type Typecaster } from './adapt/typecasters';
import { globalAdapters, type Adapter, type AdapterKey } from './adapt/adapters';

export type { Typecaster } from './adapt/typecasters';
export type { Adapter } from './adapt/adapters';
export { Json } from './types/json';
export { Oid } from './types/oids';

export interface ScopeOptions {
  /** set it for this connection only; otherwise for every connection */
  conn?: Connection;
}

/** Use `fn(text)` for values of a type (by OID, or by a built-in type's name). NULL never reaches it. */
export function setTypecaster(oidOrName: number | string, fn: Typecaster, options: ScopeOptions = {}): void {
  const registry = options.conn !== undefined ? options.conn.typecasters : globalTypecasters;
  registry.set(resolveOid(oidOrName), fn);
}

/** Read values of type `arrayOid` as arrays whose elements go through the typecaster of `elementOid`. */
export function setArrayTypecaster(arrayOid: number | string, elementOid: number | string, options: ScopeOptions = {}): void {
  const registry = options.conn !== undefined ? options.conn.typecasters : globalTypecasters;
  registry.setArray(arrayOid, elementOid);
}

/** Adapt instances of `cls` with `fn(value)`, which returns something adaptable (a string goes as text of unknown type). */
export function setAdapter<T>(cls: AdapterKey & { prototype: T }, fn: Adapter<T>, options: ScopeOptions = {}): void {
  const registry = options.conn !== undefined ? options.conn.adapters : globalAdapters;
  registry.set(cls, fn);
}
