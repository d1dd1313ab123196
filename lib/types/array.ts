// PostgreSQL array literals, the text format of every array type:
//   {1,2,3}   {{1,2},{3,4}}   {}   {NULL,"NULL","a \"b\""}   [2:3]={1,2}   {(1,1),(0,0);(2,2),(1,1)}
// An element is NULL only when unquoted; quoted elements may hold any character, with '"'
// and '\' escaped by a backslash. The separator is ',' for every built-in type but box (';').
import { DataError } from '../errors';

export type ElementParser = (text: string) => unknown;

const BRACE_OPEN = 0x7b; // {
const BRACE_CLOSE = 0x7d; // }
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \
const BRACKET_OPEN = 0x5b; // [

/** the blanks array_in skips around elements (scanner_isspace) */
function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;
}

function malformed(text: string, detail: string): DataError {
  return new DataError(`malformed array literal ${JSON.stringify(text)}: ${detail}`);
}

/**
 * Parse an array literal of any number of dimensions into nested JS arrays. Explicit lower
 * bounds ('[2:3]=...') are dropped: the elements come back from index 0. Each non-NULL
 * element's text goes through `parseElement` (the text itself when omitted).
 */
export function parseArray(text: string, parseElement?: ElementParser, delimiter = ','): unknown[] {
  const n = text.length;
  const delim = delimiter.charCodeAt(0);
  let i = 0;
  while (i < n && isBlank(text.charCodeAt(i))) i++;
  if (text.charCodeAt(i) === BRACKET_OPEN) {
    // dimension decoration: [lo:hi][lo:hi]=
    const eq = text.indexOf('=', i);
    if (eq === -1) throw malformed(text, 'dimensions without "="');
    i = eq + 1;
    while (i < n && isBlank(text.charCodeAt(i))) i++;
  }
  if (text.charCodeAt(i) !== BRACE_OPEN) throw malformed(text, 'it must start with "{"');

  const result: unknown[] = [];
  const outer: unknown[][] = [];
  let current: unknown[] | undefined = result;
  i++;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (current === undefined) {
      // past the closing brace of the whole array: only blanks may follow
      if (!isBlank(c)) throw malformed(text, 'junk after the closing "}"');
      i++;
      continue;
    }
    if (c === BRACE_OPEN) {
      const inner: unknown[] = [];
      current.push(inner);
      outer.push(current);
      current = inner;
      i++;
    } else if (c === BRACE_CLOSE) {
      current = outer.pop();
      i++;
    } else if (c === delim || isBlank(c)) {
      i++;
    } else if (c === QUOTE) {
      // quoted element: up to the next unescaped quote
      i++;
      let start = i;
      let value = '';
      for (;;) {
        if (i >= n) throw malformed(text, 'unterminated quoted element');
        const q = text.charCodeAt(i);
        if (q === QUOTE) break;
        if (q === BACKSLASH) {
          value += text.slice(start, i);
          i++;
          start = i; // the escaped character is kept as the start of the next run
        }
        i++;
      }
      value += text.slice(start, i);
      i++;
      current.push(parseElement === undefined ? value : parseElement(value));
    } else {
      // unquoted element: up to the separator or a brace, blanks around it dropped
      let start = i;
      let value = '';
      let escaped = false;
      let lastSignificant = i; // one past the last character that is not a trailing blank
      while (i < n) {
        const u = text.charCodeAt(i);
        if (u === delim || u === BRACE_CLOSE || u === BRACE_OPEN || u === QUOTE) break;
        if (u === BACKSLASH) {
          value += text.slice(start, i);
          escaped = true;
          i++;
          start = i;
          i++;
          lastSignificant = i;
          continue;
        }
        i++;
        if (!isBlank(u)) lastSignificant = i;
      }
      value += text.slice(start, Math.max(start, lastSignificant));
      if (!escaped && value.length === 4 && value.toUpperCase() === 'NULL') {
        current.push(null);
      } else {
        current.push(parseElement === undefined ? value : parseElement(value));
      }
    }
  }
  if (current !== undefined) throw malformed(text, 'missing the closing "}"');
  return result;
}

export type ElementFormatter = (value: unknown) => string | null;

/** Whether an element's text must be quoted to read back as itself. */
function needsQuotes(text: string, delim: number): boolean {
  const n = text.length;
  if (n === 0) return true;
  if (n === 4 && text.toUpperCase() === 'NULL') return true;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE || c === BACKSLASH || c === BRACE_OPEN || c === BRACE_CLOSE || c === delim || isBlank(c)) return true;
  }
  return false;
}

function quote(text: string): string {
  return '"' + text.replace(/["\\]/g, '\\$&') + '"';
}

function appendArray(value: readonly unknown[], format: ElementFormatter, delimiter: string, delim: number): string {
  let out = '{';
  for (let i = 0; i < value.length; i++) {
    if (i > 0) out += delimiter;
    const item = value[i];
    if (Array.isArray(item)) {
      out += appendArray(item, format, delimiter, delim);
      continue;
    }
    const text = item === null || item === undefined ? null : format(item);
    if (text === null) out += 'NULL';
    else out += needsQuotes(text, delim) ? quote(text) : text;
  }
  return out + '}';
}

/**
 * An array literal for a (possibly nested) JS array: nested arrays become further
 * dimensions, null and undefined become NULL, every other element is turned into text by
 * `elementToText` (String when omitted), which may itself return null for NULL.
 */
export function serializeArray(value: readonly unknown[], elementToText?: ElementFormatter, delimiter = ','): string {
  return appendArray(value, elementToText ?? String, delimiter, delimiter.charCodeAt(0));
}
