// Parameters quoted into the text, client-side: for mogrify() (logs, debugging) and for
// statements that cannot take bind parameters (COPY). Each value is written as an SQL
// constant (literal.ts): numbers and booleans bare, strings quoted by libpq, typed values
// with their cast, untyped ones as the parameter would go. Only real placeholders are
// replaced: a `$1` in a string, an identifier or a comment is text, and a value quoted
// there would end it and be read as SQL.
import type { Connection } from './connection';
import { coreOf } from './core/interface';
import { sqlLiteral, type LiteralContext } from './adapt/literal';
import { inlinePlaceholders } from './sql/lexer';

export function inlineParams(conn: Connection, text: string, values: readonly unknown[]): string {
  if (values.length === 0) return text;
  const core = coreOf(conn);
  const context: LiteralContext = {
    adapters: conn.adapters,
    typecasters: conn.typecasters,
    // PQescapeLiteral doubles quotes and backslashes (E'' when there are any): safe whatever
    // standard_conforming_strings is
    quote: (value) => core.escapeLiteral(value),
    standalone: false,
  };
  const literals = values.map((value, index) => sqlLiteral(value, context, index + 1));
  // the session's setting, as libpq last heard it from the server
  const backslashEscapes = core.parameterStatus('standard_conforming_strings') === 'off';
  return inlinePlaceholders(text, (n) => literals[n - 1], backslashEscapes);
}
