// Quoting as node-postgres does it, client-side (the rules of libpq's PQescapeIdentifier and
// PQescapeLiteral for a server with standard_conforming_strings on).

/** A double-quoted identifier, its double quotes doubled. */
export function escapeIdentifier(text: string): string {
  return `"${String(text).replace(/"/g, '""')}"`;
}

/** A single-quoted literal, its quotes and backslashes doubled; E'' when it holds a backslash. */
export function escapeLiteral(text: string): string {
  if (typeof text !== 'string') return "''";
  const escaped = `'${text.replace(/'/g, "''").replace(/\\/g, '\\\\')}'`;
  return text.includes('\\') ? ` E${escaped}` : escaped;
}
