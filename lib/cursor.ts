// The client-side cursor, in the DB-API / psycopg shape: psycopg placeholders, rows fetched
// from the result the server sent, description and rowcount.
import * as errors from './errors';
import { coreOf, ExecStatus, type Core, type NativeResult } from './core/interface';
import type { Connection } from './connection';
import { withCallerStack } from './caller-stack';
import { convertPlaceholders, type QueryParams } from './placeholders';
import { checkRowFactory, type Field, type RowFactory } from './rows';
import { resolveQuery, type QueryText } from './query-text';
import { TypecasterRegistry } from './adapt/typecasters';
import { inlineParams } from './inline-params';
import { Oid } from './types/oids';
import { Composable, quoteIdent } from './sql';
import { valuesPages, type ValuesPage } from './execute-values';
import { queryChannel, trace } from './tracing';

/** executeValues() statements in flight at once */
const PAGES_IN_FLIGHT = 32;

export interface ExecuteOptions {
  /** true: prepare the statement now; false: never prepare it; unset: after the connection's prepareThreshold runs */
  prepare?: boolean;
}

export interface ExecuteValuesOptions {
  /** one row's template, e.g. '(%s, %s::int)' or '(%(id)s, %(name)s)'; default: (%s, ...) per value of the first row */
  template?: string | Composable;
  /** rows per statement; default 100 */
  pageSize?: number;
  /** return the rows the statements return (INSERT ... RETURNING) */
  fetch?: boolean;
}

export interface ExecuteManyOptions {
  /** keep each execution's result, to be read through nextset() */
  returning?: boolean;
}

/** How a cursor sends a statement: through the connection, or through an explicit pipeline. */
export type CursorRunner = (
  text: string,
  values: readonly unknown[] | undefined,
  prepare?: boolean,
  typecasters?: TypecasterRegistry,
) => Promise<NativeResult[]>;

export interface CursorOptions {
  /** row shape; tuples (arrays) unless the connection or this option says otherwise */
  rowFactory?: RowFactory;
}

/** One column of `cursor.description`, as DB-API describes it. */
export class Column {
  constructor(
    readonly name: string,
    readonly typeCode: number,
    readonly displaySize: number | null,
    readonly internalSize: number | null,
    readonly precision: number | null,
    readonly scale: number | null,
    readonly nullOk: boolean | null,
    readonly tableOid: number | null,
    readonly tableColumn: number | null,
  ) {}
}

/** @internal a DB-API column description of a result field */
export function describe(field: Field): Column {
  const { typeOid, typeModifier, typeSize } = field;
  let displaySize: number | null = null;
  let precision: number | null = null;
  let scale: number | null = null;
  if (typeOid === Oid.numeric && typeModifier >= 4) {
    precision = ((typeModifier - 4) >> 16) & 0xffff;
    scale = (typeModifier - 4) & 0xffff;
    displaySize = precision + (scale > 0 ? 1 : 0) + 1;
  } else if ((typeOid === Oid.varchar || typeOid === Oid.bpchar) && typeModifier >= 4) {
    displaySize = typeModifier - 4;
  } else if (
    (typeOid === Oid.time || typeOid === Oid.timetz || typeOid === Oid.timestamp || typeOid === Oid.timestamptz) &&
    typeModifier >= 0
  ) {
    precision = typeModifier;
  }
  return new Column(
    field.name,
    typeOid,
    displaySize,
    typeSize > 0 ? typeSize : null,
    precision,
    scale,
    null,
    field.tableOid === 0 ? null : field.tableOid,
    field.columnId === 0 ? null : field.columnId,
  );
}

export class Cursor<R = unknown[]> implements AsyncIterable<R> {
  /** rows fetchmany() returns when given no size */
  arraysize = 1;
  rowFactory: RowFactory | undefined;

  #conn: Connection;
  #core: Core;
  #closed = false;
  #results: NativeResult[] = [];
  #resultIndex = 0;
  #rows: R[] = [];
  #position = 0;
  #description: Column[] | null = null;
  #rowcount = -1;
  #statusmessage: string | null = null;
  #query: string | null = null;
  #params: readonly unknown[] | null = null;
  /** execute(), executemany(), callproc() or executeValues() calls not finished */
  #running = 0;
  /** how the last of them ended: what fetching without rows to give says */
  #outcome: 'none' | 'failed' | 'done' = 'none';

  #run: CursorRunner;

  /**
   * This cursor's typecasters: what is set here applies to its results only, over the
   * connection's and the global ones (psycopg 3's cursor.adapters).
   */
  readonly typecasters: TypecasterRegistry;

  /** @internal use conn.cursor() */
  constructor(conn: Connection, options: CursorOptions = {}, run?: CursorRunner) {
    const core = coreOf(conn);
    this.#conn = conn;
    this.#core = core;
    this.typecasters = new TypecasterRegistry(conn.typecasters);
    this.#run = run ?? ((text, values, prepare, typecasters) => core.run(text, values, undefined, prepare, typecasters));
    if (options.rowFactory !== undefined) this.rowFactory = checkRowFactory(options.rowFactory);
  }

  get connection(): Connection {
    return this.#conn;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** the columns of the current result; null when the statement returned no rows */
  get description(): Column[] | null {
    return this.#description;
  }

  /** rows returned or affected by the last statement; -1 when unknown */
  get rowcount(): number {
    return this.#rowcount;
  }

  /** index of the next row to fetch; null before any result */
  get rownumber(): number | null {
    return this.#description === null ? null : this.#position;
  }

  /** the command tag of the last statement, e.g. 'INSERT 0 1' */
  get statusmessage(): string | null {
    return this.#statusmessage;
  }

  /** the text last sent to the server (with $n placeholders) */
  get query(): string | null {
    return this.#query;
  }

  /** the parameters last sent with it */
  get params(): readonly unknown[] | null {
    return this.#params;
  }

  /**
   * Execute a statement; psycopg placeholders: `%s` with an array, `%(name)s` with an object.
   * `prepare`: true prepares it on the server now, false never; unset, the connection decides.
   */
  async execute(text: QueryText, params?: QueryParams | null, options: ExecuteOptions = {}): Promise<this> {
    this.#begin();
    try {
      this.#checkOpen();
      const { query, values } = this.#prepare(text, params);
      this.#query = query;
      this.#params = values ?? null;
      const results = queryChannel.hasSubscribers
        ? await this.#tracedRun(query, values, options.prepare)
        : await this.#run(query, values, options.prepare, this.typecasters);
      this.#setResults(results);
      this.#outcome = 'done';
      return this;
    } catch (error) {
      this.#outcome = 'failed';
      throw withCallerStack(error);
    } finally {
      this.#running--;
    }
  }

  /** One statement published on `pqnode:query`, its row count read at the end. */
  #tracedRun(query: string, values: readonly unknown[] | undefined, prepare: boolean | undefined): Promise<NativeResult[]> {
    const context = this.#core.queryTraceContext(query, values);
    return trace(queryChannel, context, () => this.#run(query, values, prepare, this.typecasters), (done, results) => {
      done.rowCount = results[results.length - 1]?.rowCount ?? null;
    });
  }

  /**
   * Execute a statement once per parameter set, all of them pipelined. With
   * `returning: true` the result of each execution is kept: the cursor shows the first,
   * nextset() moves to the next (for INSERT ... RETURNING, say).
   */
  async executemany(text: QueryText, paramsSeq: Iterable<QueryParams>, options: ExecuteManyOptions = {}): Promise<void> {
    this.#begin();
    try {
      this.#checkOpen();
      if (paramsSeq === null || typeof (paramsSeq as Iterable<unknown>)[Symbol.iterator] !== 'function') {
        throw new errors.ProgrammingError('executemany() takes an iterable of parameter sets');
      }
      // every parameter set is checked before any is sent: a bad one sends nothing
      const statements = Array.from(paramsSeq, (params) => this.#prepare(text, params));
      const pending = statements.map(({ query, values }) => this.#run(query, values, undefined, this.typecasters));
      const lastQuery = statements.length > 0 ? statements[statements.length - 1].query : null;
      const settled = await Promise.allSettled(pending);
      const failure = settled.find((outcome) => outcome.status === 'rejected');
      if (failure !== undefined) throw (failure as PromiseRejectedResult).reason;
      let total = 0;
      const lastResults: NativeResult[] = [];
      for (const outcome of settled) {
        const results = (outcome as PromiseFulfilledResult<NativeResult[]>).value;
        const last = results[results.length - 1];
        lastResults.push(last);
        total += last.rowCount >= 0 ? last.rowCount : 0;
      }
      this.#query = lastQuery;
      this.#params = statements.length > 0 ? (statements[statements.length - 1].values ?? null) : null;
      if (options.returning === true && lastResults.length > 0) {
        this.#setResults(lastResults);
      } else {
        this.#results = [];
        this.#resultIndex = 0;
        this.#rows = [];
        this.#position = 0;
        this.#description = null;
        this.#statusmessage = null;
      }
      this.#rowcount = settled.length === 0 ? -1 : total;
      this.#outcome = 'done';
    } catch (error) {
      this.#outcome = 'failed';
      throw withCallerStack(error);
    } finally {
      this.#running--;
    }
  }

  /**
   * Call a function or procedure (`SELECT * FROM name(...)`) as DB-API's callproc does:
   * an array passes arguments by position, an object by name (`name => value`). Resolves
   * with the parameters; the rows are fetched from the cursor.
   */
  async callproc<P extends readonly unknown[] | Record<string, unknown> | undefined>(name: string | Composable, params?: P): Promise<P> {
    this.#begin();
    try {
      this.#checkOpen();
      const routine = routineName(name, this.#conn);
      let args: string;
      let values: readonly unknown[] = [];
      if (params === undefined || params === null) {
        args = '';
      } else if (Array.isArray(params)) {
        args = params.map((_, index) => `$${index + 1}`).join(', ');
        values = params;
      } else if (typeof params === 'object') {
        const keys = Object.keys(params);
        args = keys.map((key, index) => `${quoteIdent(key)} => $${index + 1}`).join(', ');
        values = keys.map((key) => (params as Record<string, unknown>)[key]);
      } else {
        throw new errors.ProgrammingError('callproc() parameters must be an array or an object');
      }
      const text = `SELECT * FROM ${routine}(${args})`;
      this.#query = text;
      this.#params = values;
      this.#setResults(await this.#run(text, values, undefined, this.typecasters));
      this.#outcome = 'done';
      return params as P;
    } catch (error) {
      this.#outcome = 'failed';
      throw withCallerStack(error);
    } finally {
      this.#running--;
    }
  }

  /**
   * Insert (or otherwise use) many rows with one statement per page, as psycopg2's
   * execute_values: the single `%s` of `text` becomes `pageSize` (default 100) row
   * templates, `(%s, %s, ...)` unless `template` says otherwise (`(%(id)s, %(name)s)` for
   * objects). With `fetch: true` the rows the statements return are collected and returned.
   */
  async executeValues(text: QueryText, rows: Iterable<unknown>, options: ExecuteValuesOptions = {}): Promise<R[]> {
    this.#begin();
    try {
      this.#checkOpen();
      const resolved = resolveQuery(text, undefined, this.#conn);
      if (resolved.values !== undefined) throw new errors.ProgrammingError('executeValues() takes a statement without parameters of its own');
      let template: string | undefined;
      if (options.template !== undefined) {
        template = options.template instanceof Composable ? options.template.asString(this.#conn) : options.template;
        if (typeof template !== 'string') throw new errors.ProgrammingError('the executeValues() template must be a string or an sql object');
      }
      const pages = valuesPages(resolved.text, template, rows, options.pageSize ?? 100);
      // Pages are pipelined, a window of them in flight at a time: memory holds a window's
      // statements, not all of them, and after a failure no more pages are sent.
      const results = new Array<NativeResult>(pages.count);
      let next = 0;
      let failed = false;
      let failure: unknown;
      let last: ValuesPage | undefined;
      const worker = async (): Promise<void> => {
        while (next < pages.count && !failed) {
          const number = next++;
          try {
            const page = pages.page(number);
            last = page;
            // bulk statements vary in length and parameter types: not worth preparing each
            const list = await this.#run(page.text, page.values, false, this.typecasters);
            results[number] = list[list.length - 1];
          } catch (error) {
            if (!failed) failure = error;
            failed = true;
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(PAGES_IN_FLIGHT, pages.count) }, worker));
      if (failed) throw failure;
      const fetched: R[] = [];
      let total = 0;
      for (const result of results) {
        total += result.rowCount >= 0 ? result.rowCount : 0;
        if (options.fetch === true && result.status === ExecStatus.TuplesOk) {
          const factory = this.rowFactory ?? this.#conn.rowFactory ?? 'tuple';
          for (const row of this.#core.makeResult<R>(result, factory).rows) fetched.push(row);
        }
      }
      this.#query = last?.text ?? null;
      this.#params = last?.values ?? null;
      this.#results = [];
      this.#resultIndex = 0;
      this.#rows = [];
      this.#position = 0;
      this.#description = null;
      this.#statusmessage = results.length > 0 ? results[results.length - 1].command : null;
      this.#rowcount = pages.count === 0 ? -1 : total;
      this.#outcome = 'done';
      return fetched;
    } catch (error) {
      this.#outcome = 'failed';
      throw withCallerStack(error);
    } finally {
      this.#running--;
    }
  }

  async fetchone(): Promise<R | null> {
    this.#checkFetch();
    if (this.#position >= this.#rows.length) return null;
    return this.#rows[this.#position++];
  }

  async fetchmany(size: number = this.arraysize): Promise<R[]> {
    this.#checkFetch();
    if (!Number.isInteger(size) || size < 0) throw new errors.ProgrammingError('fetchmany() size must be a non-negative integer');
    const rows = this.#rows.slice(this.#position, this.#position + size);
    this.#position += rows.length;
    return rows;
  }

  async fetchall(): Promise<R[]> {
    this.#checkFetch();
    const rows = this.#rows.slice(this.#position);
    this.#position = this.#rows.length;
    return rows;
  }

  /**
   * Move the position in the result: by `value` rows from where it is ('relative', the
   * default) or to row `value` ('absolute'). Out of the result's bounds is an error.
   */
  scroll(value: number, mode: 'relative' | 'absolute' = 'relative'): void {
    this.#checkFetch();
    if (!Number.isInteger(value)) throw new errors.ProgrammingError('scroll() takes an integer number of rows');
    if (mode !== 'relative' && mode !== 'absolute') {
      throw new errors.ProgrammingError(`scroll() mode must be 'relative' or 'absolute', not ${JSON.stringify(mode)}`);
    }
    const target = mode === 'relative' ? this.#position + value : value;
    if (target < 0 || target > this.#rows.length) {
      throw new errors.ProgrammingError(`scroll() position out of bounds: ${target} (the result has ${this.#rows.length} rows)`);
    }
    this.#position = target;
  }

  /** Move to the next result of a multi-statement query; false when there is none. */
  nextset(): boolean {
    this.#checkOpen();
    if (this.#resultIndex + 1 >= this.#results.length) return false;
    this.#resultIndex++;
    this.#showResult(this.#results[this.#resultIndex]);
    return true;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<R> {
    for (;;) {
      const row = await this.fetchone();
      if (row === null) return;
      yield row;
    }
  }

  /** The statement with its parameters quoted in, for logs and debugging (never sent this way). */
  mogrify(text: QueryText, params?: QueryParams | null): string {
    this.#checkOpen();
    const { query, values } = this.#prepare(text, params);
    if (values === undefined || values.length === 0) return query;
    return inlineParams(this.#conn, query, values);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#results = [];
    this.#rows = [];
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #prepare(text: QueryText, params: QueryParams | null | undefined): { query: string; values: readonly unknown[] | undefined } {
    const resolved = resolveQuery(text, undefined, this.#conn);
    if (resolved.composed) {
      if (resolved.values !== undefined) {
        if (params !== undefined && params !== null) throw new errors.ProgrammingError('this query carries its own parameters: pass no others');
        return { query: resolved.text, values: resolved.values };
      }
    }
    if (params === undefined || params === null) return { query: resolved.text, values: undefined };
    const converted = convertPlaceholders(resolved.text, params);
    return { query: converted.text, values: converted.values };
  }

  /**
   * A statement begins: the previous result goes, so that rows fetched before it finishes,
   * or after it failed, are never the previous statement's (psycopg resets it too).
   */
  #begin(): void {
    this.#running++;
    this.#results = [];
    this.#resultIndex = 0;
    this.#rows = [];
    this.#position = 0;
    this.#description = null;
    this.#rowcount = -1;
    this.#statusmessage = null;
  }

  #setResults(results: NativeResult[]): void {
    this.#results = results;
    this.#resultIndex = 0;
    this.#showResult(results[0]);
  }

  #showResult(result: NativeResult): void {
    const factory = this.rowFactory ?? this.#conn.rowFactory ?? 'tuple';
    const returnsRows = result.status === ExecStatus.TuplesOk || result.status === ExecStatus.SingleTuple;
    const shaped = this.#core.makeResult<R>(result, factory);
    this.#rows = shaped.rows;
    this.#position = 0;
    this.#description = returnsRows ? result.fields.map(describe) : null;
    this.#rowcount = shaped.rowCount ?? -1;
    this.#statusmessage = result.command;
  }

  #checkOpen(): void {
    if (this.#closed) throw new errors.InterfaceError('the cursor is closed');
    if (this.#conn.closed) {
      throw this.#conn.broken ? new errors.OperationalError('the connection is lost') : new errors.InterfaceError('the connection is closed');
    }
  }

  #checkFetch(): void {
    if (this.#closed) throw new errors.InterfaceError('the cursor is closed');
    if (this.#running > 0) throw new errors.ProgrammingError('no result available yet: execute() has not finished (is it awaited?)');
    if (this.#description === null) {
      throw new errors.ProgrammingError(
        this.#outcome === 'none'
          ? 'no result available: nothing was executed on this cursor yet'
          : this.#outcome === 'failed'
            ? 'no result available: the last statement failed'
            : 'no results to fetch: the last statement returned no rows',
      );
    }
  }
}

/** A routine name for callproc(): a plain (possibly schema-qualified) name, or an sql object. */
function routineName(name: string | Composable, conn: Connection): string {
  if (name instanceof Composable) return name.asString(conn);
  if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/.test(name)) {
    throw new errors.ProgrammingError(
      `callproc() takes a plain function name such as 'fn' or 'schema.fn', not ${JSON.stringify(name)}: use sql.Identifier() for other names`,
    );
  }
  return name;
}
