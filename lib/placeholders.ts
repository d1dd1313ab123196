// psycopg's placeholders (%s, %(name)s, %%) → PostgreSQL's native $1, $2, ...
// The values stay parameters: nothing is ever spliced into the text.
//
// The scan depends on the text alone, so its outcome (the converted text and the names in
// $n order, or the error it found) is kept per text in a small LRU cache: a query run many
// times is scanned once.
import { ProgrammingError } from './errors';

export type QueryParams = readonly unknown[] | Record<string, unknown> | ReadonlyMap<string, unknown>;

export interface ConvertedQuery {
  text: string;
  values: unknown[];
}

type Scan =
  /** no placeholder at all (only %% perhaps) */
  | { kind: 'none'; text: string }
  | { kind: 'positional'; text: string; count: number }
  /** names[k] is the name sent as $(k+1) */
  | { kind: 'named'; text: string; names: readonly string[] }
  | { kind: 'error'; message: string };

const CACHE_SIZE = 256;
/** longer texts (generated bulk statements, mostly) are not worth keeping */
const CACHE_MAX_TEXT = 64 * 1024;
const cache = new Map<string, Scan>();

function isFormatChar(c: string): boolean {
  // %b and %t are psycopg 3's binary / text forms; every parameter is sent as text here
  return c === 's' || c === 'b' || c === 't';
}

function scan(text: string): Scan {
  let out = '';
  let last = 0;
  let positional = 0;
  let names: string[] | undefined;
  let index: Map<string, number> | undefined;
  let i = text.indexOf('%');
  while (i !== -1) {
    out += text.slice(last, i);
    const next = text[i + 1];
    if (next === '%') {
      out += '%';
      last = i + 2;
    } else if (next !== undefined && isFormatChar(next)) {
      if (names !== undefined) return mixed();
      positional++;
      out += `$${positional}`;
      last = i + 2;
    } else if (next === '(') {
      if (positional > 0) return mixed();
      const close = text.indexOf(')', i + 2);
      if (close === -1) {
        return { kind: 'error', message: `incomplete placeholder ${JSON.stringify(text.slice(i, i + 20))}: a '%(' without its ')'` };
      }
      const name = text.slice(i + 2, close);
      const format = text[close + 1];
      if (name === '') return { kind: 'error', message: "a named placeholder needs a name: '%()s'" };
      if (format === undefined || !isFormatChar(format)) {
        const got = format === undefined ? `%(${name})` : `%(${name})${format}`;
        return { kind: 'error', message: `unsupported placeholder '${got}': named placeholders are written %(name)s` };
      }
      names ??= [];
      index ??= new Map();
      let n = index.get(name);
      if (n === undefined) {
        names.push(name);
        n = names.length;
        index.set(name, n);
      }
      out += `$${n}`;
      last = close + 2;
    } else if (next === undefined) {
      return { kind: 'error', message: "incomplete placeholder: the query ends with '%'; write '%%' for a literal '%'" };
    } else {
      return {
        kind: 'error',
        message: `unsupported placeholder '%${next}': use %s, %(name)s, or '%%' for a literal '%'`,
      };
    }
    i = text.indexOf('%', last);
  }
  out += text.slice(last);
  if (names !== undefined) return { kind: 'named', text: out, names };
  if (positional > 0) return { kind: 'positional', text: out, count: positional };
  return { kind: 'none', text: out };
}

function mixed(): Scan {
  return { kind: 'error', message: 'positional (%s) and named (%(name)s) placeholders cannot be mixed in one query' };
}

function scanCached(text: string): Scan {
  let result = cache.get(text);
  if (result !== undefined) {
    // move to the most recent end, so that the first key is always the least recently used
    cache.delete(text);
    cache.set(text, result);
    return result;
  }
  result = text.indexOf('%') === -1 ? { kind: 'none', text } : scan(text);
  if (text.length <= CACHE_MAX_TEXT) {
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    cache.set(text, result);
  }
  return result;
}

/** `n word` or `n words`, for messages. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * Turn a query with psycopg placeholders into one with native placeholders and the list
 * of values in $n order. Without params the text is returned as it is, with no '%'
 * processing, as psycopg does; with params, '%%' stands for '%'.
 */
export function convertPlaceholders(text: string, params: QueryParams | null | undefined): ConvertedQuery {
  if (params === undefined || params === null) return { text, values: [] };
  const parsed = scanCached(text);
  if (parsed.kind === 'error') throw new ProgrammingError(parsed.message);

  if (Array.isArray(params)) {
    if (parsed.kind === 'named') {
      throw new ProgrammingError('the query has named placeholders (%(name)s): pass the parameters as an object, not an array');
    }
    const expected = parsed.kind === 'positional' ? parsed.count : 0;
    if (params.length !== expected) {
      throw new ProgrammingError(
        `the query has ${plural(expected, 'placeholder')} but ${params.length} ${params.length === 1 ? 'parameter was' : 'parameters were'} passed`,
      );
    }
    return { text: parsed.text, values: params.slice() };
  }

  if (typeof params !== 'object') {
    throw new ProgrammingError(`query parameters must be an array or an object, not ${typeof params}`);
  }
  if (parsed.kind === 'positional') {
    throw new ProgrammingError('the query has positional placeholders (%s): pass the parameters as an array, not an object');
  }
  if (parsed.kind === 'none') return { text: parsed.text, values: [] };

  const values = new Array<unknown>(parsed.names.length);
  if (params instanceof Map) {
    const map = params as ReadonlyMap<string, unknown>;
    for (let k = 0; k < parsed.names.length; k++) {
      const name = parsed.names[k];
      if (!map.has(name)) throw missing(name);
      values[k] = map.get(name);
    }
  } else {
    const record = params as Record<string, unknown>;
    for (let k = 0; k < parsed.names.length; k++) {
      const name = parsed.names[k];
      // own keys only: a name such as 'constructor' must not find Object.prototype's
      if (!Object.hasOwn(record, name)) throw missing(name);
      values[k] = record[name];
    }
  }
  return { text: parsed.text, values };
}

function missing(name: string): ProgrammingError {
  return new ProgrammingError(`query parameter missing: ${JSON.stringify(name)} is used as %(${name})s but is not in the parameters`);
}

/** Empty the cache of scanned query texts. */
export function clearPlaceholderCache(): void {
  cache.clear();
}

/** How many query texts the cache holds. */
export function placeholderCacheSize(): number {
  return cache.size;
}
