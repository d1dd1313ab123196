// The text of the replication commands (PostgreSQL's "Streaming Replication Protocol" page),
// with every name and value quoted as the replication command scanner reads them.
import { ProgrammingError } from '../errors';
import { quoteIdent } from '../sql/compose';
import { formatLsn } from './lsn';

/** Plugin options: a value is sent as a string; `true` and `false` as 'true' and 'false'. */
export type PluginOptions = Record<string, string | number | boolean | readonly string[] | undefined | null>;

// what the server accepts as a slot name (ReplicationSlotValidateName)
const SLOT_NAME = /^[a-z0-9_]{1,63}$/;

/** The slot name, checked: the server's rule, told before any round trip. */
export function checkSlotName(slot: unknown): string {
  if (typeof slot !== 'string' || !SLOT_NAME.test(slot)) {
    throw new ProgrammingError(`a replication slot name is 1 to 63 lower-case letters, digits and underscores, not ${JSON.stringify(slot)}`);
  }
  return slot;
}

/** A double-quoted identifier, as both SQL and the replication scanner read it. */
function identifier(name: string): string {
  if (name === '') throw new ProgrammingError('not a valid name: ""');
  return quoteIdent(name);
}

/** A single-quoted string: the replication scanner, as SQL with standard_conforming_strings, doubles quotes only. */
function literal(value: string): string {
  if (value.includes('\0')) throw new ProgrammingError('a replication option value contains a NUL character');
  return `'${value.replace(/'/g, "''")}'`;
}

export function createSlotCommand(slot: string, plugin: string, temporary: boolean): string {
  // no exported snapshot: nothing here reads the data as of the slot's start
  return `CREATE_REPLICATION_SLOT ${checkSlotName(slot)}${temporary ? ' TEMPORARY' : ''} LOGICAL ${identifier(plugin)} NOEXPORT_SNAPSHOT`;
}

export function dropSlotCommand(slot: string, wait: boolean): string {
  return `DROP_REPLICATION_SLOT ${checkSlotName(slot)}${wait ? ' WAIT' : ''}`;
}

/** What the server knows of a slot: one row, or none when there is no such slot. */
export function slotQuery(slot: string): string {
  return `SELECT plugin, slot_type FROM pg_catalog.pg_replication_slots WHERE slot_name = ${literal(checkSlotName(slot))}`;
}

/** An option's value as text: lists (publication_names) are joined, each name quoted. */
function optionText(name: string, value: string | number | boolean | readonly string[]): string {
  if (Array.isArray(value)) return value.map((item) => identifier(String(item))).join(',');
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new ProgrammingError(`the replication option ${name} must be a string, a number, a boolean or a list of names`);
}

export function startCommand(slot: string, start: bigint, options: PluginOptions): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined || value === null) continue;
    parts.push(`${identifier(name)} ${literal(optionText(name, value))}`);
  }
  const list = parts.length > 0 ? ` (${parts.join(', ')})` : '';
  return `START_REPLICATION SLOT ${checkSlotName(slot)} LOGICAL ${formatLsn(start)}${list}`;
}
