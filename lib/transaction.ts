// Transactions as psycopg runs them: BEGIN with the session's characteristics, and
// transaction() blocks that nest through savepoints.
import { ProgrammingError, InFailedSqlTransaction } from './errors';
import type { Connection } from './connection';
import type { TransactionOptions } from './core/begin';
import { quoteIdent } from './sql';

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
  const depth = conn._transactionDepth;
  const outer = depth === 0 && !conn._inTransaction;
  let savepoint: string | undefined;
  if (outer) {
    if (options.savepointName !== undefined) throw new ProgrammingError('savepointName applies to nested transactions only');
    await conn._control(conn._beginStatement(options), true);
  } else {
    if (options.isolationLevel !== undefined || options.readonly !== undefined || options.deferrable !== undefined) {
      throw new ProgrammingError('a nested transaction cannot change the isolation level, read-only or deferrable mode');
    }
    savepoint = quoteIdent(options.savepointName ?? `pqnode_savepoint_${depth + 1}`);
    await conn._control(`SAVEPOINT ${savepoint}`, undefined);
  }
  conn._transactionDepth = depth + 1;
  let value: T;
  try {
    value = await fn(conn);
  } catch (error) {
    conn._transactionDepth = depth;
    if (!conn.closed) {
      if (outer) await conn._control('ROLLBACK', false);
      else {
        await conn._control(`ROLLBACK TO SAVEPOINT ${savepoint}`, undefined);
        await conn._control(`RELEASE SAVEPOINT ${savepoint}`, undefined);
      }
    }
    throw error;
  }
  conn._transactionDepth = depth;
  if (outer) {
    const failed = conn.info.transactionStatus === 'inerror';
    await conn._control(failed ? 'ROLLBACK' : 'COMMIT', false);
    if (failed) {
      // the function swallowed an error: committing would silently roll everything back
      throw new InFailedSqlTransaction('the transaction was rolled back: a statement in it failed');
    }
  } else if (conn.info.transactionStatus === 'inerror') {
    // as for the outer block: a swallowed error must not look like success
    await conn._control(`ROLLBACK TO SAVEPOINT ${savepoint}`, undefined);
    await conn._control(`RELEASE SAVEPOINT ${savepoint}`, undefined);
    throw new InFailedSqlTransaction('the savepoint was rolled back: a statement in it failed');
  } else {
    await conn._control(`RELEASE SAVEPOINT ${savepoint}`, undefined);
  }
  return value;
}
