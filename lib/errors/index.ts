// pqnode's errors: the DB-API hierarchy (./base), one class per SQLSTATE
// (./sqlstate, generated), and the mapping from a server error to its class.
import { baseClassForSqlstate, DatabaseError, type Diagnostic, type ErrorClass } from './base';
import { SQLSTATE_CLASSES, SQLSTATE_NAMES } from './sqlstate';

export * from './base';
export * from './sqlstate';

/**
 * The class of a SQLSTATE, e.g. `lookup('23505') === UniqueViolation`. As in
 * psycopg 3 the condition name works too (`lookup('unique_violation')`),
 * in any case. An unknown code throws a RangeError (psycopg raises KeyError).
 */
export function lookup(sqlstate: string): ErrorClass {
  const key = String(sqlstate).toUpperCase();
  if (Object.hasOwn(SQLSTATE_CLASSES, key)) return SQLSTATE_CLASSES[key];
  if (Object.hasOwn(SQLSTATE_NAMES, key)) return SQLSTATE_CLASSES[SQLSTATE_NAMES[key]];
  throw new RangeError(`unknown SQLSTATE: ${JSON.stringify(sqlstate)}`);
}

/**
 * The class to raise for a SQLSTATE: its own class when there is one, else
 * the DB-API class of its two-character class (a code from a newer server,
 * say '23999', is still an IntegrityError), else DatabaseError.
 */
export function classForSqlstate(sqlstate: string | undefined): ErrorClass {
  if (!sqlstate) return DatabaseError;
  if (Object.hasOwn(SQLSTATE_CLASSES, sqlstate)) return SQLSTATE_CLASSES[sqlstate];
  return baseClassForSqlstate(sqlstate);
}

/**
 * The error for a server error report: `diag` holds its fields (as libpq's
 * PQresultErrorField gives them), `message` the full text libpq made of it
 * (PQresultErrorMessage), used as the error message as psycopg does, and
 * `query` the statement that failed.
 */
export function fromDiagnostic(diag: Partial<Diagnostic>, message: string, query?: string): DatabaseError {
  const sqlstate = diag.sqlstate || undefined;
  const Class = classForSqlstate(sqlstate);
  // libpq ends its messages with a newline, which would dangle in a stack trace.
  let text = (message ?? '').replace(/\s+$/, '');
  if (text === '') text = diag.messagePrimary ?? 'unknown server error';
  return new Class(text, { diag, sqlstate, query });
}
