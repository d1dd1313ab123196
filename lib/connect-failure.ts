// The error for a failed connection attempt. libpq keeps no PGresult for it, only a message,
// which the native layer has libpq write in its verbose form while connecting
// (PQERRORS_VERBOSE), so that a server's refusal carries its SQLSTATE:
//
//   connection to server at "127.0.0.1", port 5432 failed: FATAL:  28P01: password authentication failed for user "u"
//   LOCATION:  auth_failed, auth.c:334
//
// Here the SQLSTATE is read, and the message is given back in the form it has at libpq's
// default verbosity, without the code, the LOCATION line or a trailing newline.
import * as errors from './errors';
import type { Diagnostic } from './errors';

/** A server's report inside libpq's text: after the start of a line or libpq's "...failed: ". */
const SERVER_REPORT = /(^|: )([^\s:]+):  ([0-9A-Z]{5}): /u;
/** The LOCATION line of a verbose report ("LOCATION:  auth_failed, auth.c:334"), whatever the label's language. */
const LOCATION_LINE = /^[^\s:]+:  (?:[\w$]+, )?[\w./-]+\.c:\d+$/u;
/** The object-name lines only a verbose report has; libpq writes them in English unless translated. */
const NAME_LINE = /^(?:SCHEMA|TABLE|COLUMN|DATATYPE|CONSTRAINT) NAME:  /;
const DETAIL_LINE = /^DETAIL:  (.*)$/;
const HINT_LINE = /^HINT:  (.*)$/;

/**
 * The error for libpq's message about a failed connection. When a server explained the
 * refusal, the error has its SQLSTATE and fields, and the class of that SQLSTATE when it is
 * an OperationalError (28P01 InvalidPassword, 53300 TooManyConnections, 57P03
 * CannotConnectNow, ...); a code of another family (3D000, no such database, is a
 * ProgrammingError) keeps OperationalError, which is what a failed connect is, as in psycopg.
 * `redact` keeps passwords out of the message and the fields.
 */
export function connectFailure(libpqMessage: string, redact: (text: string) => string): errors.OperationalError {
  const lines: string[] = [];
  let diag: Partial<Record<keyof Diagnostic, string>> | undefined;
  for (const line of libpqMessage.split('\n')) {
    const report = SERVER_REPORT.exec(line);
    if (report !== null) {
      const [whole, before, severity, sqlstate] = report;
      const start = report.index + before.length;
      const primary = line.slice(report.index + whole.length);
      // the attempt the error is about is the last one: its server's report wins
      diag = { severity, sqlstate, messagePrimary: primary };
      lines.push(`${line.slice(0, start)}${severity}:  ${primary}`);
      continue;
    }
    if (diag !== undefined) {
      if (LOCATION_LINE.test(line) || NAME_LINE.test(line)) continue;
      const detail = DETAIL_LINE.exec(line);
      if (detail !== null) diag.messageDetail ??= detail[1];
      const hint = HINT_LINE.exec(line);
      if (hint !== null) diag.messageHint ??= hint[1];
    }
    lines.push(line);
  }
  const message = redact(lines.join('\n').trimEnd()) || 'the connection failed';
  if (diag === undefined) return new errors.OperationalError(message);
  const fields: Partial<Record<keyof Diagnostic, string>> = {};
  for (const [key, value] of Object.entries(diag) as [keyof Diagnostic, string][]) fields[key] = redact(value);
  const Class = errors.classForSqlstate(diag.sqlstate);
  const Operational = Class.prototype instanceof errors.OperationalError ? Class : errors.OperationalError;
  return new Operational(message, { diag: fields, sqlstate: diag.sqlstate }) as errors.OperationalError;
}
