// pg-cursor's Cursor: `client.query(new Cursor(text, values, config))`, then read(n) for the
// next n rows (fewer, then none, at the end) and close(). Built on pqnode's row streaming:
// the rows come as the server sends them and are buffered; when nobody asks for more, the
// connection stops reading the socket, and TCP holds the server back.
import { EventEmitter } from 'node:events';

import type { CoreResult } from './driver';
import { Result, type RowMode } from './result';
import type { QueryCallback, RowStreamHandle, SubmitContext, Submittable } from './query';
import type { CustomTypesConfig } from './type-parsers';

export interface CursorConfig {
  rowMode?: RowMode | string;
  types?: CustomTypesConfig;
  Promise?: PromiseConstructor;
  [option: string]: unknown;
}

type ReadCallback<R> = (error: Error | null, rows: R[], result?: Result<R>) => void;

interface PendingRead<R> {
  count: number;
  callback: ReadCallback<R>;
}

/** rows kept ahead of the reader at least, before the connection stops reading */
const MIN_READ_AHEAD = 100;

export class Cursor<R = Record<string, unknown>> extends EventEmitter implements Submittable {
  readonly text: string;
  readonly values: unknown[] | null;
  readonly _conf: CursorConfig;
  _result: Result<R>;
  state: 'initialized' | 'submitted' | 'idle' | 'busy' | 'done' | 'error' = 'initialized';

  readonly #Promise: PromiseConstructor;
  #context: SubmitContext | undefined;
  #handle: RowStreamHandle | undefined;
  #buffer: R[] = [];
  #pending: PendingRead<R>[] = [];
  #paused = false;
  #finished = false;
  #closing = false;
  #error: Error | undefined;
  #described = false;
  #readAhead = MIN_READ_AHEAD;
  #closeWaiters: (() => void)[] = [];
  /**
   * @internal What the caller holds for these rows: this cursor, the QueryStream reading through it, or
   * the pg-cursor / pg-query-stream object it stands in for (a traced span's result).
   */
  _owner: object = this;

  constructor(text: string, values?: unknown[] | null, config?: CursorConfig) {
    super();
    this._conf = config ?? {};
    this.text = text;
    this.values = values ?? null;
    this._result = new Result<R>(this._conf.rowMode, this._conf.types);
    this.#Promise = this._conf.Promise ?? Promise;
  }

  submit(context: SubmitContext): void {
    this.state = 'submitted';
    this.#context = context;
    this._result._types = context.typesFor(this._conf.types ?? this._result._types);
    context.stream(this.text, this.values ?? undefined, (result) => this.#onRows(result), this._owner).then(
      (handle) => {
        this.#handle = handle;
        if (this.#closing) this.#abandon();
        else if (this.#paused) handle.pause();
        handle.done.then(
          (result) => this.#onEnd(result),
          (error: Error) => this.#onError(error),
        );
      },
      (error: Error) => this.#onError(error),
    );
  }

  #onRows(result: CoreResult): void {
    if (this.#closing) return;
    if (!this.#described) {
      this.#described = true;
      this._result.addFields(result.fields);
      if (this.state === 'submitted') this.state = 'idle';
    }
    let rows: R[];
    try {
      rows = this._result.parseRows(result.rows, result.fields);
    } catch (error) {
      this.#onError(error as Error);
      this.#abandon(error);
      return;
    }
    for (const row of rows) {
      this.emit('row', row, this._result);
      this.#buffer.push(row);
    }
    this.#serve();
    if (this.#buffer.length >= this.#readAhead && this.#pending.length === 0 && !this.#paused && !this.#finished) {
      this.#paused = true;
      this.#handle?.pause();
    }
  }

  /** The statement ended: the connection must read on for what follows it. */
  #resumeAfterEnd(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#handle?.resume();
  }

  #onEnd(result: CoreResult): void {
    this.#resumeAfterEnd();
    if (this.#closing) {
      this.#settleClose();
      return;
    }
    // rows libpq could not stream come with the final result
    if (result.rows.length > 0 || !this.#described) this.#onRows(result);
    this._result.addCommandComplete(result.command);
    this.#finished = true;
    this.#serve();
  }

  #onError(error: Error): void {
    this.#resumeAfterEnd();
    if (this.#closing) {
      this.#settleClose();
      return;
    }
    if (this.state === 'error' || this.state === 'done') return;
    this.state = 'error';
    this.#error = error;
    this.#finished = true;
    const pending = this.#pending;
    this.#pending = [];
    for (const read of pending) read.callback(error, []);
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  /** Hand the rows asked for, in order, as far as the buffer goes. */
  #serve(): void {
    while (this.#pending.length > 0) {
      const read = this.#pending[0];
      if (this.#buffer.length < read.count && !this.#finished) break;
      this.#pending.shift();
      const rows = this.#buffer.splice(0, read.count);
      this._result.rows = rows;
      const result = this._result;
      setImmediate(() => read.callback(null, rows, result));
      if (this.#finished && this.#buffer.length === 0 && this.state !== 'done') {
        this.state = 'done';
        setImmediate(() => this.emit('end', this._result));
      }
    }
    if (this.#pending.length > 0 && this.#paused) {
      this.#paused = false;
      this.#handle?.resume();
    }
  }

  read(count: number): Promise<R[]>;
  read(count: number, callback: ReadCallback<R>): void;
  read(count: number, callback?: ReadCallback<R>): Promise<R[]> | void {
    let promise: Promise<R[]> | undefined;
    let settle = callback;
    if (settle === undefined) {
      promise = new this.#Promise<R[]>((resolve, reject) => {
        settle = (error, rows) => (error ? reject(error) : resolve(rows));
      });
    }
    const done = settle as ReadCallback<R>;
    if (this.state === 'error') {
      const error = this.#error as Error;
      setImmediate(() => done(error, []));
    } else if (this.state === 'done' || this.#closing) {
      setImmediate(() => done(null, []));
    } else {
      const wanted = Math.max(1, Math.floor(count) || 1);
      this.#readAhead = Math.max(MIN_READ_AHEAD, wanted);
      this.#pending.push({ count: wanted, callback: done });
      if (this.state !== 'initialized') this.#serve();
    }
    return promise;
  }

  close(): Promise<void>;
  close(callback: (error?: Error) => void): void;
  close(callback?: (error?: Error) => void): Promise<void> | void {
    const promise = new this.#Promise<void>((resolve) => {
      if (this.state === 'initialized' || this.state === 'done' || this.state === 'error' || this.#finished) {
        this.state = this.state === 'error' ? 'error' : 'done';
        setImmediate(resolve);
        return;
      }
      this.#closeWaiters.push(resolve);
      if (!this.#closing) {
        this.#closing = true;
        this.#abandon();
      }
    });
    for (const read of this.#pending.splice(0)) setImmediate(() => read.callback(null, []));
    if (callback === undefined) return promise;
    promise.then(() => callback());
  }

  /**
   * Nobody wants the rest: it is cancelled when that harms nothing else, else read and
   * dropped. `error`: why, when reading failed.
   */
  #abandon(error?: unknown): void {
    this.#buffer = [];
    const handle = this.#handle;
    if (handle === undefined) return; // submit() calls again once it has one
    handle.stop(error);
    if (this.#paused) {
      this.#paused = false;
      handle.resume();
    }
  }

  #settleClose(): void {
    this.state = 'done';
    this.#finished = true;
    for (const resolve of this.#closeWaiters.splice(0)) resolve();
    this.emit('end', this._result);
  }

  /** node-postgres's callback slot for submittables; unused by cursors */
  callback: QueryCallback | undefined;
}
