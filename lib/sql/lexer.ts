// A lexer for query texts, just enough to tell SQL from what only looks like it: a ';', or a
// `$1`, means something only outside strings, quoted identifiers, dollar-quoted bodies and
// comments. The lexer follows PostgreSQL's scanner for those. Two users:
//
// - counting the statements in a text, to choose the protocol: the extended protocol
//   (PQsendQueryParams) takes one statement only, so a text without parameters that holds
//   several has to go through the simple protocol. BEGIN ATOMIC ... END bodies are not
//   recognised: such a text is counted as several statements, which only sends it through the
//   simple protocol, where a single statement works as well. Strings are read as with
//   standard_conforming_strings on, the default since 9.1: a mistake there only picks the
//   protocol.
// - quoting values into a text in place of its `$n` placeholders (COPY, mogrify). There a
//   mistake would let a value end a string and run SQL of its own, so strings are read as the
//   session's standard_conforming_strings says.
// - finding the placeholders of a statement: the highest `$n` (the parameters it takes) and
//   the type each one is cast to (`$1::int4[]`), which tells how its value may travel.

function isIdentStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c >= 0x80;
}

function isIdentChar(c: number): boolean {
  return isIdentStart(c) || (c >= 0x30 && c <= 0x39) || c === 0x24; // digits and '$'
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;
}

/** Index just past the closing quote of a '...' string opened at `i` ('' is an escaped quote). */
function skipQuoted(text: string, i: number, quote: number, backslashEscapes: boolean): number {
  const n = text.length;
  i++;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (backslashEscapes && c === 0x5c) {
      i += 2;
    } else if (c === quote) {
      if (text.charCodeAt(i + 1) === quote) i += 2;
      else return i + 1;
    } else {
      i++;
    }
  }
  return n;
}

/** Index past a dollar-quoted body opened at `i`, or -1 when no dollar quote starts there. */
function skipDollarQuoted(text: string, i: number): number {
  const n = text.length;
  let j = i + 1;
  if (j < n && isIdentStart(text.charCodeAt(j))) {
    j++;
    // the tag is an identifier without '$'
    while (j < n && isIdentChar(text.charCodeAt(j)) && text.charCodeAt(j) !== 0x24) j++;
  }
  if (text.charCodeAt(j) !== 0x24) return -1;
  const tag = text.slice(i, j + 1);
  const end = text.indexOf(tag, j + 1);
  return end === -1 ? n : end + tag.length;
}

/** Index past a /* comment opened at `i`; such comments nest in PostgreSQL. */
function skipBlockComment(text: string, i: number): number {
  const n = text.length;
  let depth = 1;
  i += 2;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x2f && text.charCodeAt(i + 1) === 0x2a) {
      depth++;
      i += 2;
    } else if (c === 0x2a && text.charCodeAt(i + 1) === 0x2f) {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  return n;
}

/** Whether a character code is an ASCII digit. */
export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Index past a comment (-- or /*) that starts at `i`, or `i` itself when none does. */
function skipComment(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === 0x2d /* - */ && text.charCodeAt(i + 1) === 0x2d) {
    const eol = text.indexOf('\n', i + 2);
    return eol === -1 ? text.length : eol + 1;
  }
  if (c === 0x2f /* / */ && text.charCodeAt(i + 1) === 0x2a) return skipBlockComment(text, i);
  return i;
}

/**
 * Index past the element that starts at `i`, which is neither a blank nor a comment: a string
 * (E'...' included), a quoted identifier, a dollar-quoted body, a word, or any other single
 * character. `backslashEscapes`: a backslash escapes the next character in a '...' string
 * (standard_conforming_strings off); it always does in an E'...' string.
 */
function skipElement(text: string, i: number, backslashEscapes: boolean): number {
  const c = text.charCodeAt(i);
  if (c === 0x27 /* ' */) return skipQuoted(text, i, 0x27, backslashEscapes);
  if (c === 0x22 /* " */) return skipQuoted(text, i, 0x22, false);
  if (c === 0x24 /* $ */) {
    const end = skipDollarQuoted(text, i);
    return end === -1 ? i + 1 : end;
  }
  if (isIdentStart(c)) {
    const n = text.length;
    let j = i + 1;
    while (j < n && isIdentChar(text.charCodeAt(j))) j++;
    // E'...' (or e'...') is a string with backslash escapes
    if (j === i + 1 && (c === 0x45 || c === 0x65) && text.charCodeAt(j) === 0x27) return skipQuoted(text, j, 0x27, true);
    return j;
  }
  return i + 1;
}

/**
 * The number of non-empty statements in the text: a trailing ';', blanks, comments and
 * empty statements (';;') do not count. Stops counting once `limit` is reached.
 */
export function countStatements(text: string, limit = Infinity): number {
  const n = text.length;
  let count = 0;
  let inStatement = false;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    // only '-' and '/' can open a comment: no call for every other character
    const past = c === 0x2d || c === 0x2f ? skipComment(text, i) : i;
    if (isSpace(c)) {
      i++;
    } else if (past !== i) {
      i = past;
    } else if (c === 0x3b /* ; */) {
      if (inStatement) {
        count++;
        inStatement = false;
        if (count >= limit) return count;
      }
      i++;
    } else {
      inStatement = true;
      i = skipElement(text, i, false);
    }
  }
  if (inStatement) count++;
  return count;
}

/** The end of the placeholder `$n` that starts at `i`, or -1 when none starts there. */
function placeholderEnd(text: string, i: number): number {
  if (text.charCodeAt(i) !== 0x24 /* $ */ || !isDigit(text.charCodeAt(i + 1))) return -1;
  let end = i + 2;
  while (end < text.length && isDigit(text.charCodeAt(end))) end++;
  return end;
}

/**
 * The text with each `$n` placeholder replaced by `literalOf(n)`; a placeholder it gives
 * undefined for stays as it is. A `$n` inside a string, a quoted identifier, a dollar-quoted
 * body or a comment is not a placeholder and is left alone. `backslashEscapes`: the session
 * has standard_conforming_strings off, so a backslash escapes a quote in a '...' string.
 */
export function inlinePlaceholders(text: string, literalOf: (n: number) => string | undefined, backslashEscapes: boolean): string {
  const n = text.length;
  let out = '';
  let last = 0;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    const end = placeholderEnd(text, i);
    if (end > 0) {
      const literal = literalOf(Number(text.slice(i + 1, end)));
      if (literal !== undefined) {
        out += text.slice(last, i) + literal;
        last = end;
      }
      i = end;
      continue;
    }
    const past = c === 0x2d || c === 0x2f ? skipComment(text, i) : i;
    i = past !== i ? past : skipElement(text, i, backslashEscapes);
  }
  return last === 0 ? text : out + text.slice(last);
}

/** Whether the text holds more than one non-empty statement. */
export function hasMultipleStatements(text: string): boolean {
  // fast path: no ';' at all means one statement at most
  if (text.indexOf(';') === -1) return false;
  return countStatements(text, 2) > 1;
}

/**
 * The first word of the text, lower-cased, past blanks, comments and empty statements; ''
 * when the text does not start with a word (a parenthesis, say) or holds nothing.
 */
export function leadingKeyword(text: string): string {
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    const past = skipComment(text, i);
    if (past !== i) {
      i = past;
    } else if (isSpace(c) || c === 0x3b /* ; */) {
      i++;
    } else if (isIdentStart(c)) {
      const start = i;
      while (i < n && isIdentChar(text.charCodeAt(i))) i++;
      return text.slice(start, i).toLowerCase();
    } else {
      return '';
    }
  }
  return '';
}

/** What scanPlaceholders finds in a text. */
export interface PlaceholderScan {
  /** the highest n of a `$n` placeholder, 0 when there is none */
  highest: number;
  /**
   * Per parameter (index n - 1): the type every one of its placeholders is cast to, as
   * written but normalized ('int4[]', 'double precision[]', 'jsonb', 'public.mood'); null
   * when none has a cast; MIXED_CASTS when they disagree (`$1` and `$1::float8`). Null when
   * no placeholder has a cast.
   */
  casts: (string | null)[] | null;
}

/** words that continue a type's name: double precision, character varying, timestamp with time zone */
const TYPE_NAME_CONTINUATIONS: ReadonlySet<string> = new Set(['precision', 'varying', 'with', 'without', 'time', 'zone']);

/** Index past the blanks and comments from `i`. */
function skipBlanks(text: string, i: number): number {
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    const past = c === 0x2d || c === 0x2f ? skipComment(text, i) : i;
    if (past === i) return i;
    i = past;
  }
  return i;
}

/** A word (lower-cased) or a quoted identifier (as it is, in quotes) at `i`, and where it ends; null when none. */
function readName(text: string, i: number): { name: string; end: number } | null {
  const c = text.charCodeAt(i);
  if (c === 0x22 /* " */) {
    const end = skipQuoted(text, i, 0x22, false);
    return { name: text.slice(i, end), end };
  }
  if (!isIdentStart(c)) return null;
  let j = i + 1;
  while (j < text.length && isIdentChar(text.charCodeAt(j))) j++;
  return { name: text.slice(i, j).toLowerCase(), end: j };
}

/**
 * The type named after a `::` that ends at `i`: its normalized name and where it ends. The
 * name is what the cast says as far as this reading goes; a construct it does not follow
 * gives a name that matches no type the adapters know, which only leaves the value as text.
 */
function readCastType(text: string, i: number): { type: string; end: number } | null {
  let at = skipBlanks(text, i);
  const first = readName(text, at);
  if (first === null) return null;
  let type = first.name;
  at = first.end;
  // schema-qualified: pg_catalog.int4
  while (text.charCodeAt(at) === 0x2e /* . */) {
    const part = readName(text, at + 1);
    if (part === null) break;
    type = type === 'pg_catalog' ? part.name : `${type}.${part.name}`;
    at = part.end;
  }
  for (;;) {
    const next = skipBlanks(text, at);
    const word = readName(text, next);
    if (word === null || !TYPE_NAME_CONTINUATIONS.has(word.name)) break;
    type += ` ${word.name}`;
    at = word.end;
  }
  let next = skipBlanks(text, at);
  if (text.charCodeAt(next) === 0x28 /* ( */) {
    // a type modifier: varchar(10), numeric(10, 2), float(24) (which is float4)
    const close = text.indexOf(')', next);
    if (close === -1) return { type, end: text.length };
    type += `(${text.slice(next + 1, close).replace(/\s+/g, '')})`;
    at = close + 1;
    next = skipBlanks(text, at);
  }
  let dimensions = false;
  for (;;) {
    if (text.charCodeAt(next) === 0x5b /* [ */) {
      const close = text.indexOf(']', next);
      if (close === -1) break;
      dimensions = true;
      at = close + 1;
      next = skipBlanks(text, at);
      continue;
    }
    const word = readName(text, next);
    if (word !== null && word.name === 'array' && !dimensions) {
      // the standard's spelling: integer ARRAY, integer ARRAY[3]
      dimensions = true;
      at = word.end;
      next = skipBlanks(text, at);
      continue;
    }
    break;
  }
  return { type: dimensions ? `${type}[]` : type, end: at };
}

/** The placeholders of a parameter disagree on its cast (one has none, or another). */
export const MIXED_CASTS = '\u0000';

/**
 * The placeholders of a statement: the highest `$n`, and what each parameter is cast to.
 * A `$n` in a string, a quoted identifier, a dollar-quoted body or a comment is not a
 * placeholder. Strings are read with standard_conforming_strings on: a mistake here can
 * only leave a value as text or miscount, which the server then reports.
 */
export function scanPlaceholders(text: string): PlaceholderScan {
  const n = text.length;
  let highest = 0;
  // by parameter: its cast so far; undefined until seen, '' for a placeholder without a cast
  const seen: (string | undefined)[] = [];
  let anyCast = false;
  if (text.indexOf('$') === -1) return { highest: 0, casts: null };
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    const end = placeholderEnd(text, i);
    if (end > 0) {
      const number = Number(text.slice(i + 1, end));
      if (number > highest) highest = number;
      let cast = '';
      const after = skipBlanks(text, end);
      if (text.charCodeAt(after) === 0x3a && text.charCodeAt(after + 1) === 0x3a) {
        const read = readCastType(text, after + 2);
        if (read !== null) {
          cast = read.type;
          anyCast = true;
        }
      }
      if (number >= 1 && number <= 65535) {
        const before = seen[number - 1];
        seen[number - 1] = before === undefined || before === cast ? cast : MIXED_CASTS;
      }
      i = end;
      continue;
    }
    const past = c === 0x2d || c === 0x2f ? skipComment(text, i) : i;
    i = past !== i ? past : skipElement(text, i, false);
  }
  if (!anyCast) return { highest, casts: null };
  const out = new Array<string | null>(Math.min(highest, seen.length)).fill(null);
  for (let k = 0; k < out.length; k++) {
    const cast = seen[k];
    out[k] = cast === undefined || cast === '' ? null : cast;
  }
  return { highest, casts: out };
}
