// The client-side cursor, in the DB-API / psycopg shape: psycopg placeholders, rows fetched
// from the result the server sent, description and rowcount.
import * as errors from './errors';
import { ExecStatus, type NativeResult } from './core/interface';
import type { Connection } from './connection';
import { withCallerStack } from './caller-stack';
import { convertPlaceholders, type QueryParams } from './placeholders';
import { checkRowFactory, type RowFactory } from './rows';
import { resolveQuery, type QueryText } from './query-text';
import { TypecasterRegistry } from './adapt/typecasters';
import { inlineParams } from './inline-params';
import { Composable, quoteIdent } from './sql/compose';
import { valuesPages, type ValuesPage } from './execute-values';
import { Column, CursorBase, describe } from './cursor-base';

export { Column };
import { queryChannel, rowCountOf, trace } from './tracing';

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

/** @internal How a cursor sends a statement: through the connection, or through an explicit pipeline. */
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

export class Cursor<R = unknown[]> extends CursorBase<R> {
  #results: NativeResult[] = [];
  #resultIndex = 0;
  #rows: R[] = [];
  /** execute(), executemany(), callproc() or executeValues() calls not finished */
  #running = 0;
  /** how the last of them ended: what fetching without rows to give says */
  #outcome: 'none' | 'failed' | 'done' = 'none';

  #run: CursorRunner;

  /** @internal use conn.cursor() */
  constructor(conn: Connection, options: CursorOptions = {}, run?: CursorRunner) {
    super(conn);
    const core = this.core;
    this.#run = run ?? ((text, values, prepare, typecasters) => core.run(text, values, undefined, prepare, typecasters));
    if (options.rowFactory !== undefined) this.rowFactory = checkRowFactory(options.rowFactory);
  }

  /**
   * Execute a statement; psycopg placeholders: `%s` with an array, `%(name)s` with an object.
   * `prepare`: true prepares it on the server now, false never; unset, the connection decides.
   */
  async execute(text: QueryText, params?: QueryParams | null, options: ExecuteOptions = {}): Promise<this> {
    this.#begin();
    try {
      this.checkOpen();
      const { query, values } = this.#prepare(text, params);
      this.state.query = query;
      this.state.params = values ?? null;
      await this.#send(query, values, options.prepare, (results) => {
        this.#setResults(results);
        return this;
      });
      this.#outcome = 'done';
      return this;
    } catch (error) {
      this.#outcome = 'failed';
      throw withCallerStack(error);
    } finally {
      this.#running--;
    }
  }

  /**
   * One statement, published on `pqnode:query` when someone listens, its row count read at
   * the end. `apply` takes its results and returns what the call resolves with: inside the
   * span, so that its `result` is that value, in its final state.
   */
  #send<T>(query: string, values: readonly unknown[] | undefined, prepare: boolean | undefined, apply: (results: NativeResult[]) => T): Promise<T> {
    if (!queryChannel.hasSubscribers) return this.#run(query, values, prepare, this.typecasters).then(apply);
    const context = this.core.queryTraceContext(query, values);
    return trace(queryChannel, context, () =>
      this.#run(query, values, prepare, this.typecasters).then((results) => {
        context.rowCount = rowCountOf(results);
        return apply(results);
      }),
    );
  }

  /**
   * The executions of executemany(), all sent at once: the last result of each, or the first
   * failure once all have settled. Published as one span (`batchSize` executions of one
   * statement), as OpenTelemetry's batch operations are, not one per parameter set.
   */
  async #sendBatch(statements: readonly { query: string; values: readonly unknown[] | undefined }[]): Promise<NativeResult[]> {
    const run = async (): Promise<NativeResult[]> => {
      const pending = statements.map(({ query, values }) => this.#run(query, values, undefined, this.typecasters));
      const settled = await Promise.allSettled(pending);
      const failure = settled.find((outcome) => outcome.status === 'rejected');
      if (failure !== undefined) throw (failure as PromiseRejectedResult).reason;
      return settled.map((outcome) => {
        const results = (outcome as PromiseFulfilledResult<NativeResult[]>).value;
        return results[results.length - 1];
      });
    };
    if (statements.length === 0 || !queryChannel.hasSubscribers) return run();
    const context = { ...this.core.queryTraceContext(statements[0].query, statements[0].values), batchSize: statements.length };
    // executemany() resolves with nothing: the span's result is none
    let lastResults: NativeResult[] = [];
    await trace(queryChannel, context, async () => {
      lastResults = await run();
      context.rowCount = totalRows(lastResults);
    });
    return lastResults;
  }

  /**
   * Execute a statement once per parameter set, all of them pipelined. With
   * `returning: true` the result of each execution is kept: the cursor shows the first,
   * nextset() moves to the next (for INSERT ... RETURNING, say).
   */
  async executemany(text: QueryText, paramsSeq: Iterable<QueryParams>, options: ExecuteManyOptions = {}): Promise<void> {
    this.#begin();
    try {
      this.checkOpen();
      if (paramsSeq === null || typeof (paramsSeq as Iterable<unknown>)[Symbol.iterator] !== 'function') {
        throw new errors.ProgrammingError('executemany() takes an iterable of parameter sets');
      }
      // every parameter set is checked before any is sent: a bad one sends nothing
      const statements = Array.from(paramsSeq, (params) => this.#prepare(text, params));
      const lastQuery = statements.length > 0 ? statements[statements.length - 1].query : null;
      const lastResults = await this.#sendBatch(statements);
      const total = totalRows(lastResults);
      this.state.query = lastQuery;
      this.state.params = statements.length > 0 ? (statements[statements.length - 1].values ?? null) : null;
      if (options.returning === true && lastResults.length > 0) {
        this.#setResults(lastResults);
      } else {
        this.#results = [];
        this.#resultIndex = 0;
        this.#rows = [];
        this.state.position = 0;
        this.state.description = null;
        this.state.statusmessage = null;
      }
      this.state.rowcount = lastResults.length === 0 ? -1 : total;
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
      this.checkOpen();
      const routine = routineName(name, this.connection);
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
      this.state.query = text;
      this.state.params = values;
      await this.#send(text, values, undefined, (results) => {
        this.#setResults(results);
        return params;
      });
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
      this.checkOpen();
      const resolved = resolveQuery(text, undefined, this.connection);
      if (resolved.values !== undefined) throw new errors.ProgrammingError('executeValues() takes a statement without parameters of its own');
      let template: string | undefined;
      if (options.template !== undefined) {
        template = options.template instanceof Composable ? options.template.asString(this.connection) : options.template;
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
            // a page is no call of the user's: its span has no result
            await this.#send(page.text, page.values, false, (list) => {
              results[number] = list[list.length - 1];
            });
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
          const factory = this.factory;
          for (const row of this.core.makeResult<R>(result, factory).rows) fetched.push(row);
        }
      }
      this.state.query = last?.text ?? null;
      this.state.params = last?.values ?? null;
      this.#results = [];
      this.#resultIndex = 0;
      this.#rows = [];
      this.state.position = 0;
      this.state.description = null;
      this.state.statusmessage = results.length > 0 ? results[results.length - 1].command : null;
      this.state.rowcount = pages.count === 0 ? -1 : total;
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
    if (this.state.position >= this.#rows.length) return null;
    return this.#rows[this.state.position++];
  }

  async fetchmany(size: number = this.arraysize): Promise<R[]> {
    this.#checkFetch();
    if (!Number.isInteger(size) || size < 0) throw new errors.ProgrammingError('fetchmany() size must be a non-negative integer');
    const rows = this.#rows.slice(this.state.position, this.state.position + size);
    this.state.position += rows.length;
    return rows;
  }

  async fetchall(): Promise<R[]> {
    this.#checkFetch();
    const rows = this.#rows.slice(this.state.position);
    this.state.position = this.#rows.length;
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
    const target = mode === 'relative' ? this.state.position + value : value;
    if (target < 0 || target > this.#rows.length) {
      throw new errors.ProgrammingError(`scroll() position out of bounds: ${target} (the result has ${this.#rows.length} rows)`);
    }
    this.state.position = target;
  }

  /** Move to the next result of a multi-statement query; false when there is none. */
  nextset(): boolean {
    this.checkOpen();
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
    this.checkOpen();
    const { query, values } = this.#prepare(text, params);
    if (values === undefined || values.length === 0) return query;
    return inlineParams(this.connection, query, values);
  }

  async close(): Promise<void> {
    this.markClosed();
    this.#results = [];
    this.#rows = [];
  }

  #prepare(text: QueryText, params: QueryParams | null | undefined): { query: string; values: readonly unknown[] | undefined } {
    const resolved = resolveQuery(text, undefined, this.connection);
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
    this.state.position = 0;
    this.state.description = null;
    this.state.rowcount = -1;
    this.state.statusmessage = null;
  }

  #setResults(results: NativeResult[]): void {
    this.#results = results;
    this.#resultIndex = 0;
    this.#showResult(results[0]);
  }

  #showResult(result: NativeResult): void {
    const factory = this.factory;
    const returnsRows = result.status === ExecStatus.TuplesOk || result.status === ExecStatus.SingleTuple;
    const shaped = this.core.makeResult<R>(result, factory);
    this.#rows = shaped.rows;
    this.state.position = 0;
    this.state.description = returnsRows ? result.fields.map(describe) : null;
    this.state.rowcount = shaped.rowCount ?? -1;
    this.state.statusmessage = result.command;
  }

  #checkFetch(): void {
    if (this.closed) throw new errors.InterfaceError('the cursor is closed');
    if (this.#running > 0) throw new errors.ProgrammingError('no result available yet: execute() has not finished (is it awaited?)');
    if (this.state.description === null) {
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

/** The rows the statements touched, those that say none counted as 0. */
function totalRows(results: readonly NativeResult[]): number {
  let total = 0;
  for (const result of results) total += result.rowCount >= 0 ? result.rowCount : 0;
  return total;
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
