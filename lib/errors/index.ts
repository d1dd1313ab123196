// pqnode's errors: the DB-API hierarchy (./base), one class per SQLSTATE
// (./sqlstate, generated), and the mapping from a server error to its class.
import { baseClassForSqlstate, DatabaseError, type Diagnostic, type ErrorClass } from './base';
import { SQLSTATE_CLASSES, SQLSTATE_NAMES } from './sqlstate';
import { serverMessage } from './server-message';

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
 * PQresultErrorField gives them), `libpqMessage` the text libpq made of it
 * (PQresultErrorMessage), used only when the fields hold no message, and `query` the
 * statement that failed. The message is serverMessage()'s.
 */
export function fromDiagnostic(diag: Partial<Diagnostic>, libpqMessage?: string, query?: string): DatabaseError {
  const sqlstate = diag.sqlstate || undefined;
  const Class = classForSqlstate(sqlstate);
  return new Class(serverMessage(diag, libpqMessage), { diag, sqlstate, query });
}
