// conn.stream(): the rows of one statement as they arrive, without a named cursor, in
// libpq's single-row mode (or chunked rows mode, libpq 17+). A Readable in object mode,
// hence async-iterable. Backpressure: when the reader falls behind, the connection stops
// reading the socket, and TCP slows the server down.
import { Readable } from 'node:stream';

import * as errors from './errors';
import { coreOf, libpqHas, type Core, type NativeResult } from './core/interface';
import type { Connection } from './connection';
import { checkRowFactory, type Field, type RowFactory } from './rows';
import { queryChannel, settleTrace, startTrace, type QueryTraceContext } from './tracing';

export interface StreamOptions {
  /** row shape; objects unless the connection or this option says otherwise */
  rowFactory?: RowFactory;
  signal?: AbortSignal;
  /** rows buffered before reading stops; default 1000 */
  highWaterMark?: number;
  /** rows per chunk with libpq 17+ (chunked rows mode); default 100. 1 asks for single-row mode. */
  chunkSize?: number;
}

/** The rows of one statement, as a Readable (object mode) and an async iterable. */
export class RowStream<R = Record<string, unknown>> extends Readable {
  /** the columns, once the first rows (or the end) came */
  fields: readonly Field[] | null = null;
  /** the command tag, once the statement finished, e.g. 'SELECT 1000' */
  statusMessage: string | null = null;
  /** rows the statement returned, once it finished */
  rowCount: number | null = null;

  #core: Core;
  #factory: RowFactory;
  #paused = false;
  #finished = false;
  #discarding = false;
  #stop: () => void = () => undefined;
  #pendingError: Error | undefined;
  #aborted = false;
  /** the statement's context on `pqnode:query` while someone subscribes, until it is published as settled */
  #trace: QueryTraceContext | undefined;
  /** the error the stream was destroyed with before its statement ended */
  #destroyError: { error: unknown } | undefined;
  /** rows handed to the reader, counted while traced */
  #rowsReceived = 0;

  /** @internal use conn.stream() */
  constructor(conn: Connection, text: string, values: readonly unknown[] | undefined, options: StreamOptions = {}) {
    const highWaterMark = options.highWaterMark ?? 1000;
    if (!Number.isInteger(highWaterMark) || highWaterMark < 1) throw new errors.ProgrammingError('highWaterMark must be a positive integer');
    const chunkSize = options.chunkSize ?? 100;
    if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new errors.ProgrammingError('chunkSize must be a positive integer');
    super({ objectMode: true, highWaterMark });
    const core = coreOf(conn);
    this.#core = core;
    this.#factory = options.rowFactory !== undefined ? checkRowFactory(options.rowFactory) : (conn.rowFactory ?? 'object');
    const mode = chunkSize > 1 && libpqHas('chunkedRows') ? chunkSize : 1;
    const handler = { mode, onRows: (result: NativeResult) => this.#onRows(result) };
    let started: ReturnType<Core['stream']>;
    if (queryChannel.hasSubscribers) {
      // one span from the send to the statement's end (settled in #settleTrace)
      const context = core.queryTraceContext(text, values);
      started = startTrace(queryChannel, context, () => core.stream(text, values, handler, options.signal));
      this.#trace = context;
    } else {
      started = core.stream(text, values, handler, options.signal);
    }
    const { done, stop } = started;
    this.#stop = stop;
    const signal = options.signal;
    // Aborted, the statement is cancelled and its error must reach the connection even if
    // nobody reads: from then on reading never stops.
    const onAbort = () => {
      this.#aborted = true;
      this.#resume();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    done
      .finally(() => signal?.removeEventListener('abort', onAbort))
      .then(
        (results) => this.#onEnd(results[results.length - 1]),
        (error: Error) => this.#onError(error),
      );
  }

  /** The rows, as they arrive (`for await (const row of stream)`). */
  override [Symbol.asyncIterator](): NodeJS.AsyncIterator<R> {
    return super[Symbol.asyncIterator]() as NodeJS.AsyncIterator<R>;
  }

  override _read(): void {
    this.#resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // kept for the span, which ends once the statement has (a value that could not be read,
    // say); an AbortError is Node's word for a reader who stopped (a for-await's break)
    if (error !== null && error.name !== 'AbortError') this.#destroyError ??= { error };
    if (!this.#finished) {
      // the reader gave up: what still comes is thrown away; the statement is cancelled
      // when that harms nothing else (see the core's stream())
      this.#discarding = true;
      this.#resume();
      this.#stop();
    }
    callback(error);
  }

  #onRows(result: NativeResult): void {
    if (this.#discarding) return;
    this.fields ??= result.fields;
    let shaped: { rows: R[] };
    try {
      if (result.decodeError !== undefined) throw new errors.DataError(result.decodeError);
      shaped = this.#core.makeResult<R>(result, this.#factory);
    } catch (error) {
      // a value that cannot be read ends the stream; the rest of the rows are thrown away
      this.destroy(error as Error);
      return;
    }
    if (this.#trace !== undefined) this.#rowsReceived += shaped.rows.length;
    let more = true;
    for (const row of shaped.rows) more = this.push(row);
    if (!more && !this.#paused && !this.#finished && !this.#aborted) {
      this.#paused = true;
      this.#core.pauseReading();
    }
  }

  #onEnd(result: NativeResult): void {
    this.#finished = true;
    // nothing more comes for this stream: the connection reads on for what follows
    this.#resume();
    if (this.#discarding) {
      this.#settleTrace(this.#destroyError);
      return;
    }
    this.fields ??= result.fields;
    // rows libpq did not stream (the mode could not be set) come with the final result
    if (result.rows.length > 0) this.#onRows(result);
    this.statusMessage = result.command;
    this.rowCount = result.rowCount >= 0 ? result.rowCount : null;
    // a value that could not be read destroyed the stream in #onRows: that is its end
    this.#settleTrace(this.#destroyError);
    this.push(null);
  }

  #onError(error: Error): void {
    this.#finished = true;
    this.#resume();
    // given up on, the statement may end with the cancel's error: the reader's giving up is its end
    this.#settleTrace(this.#discarding ? this.#destroyError : { error });
    if (this.#discarding) return;
    // the rows that came before the error are read first, as the server sent them
    if (this.readableLength === 0) this.destroy(error);
    else this.#pendingError = error;
  }

  /** The next row buffered, or null (the Readable API; `size` means nothing in object mode). */
  override read(size?: number): R | null {
    const chunk = super.read(size) as R | null;
    const error = this.#pendingError;
    if (error !== undefined && this.readableLength === 0) {
      this.#pendingError = undefined;
      process.nextTick(() => this.destroy(error));
    }
    return chunk;
  }

  /**
   * The statement's span ends: with `failure` as its error, else with the rows received
   * (all of them, or those received before the reader gave up: then `aborted` says so).
   */
  #settleTrace(failure: { error: unknown } | undefined): void {
    const context = this.#trace;
    if (context === undefined) return;
    this.#trace = undefined;
    if (failure === undefined) {
      context.rowCount = this.#discarding ? this.#rowsReceived : this.rowCount;
      if (this.#discarding) context.aborted = true;
      context.result = this;
    } else {
      context.rowCount = this.#rowsReceived;
    }
    settleTrace(queryChannel, context, failure);
  }

  #resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#core.resumeReading();
  }
}
