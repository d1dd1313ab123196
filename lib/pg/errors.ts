// Errors as node-postgres reports them: a server error is a DatabaseError carrying the
// server's fields under node-postgres's names (code, detail, constraint, ...); anything else
// is a plain Error with a message, as node-postgres's are.
import { DatabaseError as PqnodeDatabaseError, Error as PqnodeError } from '../errors';
import type { Diagnostic } from './driver';

export type MessageName = 'error' | 'notice';

/**
 * The fields of a server error or notice under node-postgres's names, each with the field
 * of pqnode's Diagnostic (errors/base.ts) it holds: the one list both classes below and
 * assignDiagnostic() are made from.
 */
const PG_FIELDS = {
  severity: 'severity',
  code: 'sqlstate',
  detail: 'messageDetail',
  hint: 'messageHint',
  position: 'statementPosition',
  internalPosition: 'internalPosition',
  internalQuery: 'internalQuery',
  where: 'context',
  schema: 'schemaName',
  table: 'tableName',
  column: 'columnName',
  dataType: 'datatypeName',
  constraint: 'constraintName',
  file: 'sourceFile',
  line: 'sourceLine',
  routine: 'sourceFunction',
} as const satisfies Record<string, keyof Diagnostic>;

type PgFieldName = keyof typeof PG_FIELDS;
const PG_FIELD_NAMES = Object.keys(PG_FIELDS) as PgFieldName[];

/** A server error's fields as node-postgres names them; undefined when the server sent none. */
export type ServerFields = { [K in PgFieldName]: string | undefined };

// The classes get their fields from ServerFields (an interface merged with each class)
// rather than from a second list of declarations.
/* eslint-disable @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type */

/** A server error (or, named 'notice', a notice) with the fields of its ErrorResponse. */
export interface DatabaseError extends ServerFields {}
export class DatabaseError extends Error {
  constructor(
    message: string,
    readonly length: number,
    override readonly name: MessageName,
  ) {
    super(message);
    for (const field of PG_FIELD_NAMES) this[field] = undefined;
  }
}

/** The server's fields, under node-postgres's names, onto `target`. */
export function assignDiagnostic(target: ServerFields, diag: Diagnostic): void {
  for (const field of PG_FIELD_NAMES) target[field] = diag[PG_FIELDS[field]];
}

/** A notice (or warning) from the server, as node-postgres's 'notice' event hands it over. */
export interface NoticeMessage extends ServerFields {}
export class NoticeMessage {
  readonly name = 'notice';

  constructor(
    readonly message: string,
    diag: Diagnostic,
  ) {
    assignDiagnostic(this, diag);
  }
}

/* eslint-enable @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type */

/** libpq's words for the system errors node-postgres reports with an errno code. */
const SYSTEM_CODES: readonly [RegExp, string][] = [
  [/Connection refused/i, 'ECONNREFUSED'],
  [/could not translate host name|Name or service not known|nodename nor servname/i, 'ENOTFOUND'],
  [/No route to host/i, 'EHOSTUNREACH'],
  [/Connection reset by peer/i, 'ECONNRESET'],
  [/timed out|timeout expired/i, 'ETIMEDOUT'],
];

/** the names of the statements pqnode prepares by itself (core/prepared.ts) */
const AUTOMATIC_STATEMENT = /^prepared statement "_pqnode_\w+" does not exist$/;

/**
 * The message of a server error, as node-postgres gives it: the server's own words. One
 * failure node-postgres cannot have gets the setting that avoids it: a statement pqnode/pg
 * prepared by itself, missing on the server connection a pooler in transaction mode handed
 * the next run to (outside a transaction it is prepared again and re-run, unseen).
 */
function messageOf(diag: Diagnostic): string {
  const message = diag.messagePrimary ?? '';
  if (diag.sqlstate !== '26000' || !AUTOMATIC_STATEMENT.test(message)) return message;
  return (
    `${message}: pqnode/pg prepares a statement a client runs often (prepareThreshold, 5 by default), ` +
    'and a pooler in transaction mode (PgBouncer before 1.21, or without max_prepared_statements) ' +
    'may run the next transaction on a server connection that lacks it; set prepareThreshold: null ' +
    'in the client or pool config (or pg.defaults) to prepare only named statements, as node-postgres does'
  );
}

/**
 * What node-postgres would have thrown for an error of pqnode's: a DatabaseError for an error
 * the server sent, else an Error with the same message (a system errno code added where
 * libpq's message names one). The original stays reachable as `cause`.
 */
export function toPgError(error: unknown): Error {
  if (error instanceof DatabaseError || !(error instanceof Error)) return error instanceof Error ? error : new Error(String(error));
  if (error instanceof PqnodeError && error.sqlstate !== undefined && error.diag.messagePrimary !== undefined) {
    const diag = error.diag;
    const converted = new DatabaseError(messageOf(diag), 0, 'error');
    assignDiagnostic(converted, diag);
    return converted;
  }
  if (error instanceof PqnodeError) {
    const converted = new Error(error.message, { cause: error }) as Error & { code?: string };
    if (error instanceof PqnodeDatabaseError) {
      for (const [pattern, code] of SYSTEM_CODES) {
        if (pattern.test(error.message)) {
          converted.code = code;
          break;
        }
      }
    }
    return converted;
  }
  return error;
}
