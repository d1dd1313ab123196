// node-postgres's Result: { command, rowCount, oid, rows, fields }, rows as objects (or arrays
// with rowMode 'array'), each value through the type parser its column's type has for this
// query (the query's `types`, else the client's, else the process-wide ones).
import { decodedNatively, type CoreField, type CoreResult, type NativeSet } from './driver';
import { getTypeParser, noParse, parseBigInteger, parseDate, type CustomTypesConfig, type TypeParser } from './type-parsers';

export interface FieldDef {
  name: string;
  tableID: number;
  columnID: number;
  dataTypeID: number;
  dataTypeSize: number;
  dataTypeModifier: number;
  format: 'text' | 'binary';
}

export type RowMode = 'array' | undefined;

// the tag's command and its counts: 'INSERT 0 1', 'UPDATE 3', 'CREATE TABLE'
const COMMAND_TAG = /^([A-Za-z]+)(?: (\d+))?(?: (\d+))?/;

const processWideTypes: CustomTypesConfig = { getTypeParser };

/** Column descriptions, made once per list of columns the server described. */
const fieldDefs = new WeakMap<readonly CoreField[], FieldDef[]>();

function fieldDefsOf(fields: readonly CoreField[]): FieldDef[] {
  let defs = fieldDefs.get(fields);
  if (defs === undefined) {
    defs = fields.map((field) => ({
      name: field.name,
      tableID: field.tableOid,
      columnID: field.columnId,
      dataTypeID: field.typeOid,
      dataTypeSize: field.typeSize,
      dataTypeModifier: field.typeModifier,
      format: field.format === 1 ? 'binary' : 'text',
    }));
    fieldDefs.set(fields, defs);
  }
  // each result gets its own list: callers may change it
  return defs.map((def) => ({ ...def }));
}

type ObjectRowMaker = (values: unknown[]) => Record<string, unknown>;
const objectMakers = new WeakMap<readonly CoreField[], ObjectRowMaker>();

/**
 * Rows as objects keyed by column name: one compiled literal per list of columns, its keys
 * in the order the names first appear, a later column of the same name winning (as in
 * node-postgres).
 */
function objectMakerOf(fields: readonly CoreField[]): ObjectRowMaker {
  let make = objectMakers.get(fields);
  if (make === undefined) {
    const last = new Map<string, number>();
    fields.forEach((field, index) => last.set(field.name, index));
    const parts = [...last].map(([name, index]) => `${JSON.stringify(name)}: v[${index}]`);
    // '__proto__' as a computed key is an own property, never the prototype
    const source = [...last].some(([name]) => name === '__proto__')
      ? `return {${[...last].map(([name, index]) => `[${JSON.stringify(name)}]: v[${index}]`).join(', ')}};`
      : `return {${parts.join(', ')}};`;
    make = new Function('v', source) as ObjectRowMaker;
    objectMakers.set(fields, make);
  }
  return make;
}

export class Result<R = Record<string, unknown>> {
  command: string | null = null;
  rowCount: number | null = null;
  oid: number | null = null;
  rows: R[] = [];
  fields: FieldDef[] = [];
  rowAsArray: boolean;
  _parsers: TypeParser[] | undefined;
  _types: CustomTypesConfig | undefined;

  constructor(rowMode?: RowMode | string, types?: CustomTypesConfig) {
    this.rowAsArray = rowMode === 'array';
    this._types = types;
  }

  /** Read the command tag: the command, and the counts it carries. */
  addCommandComplete(tag: string): void {
    const match = COMMAND_TAG.exec(tag);
    if (match === null) return;
    this.command = match[1];
    if (match[3] !== undefined) {
      this.oid = parseInt(match[2], 10);
      this.rowCount = parseInt(match[3], 10);
    } else if (match[2] !== undefined) {
      this.rowCount = parseInt(match[2], 10);
    }
  }

  /** Describe the columns and look up their parsers. */
  addFields(fields: readonly CoreField[]): void {
    this.fields = fieldDefsOf(fields);
    const types = this._types ?? processWideTypes;
    this._parsers = fields.map((field) => types.getTypeParser(field.typeOid, 'text'));
  }

  /**
   * Parse raw rows: arrays of text, but for the columns whose type `native` names, whose
   * values the native layer made as their parser would (only their dates may have stayed
   * text when `otherStyleDates`).
   */
  parseRows(rawRows: unknown[][], fields: readonly CoreField[], native: NativeSet = 0, otherStyleDates = false): R[] {
    const { columns, parses } = this.#toParse(fields, native, otherStyleDates);
    const count = columns.length;
    if (this.rowAsArray) {
      for (let i = 0; i < rawRows.length; i++) parseValues(rawRows[i], columns, parses, count);
      return rawRows as R[];
    }
    const make = objectMakerOf(fields);
    const rows = new Array<R>(rawRows.length);
    for (let i = 0; i < rawRows.length; i++) {
      const row = rawRows[i];
      parseValues(row, columns, parses, count);
      rows[i] = make(row) as R;
    }
    return rows;
  }

  /**
   * Rows the native layer made as objects, every value final; only dates it left as text
   * (`otherStyleDates`) are parsed, under the name their column's value took.
   */
  parseObjectRows(objectRows: Record<string, unknown>[], fields: readonly CoreField[], native: NativeSet, otherStyleDates: boolean): R[] {
    if (!otherStyleDates) return objectRows as R[];
    const { columns, parses } = this.#toParse(fields, native, true);
    for (let k = 0; k < columns.length; k++) {
      const column = columns[k];
      const name = fields[column].name;
      // a later column of the same name took the key
      if (fields.some((field, index) => index > column && field.name === name)) continue;
      for (const row of objectRows) {
        const value = row[name];
        if (value !== null) row[name] = parses[k](value as string);
      }
    }
    return objectRows as R[];
  }

  /** The columns whose values JS must still parse, and their parsers. */
  #toParse(fields: readonly CoreField[], native: NativeSet, otherStyleDates: boolean): { columns: number[]; parses: TypeParser<unknown>[] } {
    const parsers = this._parsers ?? [];
    const columns: number[] = [];
    const parses: TypeParser<unknown>[] = [];
    for (let column = 0; column < parsers.length; column++) {
      const parse = parsers[column];
      if (decodedNatively(native, fields[column].typeOid)) {
        if (otherStyleDates && parse === parseDate) {
          columns.push(column);
          parses.push(parseDateText);
        }
        continue;
      }
      // these leave the text as it came: nothing to do
      if (parse === noParse || parse === parseBigInteger) continue;
      columns.push(column);
      parses.push(parse as TypeParser<unknown>);
    }
    return { columns, parses };
  }

  /** node-postgres's per-row entry point (raw text values in, a parsed row out). */
  parseRow(rowData: unknown[]): R {
    const parsers = this._parsers ?? [];
    const values = rowData.map((value, i) => (value === null ? null : (parsers[i]?.(value as string) ?? value)));
    if (this.rowAsArray) return values as R;
    const row: Record<string, unknown> = {};
    this.fields.forEach((field, i) => (row[field.name] = values[i]));
    return row as R;
  }

  addRow(row: R): void {
    this.rows.push(row);
  }
}

/** A date the native layer left as text (another DateStyle than ISO), through node-postgres's parser; the others as they are. */
function parseDateText(value: unknown): unknown {
  return typeof value === 'string' ? parseDate(value) : value;
}

/** Parse the values of `columns` in one row, in place; NULL stays null. */
function parseValues(row: unknown[], columns: readonly number[], parses: readonly TypeParser<unknown>[], count: number): void {
  for (let k = 0; k < count; k++) {
    const column = columns[k];
    const value = row[column];
    if (value !== null) row[column] = parses[k](value);
  }
}

/** A finished statement as node-postgres's Result; `native` names the columns the native layer decoded. */
export function resultOf<R>(core: CoreResult, rowMode: RowMode | string | undefined, types: CustomTypesConfig | undefined, native: NativeSet): Result<R> {
  const result = new Result<R>(rowMode, types);
  result.addCommandComplete(core.command);
  if (core.fields.length > 0 || core.hasRows) {
    result.addFields(core.fields);
    result.rows = core.objectRows
      ? result.parseObjectRows(core.rows as unknown as Record<string, unknown>[], core.fields, native, core.otherStyleDates)
      : result.parseRows(core.rows, core.fields, native, core.otherStyleDates);
  }
  // node-postgres counts the rows of a SELECT it read, whatever the tag says
  if (result.command === 'SELECT' && result.rowCount === null) result.rowCount = result.rows.length;
  return result;
}
