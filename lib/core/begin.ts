// The characteristics of a transaction, checked, and the BEGIN statement that asks for them.
import { ProgrammingError } from '../errors';

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
