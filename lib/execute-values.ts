// Bulk statements in the spirit of psycopg2's execute_values: the one `%s` of a statement
// (e.g. `INSERT INTO t (a, b) VALUES %s`) becomes a page of row templates, `($1, $2), ($3,
// $4), ...`, so that many rows take one statement per page. The values stay parameters.
import { MAX_PARAMETERS } from './adapt/adapters';
import { ProgrammingError } from './errors';

/** The template of one row: literal runs, and placeholders by position or by name. */
type TemplatePart = string | { index: number } | { name: string };

export interface ValuesPage {
  text: string;
  values: unknown[];
  rows: number;
}

/** The statements of one call: `count` pages, each built when asked for. */
export interface ValuesPages {
  count: number;
  page(number: number): ValuesPage;
}

/** Split the outer statement at its single `%s`; `%%` stands for `%`. */
function splitStatement(text: string): [string, string] {
  const parts: string[] = [''];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c !== '%') {
      parts[parts.length - 1] += c;
      continue;
    }
    const next = text[i + 1];
    if (next === '%') {
      parts[parts.length - 1] += '%';
    } else if (next === 's') {
      parts.push('');
    } else {
      throw new ProgrammingError(
        "the statement of executeValues() takes a single %s where the rows go (write '%%' for a literal '%'); parameters belong in the template",
      );
    }
    i++;
  }
  if (parts.length !== 2) {
    throw new ProgrammingError(`the statement of executeValues() needs exactly one %s where the rows go, not ${parts.length - 1}`);
  }
  return [parts[0], parts[1]];
}

function parseTemplate(template: string): { parts: TemplatePart[]; positional: number; names: string[] } {
  const parts: TemplatePart[] = [''];
  let positional = 0;
  const names: string[] = [];
  const literal = (text: string) => {
    const last = parts[parts.length - 1];
    if (typeof last === 'string') parts[parts.length - 1] = last + text;
    else parts.push(text);
  };
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c !== '%') {
      literal(c);
      continue;
    }
    const next = template[i + 1];
    if (next === '%') {
      literal('%');
      i++;
    } else if (next === 's') {
      if (names.length > 0) throw mixed();
      parts.push({ index: positional++ });
      i++;
    } else if (next === '(') {
      if (positional > 0) throw mixed();
      const close = template.indexOf(')', i + 2);
      if (close === -1 || template[close + 1] !== 's' || close === i + 2) {
        throw new ProgrammingError(`bad placeholder in the executeValues() template ${JSON.stringify(template)}: write %s or %(name)s`);
      }
      const name = template.slice(i + 2, close);
      if (!names.includes(name)) names.push(name);
      parts.push({ name });
      i = close + 1;
    } else {
      throw new ProgrammingError(`bad placeholder in the executeValues() template ${JSON.stringify(template)}: write %s or %(name)s`);
    }
  }
  if (positional === 0 && names.length === 0) throw new ProgrammingError('the executeValues() template has no placeholder');
  return { parts, positional, names };
}

function mixed(): ProgrammingError {
  return new ProgrammingError('positional (%s) and named (%(name)s) placeholders cannot be mixed in one template');
}

/**
 * The statements that insert `rows`, `pageSize` rows per statement. Every row is checked
 * against the template before any statement is made: a bad row fails the whole call.
 */
export function valuesPages(
  statement: string,
  template: string | undefined,
  rows: Iterable<unknown>,
  pageSize: number,
): ValuesPages {
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new ProgrammingError('pageSize must be a positive integer');
  if (rows === null || rows === undefined || typeof (rows as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw new ProgrammingError('executeValues() takes an iterable of rows');
  }
  const [before, after] = splitStatement(statement);
  const all = Array.from(rows);
  if (all.length === 0) return { count: 0, page: () => ({ text: '', values: [], rows: 0 }) };
  let parsed: ReturnType<typeof parseTemplate>;
  if (template !== undefined) {
    parsed = parseTemplate(template);
  } else {
    const first = all[0];
    if (!Array.isArray(first)) {
      throw new ProgrammingError('rows that are not arrays need a template, e.g. { template: "(%(id)s, %(name)s)" }');
    }
    if (first.length === 0) throw new ProgrammingError('a row needs at least one value');
    parsed = parseTemplate(`(${first.map(() => '%s').join(', ')})`);
  }
  const perRow = parsed.names.length > 0 ? parsed.names.length : parsed.positional;
  if (perRow * Math.min(pageSize, all.length) > MAX_PARAMETERS) {
    throw new ProgrammingError(
      `a page of ${Math.min(pageSize, all.length)} rows of ${perRow} values exceeds PostgreSQL's ${MAX_PARAMETERS} parameters per statement: use a smaller pageSize`,
    );
  }
  // every row is checked now; the statements are built as they are sent
  all.forEach((row, index) => rowValuesOf(row, parsed, index));
  const count = Math.ceil(all.length / pageSize);
  const page = (number: number): ValuesPage => {
    const start = number * pageSize;
    const pageRows = all.slice(start, start + pageSize);
    const values: unknown[] = [];
    const tuples: string[] = [];
    pageRows.forEach((row, offset) => {
      const rowValues = rowValuesOf(row, parsed, start + offset);
      const base = values.length;
      for (const value of rowValues) values.push(value);
      let text = '';
      for (const part of parsed.parts) {
        if (typeof part === 'string') text += part;
        else if ('index' in part) text += `$${base + part.index + 1}`;
        else text += `$${base + parsed.names.indexOf(part.name) + 1}`;
      }
      tuples.push(text);
    });
    return { text: `${before}${tuples.join(',')}${after}`, values, rows: pageRows.length };
  };
  return { count, page };
}

function rowValuesOf(row: unknown, template: ReturnType<typeof parseTemplate>, index: number): unknown[] {
  if (template.names.length > 0) {
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      throw new ProgrammingError(`row ${index} must be an object: the template has named placeholders`);
    }
    return template.names.map((name) => {
      if (!Object.hasOwn(row, name)) throw new ProgrammingError(`row ${index} has no value for %(${name})s`);
      return (row as Record<string, unknown>)[name];
    });
  }
  if (!Array.isArray(row)) throw new ProgrammingError(`row ${index} must be an array: the template has positional placeholders`);
  if (row.length !== template.positional) {
    throw new ProgrammingError(`row ${index} has ${row.length} values but the template has ${template.positional} placeholders`);
  }
  return row;
}
