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

function isDigit(c: number): boolean {
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
    if (c === 0x24 /* $ */ && isDigit(text.charCodeAt(i + 1))) {
      let end = i + 2;
      while (end < n && isDigit(text.charCodeAt(end))) end++;
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
