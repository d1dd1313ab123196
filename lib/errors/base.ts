// The DB-API exception hierarchy (PEP 249) as psycopg2 shapes it, plus the few
// operational errors pqnode raises on its own (pipeline, pool, connect timeout).
// The one-class-per-SQLSTATE layer lives in ./sqlstate (generated) and hangs
// off these classes.

/**
 * The fields of a server error or notice, as libpq's PQresultErrorField reports
 * them. A field the server did not send is undefined, never an empty string.
 */
export interface Diagnostic {
  readonly severity: string | undefined;
  readonly severityNonlocalized: string | undefined;
  readonly sqlstate: string | undefined;
  readonly messagePrimary: string | undefined;
  readonly messageDetail: string | undefined;
  readonly messageHint: string | undefined;
  readonly statementPosition: string | undefined;
  readonly internalPosition: string | undefined;
  readonly internalQuery: string | undefined;
  readonly context: string | undefined;
  readonly schemaName: string | undefined;
  readonly tableName: string | undefined;
  readonly columnName: string | undefined;
  readonly datatypeName: string | undefined;
  readonly constraintName: string | undefined;
  readonly sourceFile: string | undefined;
  readonly sourceLine: string | undefined;
  readonly sourceFunction: string | undefined;
}

/** Every key of {@link Diagnostic}, in the order libpq documents the fields. */
export const DIAGNOSTIC_FIELDS: readonly (keyof Diagnostic)[] = Object.freeze([
  'severity',
  'severityNonlocalized',
  'sqlstate',
  'messagePrimary',
  'messageDetail',
  'messageHint',
  'statementPosition',
  'internalPosition',
  'internalQuery',
  'context',
  'schemaName',
  'tableName',
  'columnName',
  'datatypeName',
  'constraintName',
  'sourceFile',
  'sourceLine',
  'sourceFunction',
] as const);

/**
 * A complete, frozen Diagnostic from whatever subset of fields is at hand.
 * The native layer may hand over null or '' for an absent field, or a number
 * for a position; all of that is folded into the documented shape.
 */
export function makeDiagnostic(fields?: Partial<Record<keyof Diagnostic, unknown>> | null): Diagnostic {
  const diag: Record<string, string | undefined> = {};
  for (const key of DIAGNOSTIC_FIELDS) {
    const value = fields?.[key];
    if (typeof value === 'string') {
      diag[key] = value === '' ? undefined : value;
    } else if (typeof value === 'number' || typeof value === 'bigint') {
      diag[key] = String(value);
    } else {
      diag[key] = undefined;
    }
  }
  return Object.freeze(diag) as unknown as Diagnostic;
}

export interface PqnodeErrorOptions {
  /** the error that led to this one (kept as the standard `cause`) */
  cause?: unknown;
  /** the server's error fields; missing ones read as undefined */
  diag?: Partial<Diagnostic>;
  /** the SQLSTATE, when the class itself does not fix one */
  sqlstate?: string;
  /** the query text that failed, when known */
  query?: string;
}

/**
 * The constructor of a database error class, with the SQLSTATE it stands for
 * (undefined for the DB-API classes, which cover many codes).
 */
export interface ErrorClass {
  new (message?: string, options?: PqnodeErrorOptions): DatabaseError;
  readonly prototype: DatabaseError;
  readonly sqlstate: string | undefined;
  readonly name: string;
}

/**
 * The base of every error pqnode raises (DB-API `Error`). It is exported as
 * `Error` as the DB-API names it; inside this package it is called
 * PqnodeError so that it never hides the global Error.
 *
 * As in psycopg 3, `sqlstate` and `diag` live here rather than on
 * DatabaseError, so that a handler catching `errors.Error` can read them
 * without narrowing; they are simply empty for client-side errors.
 */
export class PqnodeError extends globalThis.Error {
  /** The SQLSTATE this class stands for; set by the per-SQLSTATE classes. */
  static readonly sqlstate: string | undefined = undefined;

  override name = 'Error';
  /** The SQLSTATE of the error, if it came from the server. */
  readonly sqlstate: string | undefined;
  /** The error fields sent by the server (all undefined for client errors). */
  readonly diag: Diagnostic;
  /** The query that failed, when the error is about one. */
  declare readonly query?: string;

  constructor(message?: string, options?: PqnodeErrorOptions) {
    // Only pass `cause` when given, so errors without one carry no own
    // `cause: undefined` property (which inspectors would print).
    super(message, options && 'cause' in options ? { cause: options.cause } : undefined);
    // A per-SQLSTATE class knows its code for certain; the options only
    // matter for the DB-API classes, which stand for a whole family.
    const fixed = (new.target as unknown as { sqlstate?: string }).sqlstate;
    const fields = options?.diag;
    const sqlstate = fixed ?? nonEmpty(options?.sqlstate) ?? nonEmpty(fields?.sqlstate);
    this.sqlstate = sqlstate;
    // Keep `err.diag.sqlstate` in step with `err.sqlstate` when only one was given.
    this.diag = makeDiagnostic(fields?.sqlstate ? fields : { ...fields, sqlstate });
    if (options?.query !== undefined) this.query = options.query;
  }
}

// The class is exported as `Error`; make the constructor say so too, as
// psycopg's `Error.__name__` does.
Object.defineProperty(PqnodeError, 'name', { value: 'Error' });

export { PqnodeError as Error };

/**
 * DB-API `Warning`: important warnings such as data truncation. As in PEP 249
 * it is not a subclass of `Error`, so catching `errors.Error` does not catch it.
 */
export class Warning extends globalThis.Error {
  override name = 'Warning';

  constructor(message?: string, options?: { cause?: unknown }) {
    super(message, options && 'cause' in options ? { cause: options.cause } : undefined);
  }
}

/** Errors of the client library rather than the database: a closed connection or cursor, misuse. */
export class InterfaceError extends PqnodeError {
  override name = 'InterfaceError';
}

/** Errors related to the database; the base of every error the server reports. */
export class DatabaseError extends PqnodeError {
  override name = 'DatabaseError';
}

/** Problems with the processed data: division by zero, value out of range, bad input syntax. */
export class DataError extends DatabaseError {
  override name = 'DataError';
}

/**
 * Errors in the database's operation, not necessarily under the programmer's
 * control: lost connection, out of resources, administrator shutdown.
 */
export class OperationalError extends DatabaseError {
  override name = 'OperationalError';
}

/** The relational integrity of the database is affected: a failed foreign key or unique check. */
export class IntegrityError extends DatabaseError {
  override name = 'IntegrityError';
}

/** The database hit an internal error: invalid cursor or transaction state, PL/pgSQL errors. */
export class InternalError extends DatabaseError {
  override name = 'InternalError';
}

/** Programming errors: missing table, SQL syntax error, wrong number of parameters. */
export class ProgrammingError extends DatabaseError {
  override name = 'ProgrammingError';
}

/** A method or database API the database does not support. */
export class NotSupportedError extends DatabaseError {
  override name = 'NotSupportedError';
}

/**
 * psycopg2's extension: the transaction was rolled back by the server
 * (serialization failure, deadlock); retrying it may succeed.
 */
export class TransactionRollbackError extends OperationalError {
  override name = 'TransactionRollbackError';
}

/** psycopg2's extension: the statement was canceled (cancel() or statement_timeout). */
export class QueryCanceledError extends OperationalError {
  override name = 'QueryCanceledError';
}

/**
 * A statement of a pipeline was not run because an earlier one failed
 * (libpq's PGRES_PIPELINE_ABORTED), as psycopg 3 reports it.
 */
export class PipelineAborted extends OperationalError {
  override name = 'PipelineAborted';
}

/** The pool could not hand out a connection within the timeout (psycopg_pool's PoolTimeout). */
export class PoolTimeout extends OperationalError {
  override name = 'PoolTimeout';
}

/** Too many clients are already waiting for a connection from the pool (psycopg_pool's TooManyRequests). */
export class TooManyRequests extends OperationalError {
  override name = 'TooManyRequests';
}

/** The pool is closed, or was closed while the caller waited (psycopg_pool's PoolClosed). */
export class PoolClosed extends OperationalError {
  override name = 'PoolClosed';
}

/** The connection could not be established within the connect timeout. */
export class ConnectionTimeout extends OperationalError {
  override name = 'ConnectionTimeout';
}

/**
 * The DB-API class for a SQLSTATE, by its two-character class, as psycopg2
 * maps them (base_exception_from_sqlstate). Used for the codes that have no
 * class of their own, e.g. one added by a newer server; the per-SQLSTATE
 * classes are generated under exactly these bases.
 */
export function baseClassForSqlstate(sqlstate: string): ErrorClass {
  const [c0, c1] = sqlstate;
  switch (c0) {
    case '0':
      if (c1 === '8') return OperationalError; // 08 connection exception
      if (c1 === 'A') return NotSupportedError; // 0A feature not supported
      break;
    case '2':
      switch (c1) {
        case '0': // case not found
        case '1': // cardinality violation
          return ProgrammingError;
        case '2': // data exception
          return DataError;
        case '3': // integrity constraint violation
          return IntegrityError;
        case '4': // invalid cursor state
        case '5': // invalid transaction state
          return InternalError;
        case '6': // invalid SQL statement name
        case '7': // triggered data change violation
        case '8': // invalid authorization specification
          return OperationalError;
        case 'B': // dependent privilege descriptors still exist
        case 'D': // invalid transaction termination
        case 'F': // SQL routine exception
          return InternalError;
      }
      break;
    case '3':
      switch (c1) {
        case '4': // invalid cursor name
          return OperationalError;
        case '8': // external routine exception
        case '9': // external routine invocation exception
        case 'B': // savepoint exception
          return InternalError;
        case 'D': // invalid catalog name
        case 'F': // invalid schema name
          return ProgrammingError;
      }
      break;
    case '4':
      if (c1 === '0') return TransactionRollbackError; // transaction rollback
      if (c1 === '2' || c1 === '4') return ProgrammingError; // syntax/access rule, WITH CHECK OPTION
      break;
    case '5':
      // 53 insufficient resources, 54 program limit exceeded, 55 object not in
      // prerequisite state, 57 operator intervention, 58 system error
      return sqlstate === '57014' ? QueryCanceledError : OperationalError;
    case 'F': // F0 configuration file error
      return InternalError;
    case 'H': // HV foreign data wrapper error
      return OperationalError;
    case 'P': // P0 PL/pgSQL error
      return InternalError;
    case 'X': // XX internal error
      return InternalError;
  }
  return DatabaseError;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === '' ? undefined : value;
}
