// Transactions as psycopg runs them: BEGIN with the session's characteristics, and
// transaction() blocks that nest through savepoints.
import { ProgrammingError, InFailedSqlTransaction } from './errors';
import type { Connection } from './connection';

export type IsolationLevel = 'serializable' | 'repeatable read' | 'read committed' | 'read uncommitted';

export interface SessionOptions {
  isolationLevel?: IsolationLevel;
  readonly?: boolean;
  deferrable?: boolean;
  autocommit?: boolean;
}

export interface TransactionOptions {
  isolationLevel?: IsolationLevel;
  readonly?: boolean;
  deferrable?: boolean;
  /** the savepoint's name when the block nests; one is made up otherwise */
  savepointName?: string;
}

const ISOLATION_LEVELS: readonly IsolationLevel[] = ['serializable', 'repeatable read', 'read committed', 'read uncommitted'];

function checkIsolationLevel(value: unknown): IsolationLevel {
  const normal = typeof value === 'string' ? value.toLowerCase().replace(/[_-]/g, ' ').trim() : value;
  if (!ISOLATION_LEVELS.includes(normal as IsolationLevel)) {
    throw new ProgrammingError(`isolationLevel must be one of ${ISOLATION_LEVELS.map((l) => `'${l}'`).join(', ')}; got ${String(value)}`);
  }
  return normal as IsolationLevel;
}

function checkBoolean(name: string, value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new ProgrammingError(`${name} must be a boolean`);
  return value;
}

export function checkSessionOptions(options: SessionOptions): SessionOptions {
  if (options === null || typeof options !== 'object') throw new ProgrammingError('setSession() takes an object of options');
  const known = new Set(['isolationLevel', 'readonly', 'deferrable', 'autocommit']);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new ProgrammingError(`unknown session option ${JSON.stringify(key)}`);
  }
  const checked: SessionOptions = {};
  if (options.isolationLevel !== undefined) checked.isolationLevel = checkIsolationLevel(options.isolationLevel);
  const readonly = checkBoolean('readonly', options.readonly);
  if (readonly !== undefined) checked.readonly = readonly;
  const deferrable = checkBoolean('deferrable', options.deferrable);
  if (deferrable !== undefined) checked.deferrable = deferrable;
  const autocommit = checkBoolean('autocommit', options.autocommit);
  if (autocommit !== undefined) checked.autocommit = autocommit;
  return checked;
}

export function beginStatement(options: Omit<TransactionOptions, 'savepointName'>): string {
  let statement = 'BEGIN';
  if (options.isolationLevel !== undefined) statement += ` ISOLATION LEVEL ${checkIsolationLevel(options.isolationLevel).toUpperCase()}`;
  if (options.readonly !== undefined) statement += options.readonly ? ' READ ONLY' : ' READ WRITE';
  if (options.deferrable !== undefined) statement += options.deferrable ? ' DEFERRABLE' : ' NOT DEFERRABLE';
  return statement;
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

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
    savepoint = quoteIdentifier(options.savepointName ?? `pqnode_savepoint_${depth + 1}`);
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
