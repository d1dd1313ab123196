// What a connection is opened with, and what it reports: the option and event types that
// the core and the user's Connection share.
import type * as errors from '../errors';
import type { Diagnostic } from '../errors';
import type { Notification } from './notifications';
import type { RowFactory } from '../rows';

export interface ConnectOptions {
  /** default false: the first statement opens a transaction, committed by commit() */
  autocommit?: boolean;
  /** default row shape for query() and cursors */
  rowFactory?: RowFactory;
  /** seconds; overrides the conninfo's connect_timeout */
  connectTimeout?: number;
  signal?: AbortSignal;
  /** runs of a statement before it is prepared (default 5); null never prepares automatically (PgBouncer in transaction mode) */
  prepareThreshold?: number | null;
  /** prepared statements kept at most (default 100), the least recently used deallocated */
  preparedMax?: number;
  /**
   * seconds (default 10) that a cancel request may take, and that an aborted statement may
   * take to end after its cancel; past that the cancel fails, and the aborted statement's
   * connection is closed as broken
   */
  cancelTimeout?: number;
}

export interface CancelOptions {
  /** seconds; the connection's cancelTimeout by default */
  timeout?: number;
}

export interface QueryOptions {
  rowFactory?: RowFactory;
  signal?: AbortSignal;
  /** true: prepare the statement now; false: never prepare it; unset: after prepareThreshold runs */
  prepare?: boolean;
}

export interface Notice {
  severity?: string;
  sqlstate?: string;
  message: string;
  diag: Diagnostic;
}

/** The events of a Connection, and what their listeners get. */
export interface ConnectionEvents {
  /** a NOTIFY on a channel this connection listens to */
  notification: [notification: Notification];
  /** a notice or warning the server sent (RAISE NOTICE, ...) */
  notice: [notice: Notice];
  /** the connection was lost; emitted only when someone listens */
  error: [error: errors.Error];
}

export type TransactionStatusName = 'idle' | 'active' | 'intrans' | 'inerror' | 'unknown';
