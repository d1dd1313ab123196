// Errors as node-postgres reports them: a server error is a DatabaseError carrying the
// server's fields under node-postgres's names (code, detail, constraint, ...); anything else
// is a plain Error with a message, as node-postgres's are.
import { DatabaseError as PqnodeDatabaseError, Error as PqnodeError } from '../errors';
import type { Diagnostic } from './driver';

export type MessageName = 'error' | 'notice';

/** A server error (or, named 'notice', a notice) with the fields of its ErrorResponse. */
export class DatabaseError extends Error {
  severity: string | undefined;
  code: string | undefined;
  detail: string | undefined;
  hint: string | undefined;
  position: string | undefined;
  internalPosition: string | undefined;
  internalQuery: string | undefined;
  where: string | undefined;
  schema: string | undefined;
  table: string | undefined;
  column: string | undefined;
  dataType: string | undefined;
  constraint: string | undefined;
  file: string | undefined;
  line: string | undefined;
  routine: string | undefined;

  constructor(
    message: string,
    readonly length: number,
    override readonly name: MessageName,
  ) {
    super(message);
  }
}

/** The server's fields, under node-postgres's names, onto `target`. */
export function assignDiagnostic(target: DatabaseError | NoticeMessage, diag: Diagnostic): void {
  target.severity = diag.severity;
  target.code = diag.sqlstate;
  target.detail = diag.messageDetail;
  target.hint = diag.messageHint;
  target.position = diag.statementPosition;
  target.internalPosition = diag.internalPosition;
  target.internalQuery = diag.internalQuery;
  target.where = diag.context;
  target.schema = diag.schemaName;
  target.table = diag.tableName;
  target.column = diag.columnName;
  target.dataType = diag.datatypeName;
  target.constraint = diag.constraintName;
  target.file = diag.sourceFile;
  target.line = diag.sourceLine;
  target.routine = diag.sourceFunction;
}

/** A notice (or warning) from the server, as node-postgres's 'notice' event hands it over. */
export class NoticeMessage {
  readonly name = 'notice';
  severity: string | undefined;
  code: string | undefined;
  detail: string | undefined;
  hint: string | undefined;
  position: string | undefined;
  internalPosition: string | undefined;
  internalQuery: string | undefined;
  where: string | undefined;
  schema: string | undefined;
  table: string | undefined;
  column: string | undefined;
  dataType: string | undefined;
  constraint: string | undefined;
  file: string | undefined;
  line: string | undefined;
  routine: string | undefined;

  constructor(
    readonly message: string,
    diag: Diagnostic,
  ) {
    assignDiagnostic(this, diag);
  }
}

/** libpq's words for the system errors node-postgres reports with an errno code. */
const SYSTEM_CODES: readonly [RegExp, string][] = [
  [/Connection refused/i, 'ECONNREFUSED'],
  [/could not translate host name|Name or service not known|nodename nor servname/i, 'ENOTFOUND'],
  [/No route to host/i, 'EHOSTUNREACH'],
  [/Connection reset by peer/i, 'ECONNRESET'],
  [/timed out|timeout expired/i, 'ETIMEDOUT'],
];

/**
 * What node-postgres would have thrown for an error of pqnode's: a DatabaseError for an error
 * the server sent, else an Error with the same message (a system errno code added where
 * libpq's message names one). The original stays reachable as `cause`.
 */
export function toPgError(error: unknown): Error {
  if (error instanceof DatabaseError || !(error instanceof Error)) return error instanceof Error ? error : new Error(String(error));
  if (error instanceof PqnodeError && error.sqlstate !== undefined && error.diag.messagePrimary !== undefined) {
    const diag = error.diag;
    const converted = new DatabaseError(diag.messagePrimary ?? error.message, 0, 'error');
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
