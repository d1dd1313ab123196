// What the pool does to one connection, apart from the pool's bookkeeping: configure it once,
// check it before it is handed out, and bring it back to a clean state when it is returned.
import type { Connection } from '../connection';
import { coreOf } from '../core/interface';
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
 * past its timeout. It runs in autocommit, as `reset` does.
 */
export async function runCheck(conn: Connection, clean: CleanState, check: ConnectionHook, deadline: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const overdue = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new errors.PoolTimeout('the check did not finish in time')), Math.max(0, deadline - Date.now()));
  });
  try {
    // a check's own statements are worth nothing once it passed: rolled back if it left a transaction
    await Promise.race([runInAutocommit(conn, clean, check, 'check', true), overdue]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * restoreConnection() without waiting, for a connection that needs no round trip to be
 * clean: open, nothing running, no transaction. True when it was restored so (autocommit and
 * listeners as configured); false, having changed nothing, when it needs restoreConnection().
 * `handedToCaller` false: only pool.query() statements ran on it, no caller held it, so no
 * caller's listener can be on it.
 */
export function restoreAtOnce(conn: Connection, clean: CleanState, handedToCaller: boolean): boolean {
  if (conn.closed) return false;
  const core = coreOf(conn);
  if (core.transactionDepth > 0 || core.inTransaction) return false;
  if (conn.info.transactionStatus !== 'idle' || core.pendingCommands() > 0) return false;
  if (conn.autocommit !== clean.autocommit) conn.autocommit = clean.autocommit;
  if (handedToCaller) removeCallersListeners(conn, clean);
  return true;
}

/** The event listeners a caller added: a 'notice' or 'notification' handler must not fire for the next caller. */
function removeCallersListeners(conn: Connection, clean: CleanState): void {
  for (const event of conn.eventNames()) {
    const kept = clean.listeners.get(event) ?? [];
    for (const listener of conn.listeners(event)) {
      if (!kept.includes(listener)) conn.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
}

/**
 * Bring a returned connection back to its clean state: transaction rolled back, autocommit
 * and listeners as configured. False when it cannot be reused.
 */
export async function restoreConnection(conn: Connection, clean: CleanState): Promise<boolean> {
  const core = coreOf(conn);
  if (conn.closed || core.transactionDepth > 0) return false;
  try {
    const status = conn.info.transactionStatus;
    // a statement still running would land in the next caller's lap
    if (status === 'active' || status === 'unknown' || core.pendingCommands() > 0) return false;
    if (status !== 'idle' || core.inTransaction) await conn.rollback();
    if (conn.autocommit !== clean.autocommit) conn.autocommit = clean.autocommit;
    removeCallersListeners(conn, clean);
    return !conn.closed;
  } catch {
    return false;
  }
}

/**
 * Run `reset` on a connection restoreConnection() brought back; throws what it threw, or why
 * it left the connection unusable.
 */
export function runReset(conn: Connection, clean: CleanState, reset: ConnectionHook): Promise<void> {
  return runInAutocommit(conn, clean, reset, 'reset');
}

/**
 * Run a hook in autocommit, then put the connection back in the mode it was configured with.
 * In autocommit a statement is a transaction of its own: DISCARD ALL, VACUUM and the like run,
 * which a transaction block refuses, and nothing the hook does is left uncommitted. Throws when
 * the hook did, or left the connection closed, busy, or inside a transaction it opened (unless
 * `rollBackLeftOpen`).
 */
async function runInAutocommit(conn: Connection, clean: CleanState, hook: ConnectionHook, name: string, rollBackLeftOpen = false): Promise<void> {
  if (!conn.autocommit) conn.autocommit = true;
  await hook(conn);
  if (conn.closed) throw new errors.InterfaceError(`${name} closed the connection`);
  const core = coreOf(conn);
  const left = conn.info.transactionStatus;
  if (rollBackLeftOpen && core.transactionDepth === 0 && (left === 'intrans' || left === 'inerror')) await conn.rollback();
  const status = conn.info.transactionStatus;
  if (status !== 'idle' || core.inTransaction || core.transactionDepth > 0 || core.pendingCommands() > 0) {
    throw new errors.ProgrammingError(`${name} left the connection ${status === 'idle' ? 'busy' : status}`);
  }
  await restoreDateStyle(conn);
  if (conn.autocommit !== clean.autocommit) conn.autocommit = clean.autocommit;
}

/**
 * connect() sets DateStyle to ISO when the server's default is another (every DateStyle is
 * read, ISO the fastest); a RESET ALL or DISCARD ALL in a hook puts the default back. Sent
 * through the core, as connect() sends it: the pool's bookkeeping is not the user's
 * statement, so it is not published on `pqnode:query`, and it is never prepared.
 */
async function restoreDateStyle(conn: Connection): Promise<void> {
  const dateStyle = conn.info.parameterStatus('DateStyle');
  if (dateStyle !== null && !dateStyle.startsWith('ISO')) await coreOf(conn).run("SET DateStyle TO 'ISO'", undefined, undefined, false);
}
