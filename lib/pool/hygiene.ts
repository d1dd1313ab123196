// What the pool does to one connection, apart from the pool's bookkeeping: configure it once,
// check it before it is handed out, and bring it back to a clean state when it is returned.
import type { Connection } from '../connection';
import * as errors from '../errors';
import type { ConnectionHook } from './options';

/** What a connection looked like once configured, restored on every return. */
export interface CleanState {
  readonly autocommit: boolean;
  /** the event listeners `configure` left; the ones callers add are removed */
  readonly listeners: Map<string | symbol, unknown[]>;
}

/** Run `configure` on a new connection; throws when it left the connection unusable. */
export async function configureConnection(conn: Connection, configure: ConnectionHook | undefined): Promise<CleanState> {
  if (configure !== undefined) {
    await configure(conn);
    if (conn.closed) throw new errors.InterfaceError('configure closed the connection');
    // a SET run by configure opens a transaction when autocommit is off: keep what it did
    const status = conn.info.transactionStatus;
    if (status === 'intrans') await conn.commit();
    else if (status !== 'idle') throw new errors.InterfaceError(`configure left the connection ${status}`);
  }
  return {
    autocommit: conn.autocommit,
    listeners: new Map(conn.eventNames().map((event) => [event, conn.listeners(event)])),
  };
}

/**
 * Run `check` on a connection that sat idle; throws when it fails, or when it has not finished
 * by `deadline` (ms since the epoch): a check stuck on a dead network must not hold the caller
 * past its timeout.
 */
export async function runCheck(conn: Connection, check: ConnectionHook, deadline: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const overdue = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new errors.PoolTimeout('the check did not finish in time')), Math.max(0, deadline - Date.now()));
  });
  try {
    await Promise.race([check(conn), overdue]);
    if (conn.info.transactionStatus !== 'idle') await Promise.race([conn.rollback(), overdue]);
    if (conn.info.transactionStatus !== 'idle') throw new errors.InterfaceError('check left the connection busy');
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Bring a returned connection back to its clean state: transaction rolled back, autocommit
 * and listeners as configured, `reset` run. False when it cannot be reused.
 */
export async function restoreConnection(conn: Connection, clean: CleanState, reset: ConnectionHook | undefined): Promise<boolean> {
  if (conn.closed || conn._transactionDepth > 0) return false;
  try {
    const status = conn.info.transactionStatus;
    // a statement still running would land in the next caller's lap
    if (status === 'active' || status === 'unknown' || conn._native.pendingCommands() > 0) return false;
    if (status !== 'idle' || conn._inTransaction) await conn.rollback();
    if (conn.autocommit !== clean.autocommit) conn.autocommit = clean.autocommit;
    // a caller's 'notice' or 'notification' handler must not fire for the next caller
    for (const event of conn.eventNames()) {
      const kept = clean.listeners.get(event) ?? [];
      for (const listener of conn.listeners(event)) {
        if (!kept.includes(listener)) conn.removeListener(event, listener as (...args: unknown[]) => void);
      }
    }
    if (reset !== undefined) {
      await reset(conn);
      // a RESET or SET opens a transaction when autocommit is off: keep what it did
      if (!conn.closed && conn.info.transactionStatus === 'intrans') await conn.commit();
      if (conn.closed || conn.info.transactionStatus !== 'idle' || conn._inTransaction) return false;
    }
    return !conn.closed;
  } catch {
    return false;
  }
}
