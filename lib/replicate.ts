// Logical replication: the entry points. A stream or a slot helper opens a connection of its
// own in replication mode (replication=database), where the server's walsender answers the
// replication commands; lib/replication/ does the rest.
import { connect } from './connection';
import type { Connection } from './connection';
import { connectParams, type Conninfo, type ConninfoObject } from './conninfo';
import * as errors from './errors';
import { checkSlotName, createSlotCommand, dropSlotCommand } from './replication/commands';
import { ReplicationStream, runCommand, type ReplicateOptions, type StartedReplicationStream } from './replication/stream';

/** The conninfo with replication=database, whatever form it came in (later keywords win in libpq). */
function replicationConninfo(conninfo: Conninfo | undefined): ConninfoObject {
  return { ...connectParams(conninfo).settings, replication: 'database' };
}

async function withReplicationConnection<T>(conninfo: Conninfo | undefined, fn: (conn: Connection) => Promise<T>): Promise<T> {
  const conn = await connect(replicationConninfo(conninfo), { autocommit: true });
  try {
    return await fn(conn);
  } finally {
    await conn.close();
  }
}

/**
 * Streams the changes a logical replication slot holds, from `startLsn` or from where the
 * slot's consumer last acknowledged. Returns at once; the connection is made and the stream
 * started in the background (`ready`), and a failure to start rejects the first next().
 * Awaiting the stream waits until it has started, and rejects when it cannot.
 */
export function replicate(conninfo: Conninfo | undefined, options: ReplicateOptions): ReplicationStream {
  if (options === null || typeof options !== 'object') throw new TypeError('replicate() needs options with at least a slot');
  // a bad conninfo string is told at once, as connect() tells it
  const target = replicationConninfo(conninfo);
  return new ReplicationStream(options, () => connect(target, { autocommit: true }));
}

export interface CreatedSlot {
  slot: string;
  /** where the slot starts: the first change it will give comes after this ('X/Y') */
  lsn: string;
  plugin: string;
}

/** Creates a permanent logical replication slot (psycopg2's create_replication_slot). */
export async function createReplicationSlot(conninfo: Conninfo | undefined, slot: string, options: { plugin?: string } = {}): Promise<CreatedSlot> {
  checkSlotName(slot);
  const plugin = options.plugin ?? 'pgoutput';
  return withReplicationConnection(conninfo, async (conn) => {
    const result = await runCommand(conn, createSlotCommand(slot, plugin, false));
    const row = result.rows[0] as [string, string, string | null, string];
    return { slot: row[0], lsn: row[1], plugin: row[3] };
  });
}

/**
 * Drops a replication slot (psycopg2's drop_replication_slot). `wait`: wait for a consumer
 * still using it to end rather than fail; `ifExists`: a missing slot is not an error.
 * Resolves with whether a slot was dropped.
 */
export async function dropReplicationSlot(
  conninfo: Conninfo | undefined,
  slot: string,
  options: { wait?: boolean; ifExists?: boolean } = {},
): Promise<boolean> {
  checkSlotName(slot);
  return withReplicationConnection(conninfo, async (conn) => {
    try {
      await runCommand(conn, dropSlotCommand(slot, options.wait === true));
      return true;
    } catch (error) {
      if (options.ifExists === true && error instanceof errors.DatabaseError && error.sqlstate === '42704') return false;
      throw error;
    }
  });
}

export { ReplicationStream };
export type { ReplicateOptions, StartedReplicationStream };
