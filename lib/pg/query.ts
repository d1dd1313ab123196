// node-postgres's Query: a query config ({ text, values, name, rowMode, types, ... }) with a
// callback or a promise, and the events 'row', 'end' and 'error'. A client runs it through
// its submit(); other submittables (cursors, streams) have their own.
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';

import { Result, resultOf, type RowMode } from './result';
import type { CustomTypesConfig } from './type-parsers';
import type { CoreResult, NativeSet } from './driver';

export type QueryCallback<R = unknown> = (error: Error | null, result: R) => void;

export interface QueryConfig<I = unknown[]> {
  text: string;
  values?: I;
  /** a prepared statement's name: prepared once per client, reused after */
  name?: string;
  rowMode?: RowMode | string;
  types?: CustomTypesConfig;
  /** 'extended': never the simple protocol (one statement, even without parameters) */
  queryMode?: 'extended';
  query_timeout?: number;
  callback?: QueryCallback;
  [option: string]: unknown;
}

/** A statement whose rows come as they arrive, with backpressure. */
export interface RowStreamHandle {
  /** the final result (rows libpq could not stream come with it) */
  readonly done: Promise<CoreResult>;
  /** stop reading the socket until resume() */
  pause(): void;
  resume(): void;
  /** the reader gave up (`error`: reading failed): the statement is cancelled when that harms nothing else */
  stop(error?: unknown): void;
}

/** A query's results as node-postgres gives them: one Result, or one per statement when there are several. */
export type QueryResults<R = Record<string, unknown>> = Result<R> | Result<R>[];

/** What a client does to run a submittable: the one entry point shared by every kind of query. */
export interface SubmitContext {
  /** Runs the query's statement; resolves with its results as node-postgres gives them (Query.makeResults). */
  run(query: Query): Promise<QueryResults>;
  /** The client's types, or these when given. */
  typesFor(types: CustomTypesConfig | undefined): CustomTypesConfig;
  /** COPY ... FROM STDIN with the data `source` yields; resolves with the rows copied. */
  copyFrom(text: string, source: Readable): Promise<number>;
  /** COPY ... TO STDOUT: its data. */
  copyTo(text: string): Promise<Readable>;
  /**
   * Runs one statement whose rows (every value text) are handed to `onRows` as they arrive;
   * `owner` is what the caller holds for them (a traced span's result).
   */
  stream(text: string, values: readonly unknown[] | undefined, onRows: (result: CoreResult) => void, owner: object): Promise<RowStreamHandle>;
}

/** Anything a client's query() accepts besides text and configs: it is handed the client's context. */
export interface Submittable {
  submit(context: SubmitContext): void;
}

export class Query<R = Record<string, unknown>> extends EventEmitter implements Submittable {
  text: string;
  values: unknown[] | undefined;
  name: string | undefined;
  rowMode: RowMode | string | undefined;
  types: CustomTypesConfig | undefined;
  queryMode: 'extended' | undefined;
  query_timeout: number | undefined;
  callback: QueryCallback<Result<R> | Result<R>[]> | undefined;
  _result: Result<R>;
  _results: Result<R> | Result<R>[] | undefined;
  /** @internal the columns the native layer decoded, as the client ran the query */
  _native: NativeSet = 0;
  /** @internal the parsers in effect, as the client ran the query */
  _parsers: CustomTypesConfig | undefined;

  constructor(config: string | QueryConfig, values?: unknown[] | QueryCallback, callback?: QueryCallback) {
    super();
    const normalized: QueryConfig = typeof config === 'string' ? { text: config } : { ...config };
    if (typeof values === 'function') normalized.callback = values;
    else if (values !== undefined && values !== null) normalized.values = values;
    if (callback !== undefined) normalized.callback = callback;
    this.text = normalized.text;
    this.values = normalized.values as unknown[] | undefined;
    this.name = normalized.name;
    this.rowMode = normalized.rowMode;
    this.types = normalized.types;
    this.queryMode = normalized.queryMode;
    this.query_timeout = normalized.query_timeout;
    this.callback = normalized.callback as QueryCallback<Result<R> | Result<R>[]> | undefined;
    this._result = new Result<R>(this.rowMode, this.types);
  }

  /** The client runs the query; its rows, callback and events follow. */
  submit(context: SubmitContext): void {
    context.run(this as Query).then(
      () => this.handleResults(),
      (error: Error) => this.handleError(error),
    );
  }

  /**
   * @internal The results as node-postgres gives them, made as the statements' results come
   * (a type parser may throw: the query fails with its error).
   */
  makeResults(results: CoreResult[]): QueryResults<R> {
    const types = this._parsers ?? this._result._types;
    const made = results.map((core) => resultOf<R>(core, this.rowMode, types, this._native));
    this._result = made[made.length - 1];
    const shaped = made.length === 1 ? made[0] : made;
    this._results = shaped;
    return shaped;
  }

  /** @internal The rows, callback and events of the results makeResults() made. */
  handleResults(): void {
    const results = this._results as QueryResults<R>;
    if (this.listenerCount('row') > 0) {
      for (const result of Array.isArray(results) ? results : [results]) for (const row of result.rows) this.emit('row', row, result);
    }
    const callback = this.callback;
    if (callback !== undefined) {
      this.callback = undefined;
      callback(null, results);
    }
    this.emit('end', results);
  }

  /** @internal */
  handleError(error: Error): void {
    const callback = this.callback;
    if (callback !== undefined) {
      this.callback = undefined;
      callback(error, undefined as never);
    } else if (this.listenerCount('error') > 0) {
      this.emit('error', error);
    }
  }
}
