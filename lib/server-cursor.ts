// The server-side (named) cursor: the result stays on the server, DECLAREd there, and comes
// over in FETCHes of `itersize` rows, so memory stays flat however many rows there are.
import * as errors from './errors';
import { ExecStatus, type NativeResult } from './core/interface';
import type { Connection } from './connection';
import { callSite, withCallerStack } from './caller-stack';
import { convertPlaceholders, type QueryParams } from './placeholders';
import { checkRowFactory, type RowFactory } from './rows';
import { resolveQuery, type QueryText } from './query-text';
import { CursorBase, describe } from './cursor-base';
import { quoteIdent } from './sql/compose';
import { queryChannel, rowCountOf, trace } from './tracing';

export interface ServerCursorOptions {
  /** the cursor's name on the server */
  name: string;
  /** rows per FETCH when iterating; default 100 */
  itersize?: number;
  /** true: SCROLL (scroll backwards too); false: NO SCROLL; unset: the server's default */
  scrollable?: boolean | null;
  /** WITH HOLD: the cursor outlives the transaction that declared it (and may be declared in autocommit) */
  withhold?: boolean;
  rowFactory?: RowFactory;
}

const DEFAULT_ITERSIZE = 100;

export class ServerCursor<R = unknown[]> extends CursorBase<R> {
  readonly name: string;
  readonly scrollable: boolean | null;
  readonly withhold: boolean;

  #itersize: number;
  /** whether a cursor of this name was declared by this object and not closed since */
  #declared = false;
  /** execute() calls not finished */
  #running = 0;
  #fields: NativeResult['fields'] = [];
  /** the statement declared, as `pqnode:query` shows every command on the cursor */
  #traceStatement: { query: string; parameterCount: number } = { query: '', parameterCount: 0 };

  /** @internal use conn.cursor({ name }) */
  constructor(conn: Connection, options: ServerCursorOptions) {
    if (typeof options.name !== 'string' || options.name === '') {
      throw new errors.ProgrammingError('a server-side cursor needs a name (a non-empty string)');
    }
    quoteIdent(options.name);
    super(conn);
    this.name = options.name;
    this.#itersize = checkItersize(options.itersize ?? DEFAULT_ITERSIZE);
    if (options.scrollable !== undefined && options.scrollable !== null && typeof options.scrollable !== 'boolean') {
      throw new errors.ProgrammingError('scrollable must be true, false or null');
    }
    this.scrollable = options.scrollable ?? null;
    this.withhold = options.withhold === true;
    if (options.rowFactory !== undefined) this.rowFactory = checkRowFactory(options.rowFactory);
  }

  /** rows fetched per FETCH when iterating */
  get itersize(): number {
    return this.#itersize;
  }

  set itersize(size: number) {
    this.#itersize = checkItersize(size);
  }

  /**
   * DECLARE the cursor for `text` (psycopg placeholders) on the server. Without withhold it
   * lives in the transaction that declares it, opened if none is (autocommit refuses it).
   * A cursor this object declared before is closed first.
   */
  async execute(text: QueryText, params?: QueryParams | null): Promise<this> {
    const site = callSite();
    this.#running++;
    try {
      this.checkOpen();
      const resolved = resolveQuery(text, undefined, this.connection);
      let query = resolved.text;
      let values: readonly unknown[] | undefined = resolved.values;
      if (values !== undefined) {
        if (params !== undefined && params !== null) throw new errors.ProgrammingError('this query carries its own parameters: pass no others');
      } else if (params !== undefined && params !== null) {
        const converted = convertPlaceholders(query, params);
        query = converted.text;
        values = converted.values;
      }
      if (this.#declared) await this.#closeOnServer();
      const scroll = this.scrollable === null ? '' : this.scrollable ? 'SCROLL ' : 'NO SCROLL ';
      const declare = `DECLARE ${quoteIdent(this.name)} ${scroll}CURSOR ${this.withhold ? 'WITH HOLD ' : ''}FOR ${query}`;
      this.state.query = declare;
      this.state.params = values ?? null;
      this.state.description = null;
      this.state.rowcount = -1;
      this.#traceStatement = { query, parameterCount: values?.length ?? 0 };
      const head = declare.slice(0, declare.length - query.length - 1);
      const declared = ([declareResults, description]: [NativeResult[], NativeResult[]]): this => {
        this.state.statusmessage = declareResults[declareResults.length - 1].command;
        this.#fields = description[description.length - 1].fields;
        this.state.description = this.#fields.map(describe);
        this.state.position = 0;
        this.state.rowcount = 0;
        return this;
      };
      return queryChannel.hasSubscribers
        ? await this.#traced(head, () => this.#declare(declare, values), ([declareResults]) => declareResults, declared)
        : declared(await this.#declare(declare, values));
    } catch (error) {
      throw withCallerStack(error, site);
    } finally {
      this.#running--;
    }
  }

  /** DECLARE, and the description of the rows to come; the cursor counts as declared once DECLARE ran. */
  async #declare(declare: string, values: readonly unknown[] | undefined): Promise<[NativeResult[], NativeResult[]]> {
    // Both leave together: FETCH FORWARD 0 on a cursor just declared returns no row, only
    // the description of the rows to come.
    const declared = this.core.run(declare, values, undefined, false);
    const described = this.core.run(`FETCH FORWARD 0 FROM ${quoteIdent(this.name)}`, undefined, undefined, false, this.typecasters);
    const [declareResults] = await Promise.all([declared, described.catch(() => null)]);
    this.#declared = true;
    return [declareResults, await described];
  }

  /**
   * A command on the cursor published on `pqnode:query`: `query` is the cursor's statement
   * (what an APM groups by: a FETCH is where the statement's work is done), `cursorCommand`
   * what went to the server for it, `rowCount` the rows it fetched or moved over. `apply`
   * makes what the call resolves with, inside the span: its `result`.
   */
  #traced<V, T>(command: string, run: () => Promise<V>, resultsOf: (value: V) => readonly NativeResult[], apply: (value: V) => T): Promise<T> {
    const { query, parameterCount } = this.#traceStatement;
    const context = { ...this.core.queryTraceContext(query, undefined), parameterCount, cursor: this.name, cursorCommand: command };
    return trace(queryChannel, context, () =>
      run().then((value) => {
        context.rowCount = rowCountOf(resultsOf(value));
        return apply(value);
      }),
    );
  }

  async executemany(): Promise<never> {
    throw new errors.NotSupportedError('executemany() is not supported by server-side cursors');
  }

  async fetchone(): Promise<R | null> {
    const site = callSite();
    try {
      return await this.#fetch('FORWARD 1', (rows) => (rows.length > 0 ? rows[0] : null));
    } catch (error) {
      throw withCallerStack(error, site);
    }
  }

  async fetchmany(size: number = this.arraysize): Promise<R[]> {
    const site = callSite();
    try {
      if (!Number.isInteger(size) || size < 0) throw new errors.ProgrammingError('fetchmany() size must be a non-negative integer');
      if (size === 0) {
        this.#checkFetch();
        return [];
      }
      return await this.#fetch(`FORWARD ${size}`, allRows);
    } catch (error) {
      throw withCallerStack(error, site);
    }
  }

  async fetchall(): Promise<R[]> {
    const site = callSite();
    try {
      return await this.#fetch('FORWARD ALL', allRows);
    } catch (error) {
      throw withCallerStack(error, site);
    }
  }

  /** The rows from the position on, `itersize` per FETCH. */
  async *[Symbol.asyncIterator](): AsyncIterator<R> {
    for (;;) {
      const size = this.#itersize;
      const rows = await this.fetchmany(size);
      for (const row of rows) yield row;
      if (rows.length < size) return;
    }
  }

  /**
   * Move the position with MOVE: by `value` rows ('relative', the default) or to row
   * `value` ('absolute'). Going backwards needs a SCROLL cursor.
   */
  async scroll(value: number, mode: 'relative' | 'absolute' = 'relative'): Promise<void> {
    const site = callSite();
    try {
      this.#checkFetch();
      if (!Number.isInteger(value)) throw new errors.ProgrammingError('scroll() takes an integer number of rows');
      if (mode !== 'relative' && mode !== 'absolute') {
        throw new errors.ProgrammingError(`scroll() mode must be 'relative' or 'absolute', not ${JSON.stringify(mode)}`);
      }
      const target = mode === 'relative' ? this.state.position + value : value;
      if (target < 0) throw new errors.ProgrammingError(`scroll() position out of bounds: ${target}`);
      // MOVE ABSOLUTE n stands on row n (1-based): the next FETCH gives row n + 1
      const how = mode === 'absolute' ? `ABSOLUTE ${value}` : `RELATIVE ${value}`;
      const move = `MOVE ${how} FROM ${quoteIdent(this.name)}`;
      // scroll() resolves with nothing: the span's result is none
      const moved = (): void => {
        this.state.position = target;
      };
      if (queryChannel.hasSubscribers) {
        await this.#traced(move, () => this.core.run(move, undefined, undefined, false), resultsOfCommand, moved);
      } else {
        await this.core.run(move, undefined, undefined, false);
        moved();
      }
    } catch (error) {
      throw withCallerStack(error, site);
    }
  }

  /** CLOSE the cursor on the server (unless it already ended with its transaction). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.markClosed();
    const site = callSite();
    try {
      if (this.#declared) await this.#closeOnServer();
    } catch (error) {
      throw withCallerStack(error, site);
    }
  }

  async #closeOnServer(): Promise<void> {
    this.#declared = false;
    const conn = this.connection;
    const core = this.core;
    if (conn.closed) return;
    const status = conn.info.transactionStatus;
    // a cursor without hold died with its transaction; an aborted transaction takes no CLOSE
    if (status === 'inerror' || (!this.withhold && status === 'idle')) return;
    // It may have ended with a transaction since committed, and the one open now is another:
    // a CLOSE of a cursor that is not there would abort it.
    const exists = await core.run('SELECT 1 FROM pg_catalog.pg_cursors WHERE name = $1', [this.name], undefined, false);
    if (exists[exists.length - 1].rows.length === 0) return;
    await core.control(`CLOSE ${quoteIdent(this.name)}`, undefined);
  }

  /** FETCH, the position moved on; `pick` makes what the call resolves with from the rows (the span's result). */
  async #fetch<T>(how: string, pick: (rows: R[]) => T): Promise<T> {
    this.#checkFetch();
    const fetch = `FETCH ${how} FROM ${quoteIdent(this.name)}`;
    const fetched = (results: NativeResult[]): T => {
      const result = results[results.length - 1];
      if (result.status !== ExecStatus.TuplesOk) throw new errors.InterfaceError(`FETCH returned ${result.command}`);
      const factory = this.factory;
      const shaped = this.core.makeResult<R>(result, factory);
      this.state.position += shaped.rows.length;
      this.state.rowcount += shaped.rows.length;
      return pick(shaped.rows);
    };
    return queryChannel.hasSubscribers
      ? await this.#traced(fetch, () => this.core.run(fetch, undefined, undefined, false, this.typecasters), resultsOfCommand, fetched)
      : fetched(await this.core.run(fetch, undefined, undefined, false, this.typecasters));
  }

  #checkFetch(): void {
    this.checkOpen();
    if (this.#running > 0) throw new errors.ProgrammingError('no result available yet: execute() has not finished (is it awaited?)');
    if (!this.#declared || this.state.description === null) throw new errors.ProgrammingError('no results to fetch: call execute() first');
  }
}

/** what fetchmany() and fetchall() resolve with: the rows fetched */
function allRows<R>(rows: R[]): R[] {
  return rows;
}

/** the results a FETCH or MOVE span counts the rows of: its own */
function resultsOfCommand(results: NativeResult[]): NativeResult[] {
  return results;
}

function checkItersize(size: unknown): number {
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1) {
    throw new errors.ProgrammingError('itersize must be a positive integer');
  }
  return size;
}
