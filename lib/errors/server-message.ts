// The message of a server error or notice, made from its fields. Not re-exported by
// ./index: the `errors` namespace users see holds classes and lookups.
import type { Diagnostic } from './base';

/**
 * The message of a server error or notice: its primary message, then its DETAIL and HINT
 * lines as libpq lays them out, as psycopg 3 shows it. The severity is not part of it (it is
 * `diag.severity`), nor are the statement cursor (LINE 1: ...) and the CONTEXT, which `diag`
 * keeps with the other fields. Made from the fields, so the server's locale and libpq's
 * verbosity do not change it. `fallback` is libpq's text, for a report without a primary
 * message (libpq's own errors).
 */
export function serverMessage(diag: Partial<Diagnostic>, fallback?: string): string {
  const primary = diag.messagePrimary;
  if (!primary) {
    let text = (fallback ?? '').trim();
    const severity = diag.severity;
    if (severity && text.startsWith(`${severity}:`)) text = text.slice(severity.length + 1).trimStart();
    return text === '' ? 'unknown server error' : text;
  }
  let text = primary;
  if (diag.messageDetail) text += `\nDETAIL:  ${diag.messageDetail}`;
  if (diag.messageHint) text += `\nHINT:  ${diag.messageHint}`;
  return text;
}
