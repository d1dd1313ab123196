// Transactions as psycopg runs them: BEGIN with the session's characteristics, and
// transaction() blocks that nest through savepoints.
import { ProgrammingError, InFailedSqlTransaction } from './errors';
import type { Connection } from './connection';
import { coreOf } from './core/interface';
import type { TransactionOptions } from './core/begin';
import { quoteIdent } from './sql/compose';

export type { IsolationLevel, SessionOptions, TransactionOptions } from './core/begin';

/**
 * The outermost block opens the transaction and commits or rolls it back; a block inside
 * another, or inside a transaction opened implicitly, works on a savepoint of its own.
 */
export async function runTransaction<C extends Connection, T>(
  conn: C,
  fn: (conn: C) => Promise<T> | T,
  options: TransactionOptions = {},
): Promise<T> {
  if (typeof fn !== 'function') throw new ProgrammingError('transaction() takes a function');
  const core = coreOf(conn);
  const depth = core.transactionDepth;
  const outer = depth === 0 && !core.inTransaction;
  let savepoint: string | undefined;
  if (outer) {
    if (options.savepointName !== undefined) throw new ProgrammingError('savepointName applies to nested transactions only');
    await core.control(core.beginStatement(options), true);
  } else {
    if (options.isolationLevel !== undefined || options.readonly !== undefined || options.deferrable !== undefined) {
      throw new ProgrammingError('a nested transaction cannot change the isolation level, read-only or deferrable mode');
    }
    savepoint = quoteIdent(options.savepointName ?? `pqnode_savepoint_${depth + 1}`);
    await core.control(`SAVEPOINT ${savepoint}`, undefined);
  }
  core.transactionDepth = depth + 1;
  let value: T;
  try {
    value = await fn(conn);
  } catch (error) {
    core.transactionDepth = depth;
    if (!conn.closed) {
      if (outer) await core.control('ROLLBACK', false);
      else {
        await core.control(`ROLLBACK TO SAVEPOINT ${savepoint}`, undefined);
        await core.control(`RELEASE SAVEPOINT ${savepoint}`, undefined);
      }
    }
    throw error;
  }
  core.transactionDepth = depth;
  if (outer) {
    const failed = conn.info.transactionStatus === 'inerror';
    await core.control(failed ? 'ROLLBACK' : 'COMMIT', false);
    if (failed) {
      // the function swallowed an error: committing would silently roll everything back
      throw new InFailedSqlTransaction('the transaction was rolled back: a statement in it failed');
    }
  } else if (conn.info.transactionStatus === 'inerror') {
    // as for the outer block: a swallowed error must not look like success
    await core.control(`ROLLBACK TO SAVEPOINT ${savepoint}`, undefined);
    await core.control(`RELEASE SAVEPOINT ${savepoint}`, undefined);
    throw new InFailedSqlTransaction('the savepoint was rolled back: a statement in it failed');
  } else {
    await core.control(`RELEASE SAVEPOINT ${savepoint}`, undefined);
  }
  return value;
}
