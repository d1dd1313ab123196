// Ranges and multiranges: '[1,5)', '(,"2024-01-01 00:00:00")', 'empty', '{[1,3),[5,7)}'.
// A bound is quoted when it holds blanks, quotes, backslashes, commas, parentheses or
// brackets; inside, '"' and '\' are escaped by a backslash or (in the server's output)
// by doubling. An empty unquoted bound is infinite.
import { DataError, ProgrammingError } from '../errors';
import { adaptValue } from '../adapt/adapters';
import { formatBytea } from './bytea';
import { TO_POSTGRES, type AdaptInner, type PostgresText, type ToPostgres } from '../adapt/to-postgres';

export type RangeBounds = '[)' | '[]' | '(]' | '()';

const BOUNDS: ReadonlySet<string> = new Set(['[)', '[]', '(]', '()']);

export class Range<T = unknown> implements ToPostgres {
  /** the lower end, null when infinite (or the range empty) */
  readonly lower: T | null;
  /** the upper end, null when infinite (or the range empty) */
  readonly upper: T | null;
  /** '[' / ']' include the end, '(' / ')' exclude it */
  readonly bounds: RangeBounds;
  readonly isEmpty: boolean;

  /**
   * `new Range(1, 10)` is [1,10); a null end is infinite. The server normalizes what it
   * stores: int4range [1,10] reads back as [1,11), an infinite end as excluded.
   */
  constructor(lower: T | null = null, upper: T | null = null, bounds: RangeBounds = '[)', options: { empty?: boolean } = {}) {
    if (!BOUNDS.has(bounds)) throw new DataError(`range bounds must be one of '[)', '[]', '(]', '()', got ${JSON.stringify(bounds)}`);
    this.isEmpty = options.empty === true;
    this.lower = this.isEmpty || lower === undefined ? null : lower;
    this.upper = this.isEmpty || upper === undefined ? null : upper;
    this.bounds = this.isEmpty ? '()' : bounds;
  }

  /** The empty range (it holds no value at all, unlike (,), which holds every value). */
  static empty<T = unknown>(): Range<T> {
    return new Range<T>(null, null, '()', { empty: true });
  }

  get lowerInc(): boolean {
    return this.bounds[0] === '[';
  }

  get upperInc(): boolean {
    return this.bounds[1] === ']';
  }

  get lowerInf(): boolean {
    return !this.isEmpty && this.lower === null;
  }

  get upperInf(): boolean {
    return !this.isEmpty && this.upper === null;
  }

  /** The range literal, each end written as the global adapters would send it. */
  toString(): string {
    return this.literal((value) => {
      const adapted = adaptValue(value);
      if (adapted.value === null) return null;
      return typeof adapted.value === 'string' ? adapted.value : formatBytea(adapted.value);
    });
  }

  /**
   * Sent untyped, for the server to read as the range type the context needs: there are
   * no casts between range types, so a guess such as int4range would break `$1::int8range`.
   */
  [TO_POSTGRES](adaptInner: AdaptInner): PostgresText {
    return { text: this.literal((value) => adaptInner(value)?.text ?? null), oid: 0 };
  }

  private literal(boundText: (value: unknown) => string | null): string {
    if (this.isEmpty) return 'empty';
    const lower = this.lower === null ? '' : quoteBound(boundText(this.lower));
    const upper = this.upper === null ? '' : quoteBound(boundText(this.upper));
    return `${this.bounds[0]}${lower},${upper}${this.bounds[1]}`;
  }
}

/**
 * A multirange: its ranges in order, as an array (`m[0].lower`, `m.length`, `for of`), that
 * also knows it is a multirange, so that it goes back as one: a plain array of Range is an
 * array of ranges. `new Multirange([new Range(1, 3), new Range(5, 7)])` makes one; it is
 * sent untyped like a Range, for the context to pick the multirange type. Methods that make
 * a new array (map, filter, slice, ...) make a plain array.
 */
export class Multirange<T = unknown> extends Array<Range<T>> implements ToPostgres {
  static override get [Symbol.species](): ArrayConstructor {
    return Array;
  }

  constructor(ranges: Iterable<Range<T>> = []) {
    super();
    if (ranges === null || typeof (ranges as Partial<Iterable<unknown>>)[Symbol.iterator] !== 'function') {
      throw new ProgrammingError('a Multirange is made of an array (or an iterable) of Range');
    }
    for (const range of ranges) {
      if (!(range instanceof Range)) throw new ProgrammingError(`a Multirange holds Range values only, got ${range === null ? 'null' : typeof range}`);
      this.push(range);
    }
  }

  /** the ranges, in order (the multirange itself) */
  get ranges(): readonly Range<T>[] {
    return this;
  }

  [TO_POSTGRES](adaptInner: AdaptInner): PostgresText {
    let text = '{';
    for (let i = 0; i < this.length; i++) text += (i === 0 ? '' : ',') + this[i][TO_POSTGRES](adaptInner).text;
    return { text: text + '}', oid: 0 };
  }
}

/** A bound's text for a range literal; a NULL bound is written as infinite. */
function quoteBound(text: string | null): string {
  if (text === null) return '';
  if (text !== '' && !/["\\,()[\]\s]/.test(text)) return text;
  return '"' + text.replace(/["\\]/g, '\\$&') + '"';
}

function malformed(text: string, detail: string): DataError {
  return new DataError(`malformed range literal ${JSON.stringify(text)}: ${detail}`);
}

export type BoundParser = (text: string) => unknown;

/** One bound from `start`: its text (null when infinite) and where it ends. */
function readBound(text: string, start: number, stops: string): { value: string | null; end: number } {
  let i = start;
  let value = '';
  let quoted = false;
  for (;;) {
    if (i >= text.length) throw malformed(text, 'missing the closing bracket');
    const c = text[i];
    if (c === '"') {
      quoted = true;
      i++;
      for (;;) {
        if (i >= text.length) throw malformed(text, 'unterminated quoted bound');
        const q = text[i];
        if (q === '\\') {
          if (i + 1 >= text.length) throw malformed(text, 'unterminated quoted bound');
          value += text[i + 1];
          i += 2;
        } else if (q === '"') {
          if (text[i + 1] === '"') {
            value += '"';
            i += 2;
          } else {
            i++;
            break;
          }
        } else {
          value += q;
          i++;
        }
      }
    } else if (stops.includes(c)) {
      break;
    } else if (c === '\\') {
      if (i + 1 >= text.length) throw malformed(text, 'a backslash at the end');
      value += text[i + 1];
      i += 2;
    } else {
      value += c;
      i++;
    }
  }
  return { value: value === '' && !quoted ? null : value, end: i };
}

/** Parse one range starting at `start` (blanks before it skipped); where it ends. */
function readRange(text: string, start: number, parseBound: BoundParser | undefined): { range: Range; end: number } {
  let i = start;
  while (i < text.length && /\s/.test(text[i])) i++;
  if (text.slice(i, i + 5).toLowerCase() === 'empty') return { range: Range.empty(), end: i + 5 };
  const open = text[i];
  if (open !== '[' && open !== '(') throw malformed(text, 'it must start with "[", "(" or be "empty"');
  const lower = readBound(text, i + 1, ',');
  const upper = readBound(text, lower.end + 1, ')]');
  const close = text[upper.end];
  const cast = (value: string | null) => (value === null ? null : parseBound !== undefined ? parseBound(value) : value);
  const range = new Range(cast(lower.value), cast(upper.value), `${open}${close}` as RangeBounds);
  return { range, end: upper.end + 1 };
}

/** A range literal → Range, each finite end through `parseBound` (kept as text when omitted). */
export function parseRange(text: string, parseBound?: BoundParser): Range {
  const { range, end } = readRange(text, 0, parseBound);
  if (text.slice(end).trim() !== '') throw malformed(text, 'junk after the range');
  return range;
}

/**
 * A multirange literal '{[1,3),[5,7)}' → a Multirange of its ranges in order, each read by
 * `parseRangeText` (a plain array when that does not make Range values: a typecaster of the
 * user's for the range type).
 */
export function parseMultirange(text: string, parseRangeText: (text: string) => unknown): Multirange | unknown[] {
  const out: unknown[] = [];
  let allRanges = true;
  let i = text.indexOf('{');
  if (i === -1 || text.slice(0, i).trim() !== '') throw new DataError(`malformed multirange literal ${JSON.stringify(text)}: it must start with "{"`);
  i++;
  for (;;) {
    while (i < text.length && /[\s,]/.test(text[i])) i++;
    if (i >= text.length) throw new DataError(`malformed multirange literal ${JSON.stringify(text)}: missing the closing "}"`);
    if (text[i] === '}') break;
    // find where this range ends, then hand its text over whole
    const { end } = readRange(text, i, undefined);
    const range = parseRangeText(text.slice(i, end));
    if (!(range instanceof Range)) allRanges = false;
    out.push(range);
    i = end;
  }
  if (text.slice(i + 1).trim() !== '') throw new DataError(`malformed multirange literal ${JSON.stringify(text)}: junk after "}"`);
  return allRanges ? new Multirange(out as Range[]) : out;
}

/** The built-in range types: range OID → subtype OID. */
export const BUILTIN_RANGES: ReadonlyMap<number, number> = new Map([
  [3904, 23], // int4range
  [3926, 20], // int8range
  [3906, 1700], // numrange
  [3908, 1114], // tsrange
  [3910, 1184], // tstzrange
  [3912, 1082], // daterange
]);

/** The built-in multirange types: multirange OID → range OID. */
export const BUILTIN_MULTIRANGES: ReadonlyMap<number, number> = new Map([
  [4451, 3904],
  [4536, 3926],
  [4532, 3906],
  [4533, 3908],
  [4534, 3910],
  [4535, 3912],
]);
