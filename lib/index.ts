// pqnode: a PostgreSQL client over libpq.
import * as errors from './errors';
import * as types from './types';
import * as sql from './sql/namespace';
import { native } from './native';

export { connect, Connection, ConnectionInfo, Result } from './connection';
export type { CancelOptions, ConnectOptions, ConnectionEvents, QueryOptions, Notice, TransactionStatusName } from './connection';
export type { Notification, NotifiesOptions } from './core/notifications';
export { Cursor, Column } from './cursor';
export { Pipeline } from './pipeline';
export { Xid } from './tpc';
export { LargeObject } from './lobject';
export { Copy } from './copy/copy';
export type { CursorOptions, ExecuteManyOptions, ExecuteOptions, ExecuteValuesOptions } from './cursor';
export { ServerCursor } from './server-cursor';
export { RowStream } from './stream';
export type { StreamOptions } from './stream';
export type { ServerCursorOptions } from './server-cursor';
export type { Field, RowFactory, RowFactoryFunction } from './rows';
export type { Conninfo, ConninfoObject } from './conninfo';
export type { IsolationLevel, SessionOptions, TransactionOptions } from './transaction';
export type { CopySource } from './copy/streams';
export type { QueryLike, QueryText } from './query-text';
export type { ConnectTraceContext, CopyTraceContext, PoolAcquireTraceContext, QueryTraceContext, ServerTraceContext } from './tracing';
export { Pool } from './pool';
export type { AcquireOptions, ConnectionHook, PoolCounters, PoolEvents, PoolOptions, PoolStats } from './pool';
export { Json } from './types/json';
export { createReplicationSlot, dropReplicationSlot, replicate, ReplicationStream } from './replicate';
export type { CreatedSlot, ReplicateOptions, StartedReplicationStream } from './replicate';
export type { ReplicationMessage } from './replication/stream';
export type { PgoutputMessage, ReplicationColumn, ReplicationRelation, ReplicationRow } from './replication/pgoutput';
export type { PluginOptions } from './replication/commands';
export { compareLsn, formatLsn, parseLsn } from './replication/lsn';
export { errors, sql, types };

// Load the addon now, so that a machine without a usable binary learns it at require time,
// with the commands that build one, rather than at the first connect.
native();
