// SQL composition, in the manner of psycopg's `sql` module: pieces of a statement that are
// not values (table and column names, keywords, lists of them) built safely, plus the
// `sql.query` tagged template whose interpolated values travel as parameters.
//
// SQL, Identifier, Literal, Placeholder and Composed render to text. Only Literal needs
// to know the connection (its adapters and standard_conforming_strings); without one, the
// global adapters apply and standard_conforming_strings is taken to be on, the server's
// default since PostgreSQL 9.1.
import type { Connection } from '../connection';
import { ProgrammingError } from '../errors';
import { globalAdapters, type AdapterRegistry } from '../adapt/adapters';
import { sqlLiteral } from '../adapt/literal';
import type { TypecasterRegistry } from '../adapt/typecasters';
import type { QueryLike } from '../query-text';

/** What rendering a piece may need to know about the connection it is for. */
interface RenderContext {
  adapters: AdapterRegistry;
  /** how results are read on the connection: a Date follows its timestamp choice */
  typecasters?: TypecasterRegistry;
  standardConformingStrings: boolean;
}

function contextOf(conn: Connection | undefined): RenderContext {
  if (conn === undefined) return { adapters: globalAdapters, standardConformingStrings: true };
  const setting = conn.closed ? null : conn.info.parameterStatus('standard_conforming_strings');
  return { adapters: conn.adapters, typecasters: conn.typecasters, standardConformingStrings: setting !== 'off' };
}

/** The base of every composable piece. */
export abstract class Composable implements QueryLike {
  /** @internal the text of this piece */
  abstract _render(context: RenderContext): string;

  /** The text this piece stands for, quoted as `conn` (or, without one, the defaults) says. */
  asString(conn?: Connection): string {
    return this._render(contextOf(conn));
  }

  /** @internal what conn.query(), conn.execute() and cursor.execute() send */
  toQuery(conn?: Connection): { text: string } {
    return { text: this.asString(conn) };
  }

  /** This piece followed by `other`. */
  concat(other: Composable): Composed {
    if (!(other instanceof Composable)) throw new ProgrammingError('concat() takes a composable sql object');
    const left = this instanceof Composed ? this.seq : [this];
    const right = other instanceof Composed ? other.seq : [other];
    return new Composed([...left, ...right]);
  }

  toString(): string {
    return this.asString();
  }
}

/** A sequence of pieces rendered one after the other. Values that are not pieces become Literals. */
export class Composed extends Composable {
  readonly seq: readonly Composable[];

  constructor(seq: Iterable<unknown>) {
    super();
    if (seq === null || seq === undefined || typeof (seq as Iterable<unknown>)[Symbol.iterator] !== 'function' || typeof seq === 'string') {
      throw new ProgrammingError('Composed takes an array of composable sql objects');
    }
    this.seq = Object.freeze(Array.from(seq, (item) => (item instanceof Composable ? item : new Literal(item))));
  }

  /** @internal */
  _render(context: RenderContext): string {
    let text = '';
    for (const part of this.seq) text += part._render(context);
    return text;
  }

  /** The pieces with `separator` (a string or an sql.SQL) between them. */
  join(separator: string | SQL): Composed {
    return joinPieces(toSeparator(separator), this.seq);
  }
}

/** A fragment of SQL text, taken as it is (never a place for values from outside). */
export class SQL extends Composable {
  readonly text: string;

  constructor(text: string) {
    super();
    if (typeof text !== 'string') throw new ProgrammingError(`SQL takes a string, not ${describe(text)}`);
    this.text = text;
  }

  /** @internal */
  _render(): string {
    return this.text;
  }

  /**
   * Fill the `{}` (in order), `{0}` (by position) and `{name}` fields of this text with
   * pieces; values that are not pieces become Literals. Named fields take their values from
   * an object passed as the last argument. `{{` and `}}` stand for braces.
   */
  format(...args: unknown[]): Composed {
    const fields = parseFormat(this.text);
    const hasNamed = fields.some((field) => typeof field !== 'string' && field.kind === 'name');
    let named: Record<string, unknown> | undefined;
    let positional = args;
    if (hasNamed) {
      const last = args[args.length - 1];
      if (last === null || typeof last !== 'object' || last instanceof Composable || Array.isArray(last)) {
        throw new ProgrammingError('this text has named fields ({name}): pass an object of their values as the last argument of format()');
      }
      named = last as Record<string, unknown>;
      positional = args.slice(0, -1);
    }
    const parts: unknown[] = [];
    let auto: number | null | undefined;
    for (const field of fields) {
      if (typeof field === 'string') {
        parts.push(new SQL(field));
        continue;
      }
      if (field.kind === 'auto' || field.kind === 'index') {
        let index: number;
        if (field.kind === 'auto') {
          if (auto === null) throw new ProgrammingError('cannot switch from manual field numbering ({0}) to automatic ({})');
          index = auto ?? 0;
          auto = index + 1;
        } else {
          if (typeof auto === 'number') throw new ProgrammingError('cannot switch from automatic field numbering ({}) to manual ({0})');
          auto = null;
          index = field.index;
        }
        if (index >= positional.length) {
          throw new ProgrammingError(`format() needs an argument for field ${index} but got ${positional.length}`);
        }
        parts.push(positional[index]);
      } else {
        if (!Object.hasOwn(named as object, field.name)) {
          throw new ProgrammingError(`format() has no value for the field {${field.name}}`);
        }
        parts.push((named as Record<string, unknown>)[field.name]);
      }
    }
    return new Composed(parts);
  }

  /** The pieces of `seq` with this text between them. */
  join(seq: Iterable<unknown>): Composed {
    if (seq === null || seq === undefined || typeof (seq as Iterable<unknown>)[Symbol.iterator] !== 'function' || typeof seq === 'string') {
      throw new ProgrammingError('join() takes an array of composable sql objects');
    }
    return joinPieces(this, Array.from(seq, (item) => (item instanceof Composable ? item : new Literal(item))));
  }
}

/** A name (table, column, schema, ...), quoted; several names make a dotted name: `"schema"."table"`. */
export class Identifier extends Composable {
  readonly names: readonly string[];

  constructor(...names: string[]) {
    super();
    if (names.length === 0) throw new ProgrammingError('Identifier needs at least one name');
    for (const name of names) {
      quoteIdent(name);
    }
    this.names = Object.freeze([...names]);
  }

  /** @internal */
  _render(): string {
    return this.names.map(quoteIdent).join('.');
  }
}

/** A value written into the text as a quoted literal, as the adapters would send it. */
export class Literal extends Composable {
  constructor(readonly value: unknown) {
    super();
  }

  /** @internal */
  _render(context: RenderContext): string {
    return quoteLiteral(this.value, context);
  }
}

/** A placeholder for a cursor's parameters: `%s`, or `%(name)s` when named. */
export class Placeholder extends Composable {
  readonly name: string | undefined;

  constructor(name?: string) {
    super();
    if (name !== undefined) {
      if (typeof name !== 'string') throw new ProgrammingError(`Placeholder takes a name (a string), not ${describe(name)}`);
      if (name === '' || name.includes(')')) throw new ProgrammingError(`invalid placeholder name ${JSON.stringify(name)}`);
    }
    this.name = name;
  }

  /** @internal */
  _render(): string {
    return this.name === undefined ? '%s' : `%(${this.name})s`;
  }
}

/**
 * The result of the `sql.query` tagged template: text with `$1, $2, ...` where values were
 * interpolated, and those values. Pieces (sql.SQL, Identifier, ...) are written into the
 * text; another sql.query is spliced in with its parameters renumbered.
 */
export class SqlQuery implements QueryLike {
  readonly #strings: readonly string[];
  readonly #values: readonly unknown[];

  constructor(strings: readonly string[], values: readonly unknown[]) {
    if (!Array.isArray(strings) || strings.length !== values.length + 1) {
      throw new ProgrammingError('sql.query is a tagged template: write sql.query`select ${value}`');
    }
    this.#strings = strings;
    this.#values = values;
  }

  /** the text with $n placeholders (pieces rendered with the default context) */
  get text(): string {
    return this.toQuery().text;
  }

  /** the parameters, in $n order */
  get values(): unknown[] {
    return this.toQuery().values;
  }

  toQuery(conn?: Connection): { text: string; values: unknown[] } {
    const values: unknown[] = [];
    const text = this._render(contextOf(conn), values);
    return { text, values };
  }

  /** @internal */
  _render(context: RenderContext, values: unknown[]): string {
    let text = this.#strings[0];
    for (let i = 0; i < this.#values.length; i++) {
      const value = this.#values[i];
      if (value instanceof SqlQuery) {
        text += value._render(context, values);
      } else if (value instanceof Placeholder) {
        throw new ProgrammingError('sql.Placeholder has no place in sql.query: interpolate the value itself');
      } else if (value instanceof Composable) {
        text += value._render(context);
      } else {
        values.push(value);
        text += `$${values.length}`;
      }
      text += this.#strings[i + 1];
    }
    return text;
  }
}

/** Quote a name as PQescapeIdentifier does: in double quotes, inner double quotes doubled. */
export function quoteIdent(name: string): string {
  if (typeof name !== 'string') throw new ProgrammingError(`an identifier must be a string, not ${describe(name)}`);
  if (name.includes('\u0000')) throw new ProgrammingError('an identifier cannot contain a NUL (0x00) character');
  return `"${name.replace(/"/g, '""')}"`;
}

/** The tagged template: sql.query`select * from ${sql.Identifier(t)} where id = ${id}`. */
export function query(strings: TemplateStringsArray, ...values: unknown[]): SqlQuery {
  if (!Array.isArray(strings) || !Array.isArray((strings as { raw?: unknown }).raw)) {
    throw new ProgrammingError('sql.query is a tagged template: write sql.query`select ${value}`');
  }
  return new SqlQuery(Array.from(strings), values);
}

// ---------------------------------------------------------------------------------------

type FormatField = string | { kind: 'auto' } | { kind: 'index'; index: number } | { kind: 'name'; name: string };

/** Split a format text into literal runs and fields, as Python's str.format reads it. */
function parseFormat(text: string): FormatField[] {
  const fields: FormatField[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '}') {
      if (text[i + 1] !== '}') throw new ProgrammingError("single '}' in the format text: write '}}' for a brace");
      literal += '}';
      i += 2;
      continue;
    }
    if (c !== '{') {
      literal += c;
      i++;
      continue;
    }
    if (text[i + 1] === '{') {
      literal += '{';
      i += 2;
      continue;
    }
    const close = text.indexOf('}', i + 1);
    if (close === -1) throw new ProgrammingError("single '{' in the format text: write '{{' for a brace");
    const name = text.slice(i + 1, close);
    if (name.includes(':')) throw new ProgrammingError('format specifications ({name:spec}) are not supported by sql.SQL');
    if (name.includes('!')) throw new ProgrammingError('conversions ({name!r}) are not supported by sql.SQL');
    if (name.includes('{')) throw new ProgrammingError(`invalid field {${name}} in the format text`);
    if (literal !== '') fields.push(literal);
    literal = '';
    if (name === '') fields.push({ kind: 'auto' });
    else if (/^\d+$/.test(name)) fields.push({ kind: 'index', index: Number(name) });
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) fields.push({ kind: 'name', name });
    else throw new ProgrammingError(`invalid field {${name}} in the format text: use {}, {0} or {name}`);
    i = close + 1;
  }
  if (literal !== '') fields.push(literal);
  return fields;
}

function toSeparator(separator: string | SQL): SQL {
  if (typeof separator === 'string') return new SQL(separator);
  if (separator instanceof SQL) return separator;
  throw new ProgrammingError('join() takes a string or an sql.SQL as separator');
}

function joinPieces(separator: SQL, pieces: readonly Composable[]): Composed {
  const parts: Composable[] = [];
  pieces.forEach((piece, index) => {
    if (index > 0) parts.push(separator);
    parts.push(piece);
  });
  return new Composed(parts);
}

/** A string as an SQL string constant that reads back the same whatever standard_conforming_strings is. */
function quoteString(text: string, standardConformingStrings: boolean): string {
  if (text.includes('\u0000')) throw new ProgrammingError('PostgreSQL text cannot contain NUL (0x00) characters');
  const quoted = text.replace(/'/g, "''");
  if (!text.includes('\\')) return `'${quoted}'`;
  if (standardConformingStrings) return `'${quoted}'`;
  // the leading space keeps E from joining the word before it, as PQescapeLiteral does
  return ` E'${quoted.replace(/\\/g, '\\\\')}'`;
}

function quoteLiteral(value: unknown, context: RenderContext): string {
  return sqlLiteral(value, {
    adapters: context.adapters,
    typecasters: context.typecasters,
    quote: (text) => quoteString(text, context.standardConformingStrings),
    standalone: true,
  });
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
