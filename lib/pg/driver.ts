// The one place where the node-postgres facade meets pqnode's connection. Everything else in
// lib/pg/ goes through the small interface below (CoreConnection), so that a change in the
// connection's internals is adapted here and nowhere else.
//
// What the facade needs from the connection, and how it gets it:
// - statements with untyped text parameters: node-postgres prepares every value itself (its
//   prepareValue), so the values arrive here as strings, Buffers or null, which pqnode's
//   adapters send as they are (strings untyped, Buffers as bytea);
// - the raw text of every column, for node-postgres's type parsers to decide the JS value:
//   the connection's own typecasters name the OIDs the native layer decodes, which makes it
//   hand their text over instead, and the rows are read from the results as they came
//   (the core's run()), with no pqnode typecaster run over them. Where the parser in effect is
//   node-postgres's default and the native layer makes the very same value (int2, int4, oid,
//   float4, float8, bool, bytea), the native decoder is left on: the facade then skips that
//   column;
// - rows as they arrive, with backpressure, for cursors and streams (the core's stream(),
//   pauseReading(), resumeReading());
// - COPY, notifications, notices, cancel and close through the public API.
import type { Readable } from 'node:stream';
import { queryChannel, rowCountOf, trace } from '../tracing';

import { connect, type Connection, type Notice } from '../connection';
import { coreOf, type Core } from '../core/interface';
import { native, type NativeResult } from '../native';
import type { Field } from '../rows';
import { NATIVE_DECODERS, TypecasterRegistry } from '../adapt/typecasters';
import type { Notification } from '../core/notifications';
import type { Diagnostic } from '../errors';

export type { Diagnostic };

/** A column as the server described it. */
export type CoreField = Field;

/** One statement's result: its command tag, its columns and its rows (text, or native values where asked). */
export interface CoreResult {
  /** the command tag as the server sent it, e.g. 'INSERT 0 1' */
  readonly command: string;
  readonly fields: readonly CoreField[];
  readonly rows: unknown[][];
  /** true when the statement returns rows (a SELECT, a RETURNING), even none */
  readonly hasRows: boolean;
}

/** A parameter as the facade prepared it. */
export type CoreParam = string | Buffer | null;

export interface CoreRunOptions {
  /** prepare the statement on the server (and reuse it) */
  prepare?: boolean;
  signal?: AbortSignal;
  /** OIDs the native layer may decode (their parser is node-postgres's default) */
  native?: NativeSet;
}

/** Which of the OIDs the native layer can decode identically to node-postgres it may decode. */
export type NativeSet = number;

/**
 * The OIDs whose native decoding gives exactly what node-postgres's default text parser
 * gives, each with its bit in a NativeSet.
 */
export const NATIVE_SAME_AS_PG: readonly number[] = [16, 17, 21, 23, 26, 700, 701];

export interface CoreNotice {
  readonly message: string;
  readonly diag: Diagnostic;
}

export interface CoreEvents {
  notice(notice: CoreNotice): void;
  notification(notification: Notification): void;
  /** the connection was lost while open */
  lost(error: Error): void;
}

function identity(text: string): string {
  return text;
}

/** Per NativeSet, a registry that leaves the native layer only the decoders in the set. */
const registries = new Map<NativeSet, TypecasterRegistry>();

function registryFor(set: NativeSet): TypecasterRegistry {
  let registry = registries.get(set);
  if (registry === undefined) {
    // no parent: the connection's own typecasters never apply to the facade's results
    registry = new TypecasterRegistry();
    for (const oid of NATIVE_DECODERS.keys()) {
      const bit = NATIVE_SAME_AS_PG.indexOf(oid);
      if (bit === -1 || (set & (1 << bit)) === 0) registry.set(oid, identity);
    }
    registries.set(set, registry);
  }
  return registry;
}

function toCoreResult(result: NativeResult): CoreResult {
  return { command: result.command, fields: result.fields, rows: result.rows, hasRows: result.status === 2 /* TuplesOk */ || result.fields.length > 0 };
}

/** A connection as the facade uses it. */
export class CoreConnection {
  readonly #conn: Connection;
  readonly #core: Core;

  private constructor(conn: Connection, events: CoreEvents) {
    this.#conn = conn;
    this.#core = coreOf(conn);
    // what the connection decodes with when no registry is given (streamed statements): text only
    for (const oid of NATIVE_DECODERS.keys()) conn.typecasters.set(oid, identity);
    conn.on('notice', (notice: Notice) => events.notice({ message: notice.message, diag: notice.diag }));
    conn.on('notification', (notification: Notification) => events.notification(notification));
    conn.on('error', (error: Error) => events.lost(error));
  }

  /** Open a connection with these libpq keywords, in autocommit mode as node-postgres is. */
  static async open(keywords: Record<string, string>, connectTimeout: number | undefined, events: CoreEvents): Promise<CoreConnection> {
    const conn = await connect(keywords, { autocommit: true, connectTimeout });
    return new CoreConnection(conn, events);
  }

  get closed(): boolean {
    return this.#conn.closed;
  }

  get backendPid(): number {
    return this.#conn.info.backendPid;
  }

  get serverVersion(): number {
    return this.#conn.info.serverVersion;
  }

  parameterStatus(name: string): string | null {
    return this.#conn.info.parameterStatus(name);
  }

  /** Run a text (several statements when it has no parameters): one result per statement. */
  async run(text: string, values: readonly CoreParam[] | undefined, options: CoreRunOptions = {}): Promise<CoreResult[]> {
    const results = queryChannel.hasSubscribers
      ? await this.#tracedRun(text, values, options)
      : await this.#core.run(text, values, options.signal, options.prepare, registryFor(options.native ?? 0), false);
    return results.map(toCoreResult);
  }

  /** run() published on `pqnode:query`, as the connection publishes its own statements. */
  #tracedRun(text: string, values: readonly CoreParam[] | undefined, options: CoreRunOptions): Promise<NativeResult[]> {
    const run = () => this.#core.run(text, values, options.signal, options.prepare, registryFor(options.native ?? 0), false);
    return trace(queryChannel, this.#core.queryTraceContext(text, values), run, (context, results) => {
      context.rowCount = rowCountOf(results);
    });
  }

  /**
   * Run one statement with its rows handed to `onRows` as they arrive; `done` resolves with
   * the final result (its rows, when libpq could not stream them). Every value is text.
   */
  stream(
    text: string,
    values: readonly CoreParam[] | undefined,
    onRows: (result: CoreResult) => void,
    options: { chunkSize?: number } = {},
  ): { done: Promise<CoreResult>; stop(): void } {
    const mode = (options.chunkSize ?? 100) > 1 && hasChunkedRows() ? (options.chunkSize ?? 100) : 1;
    // streamed statements are decoded with the connection's own typecasters: all text
    const { done, stop } = this.#core.stream(text, values, { mode, onRows: (result) => onRows(toCoreResult(result)) });
    return { done: done.then((results) => toCoreResult(results[results.length - 1])), stop };
  }

  /** Stop reading the socket (rows are not taken fast enough), then start again. */
  pauseReading(): void {
    this.#core.pauseReading();
  }

  resumeReading(): void {
    this.#core.resumeReading();
  }

  copyFrom(text: string, source: Readable): Promise<number> {
    return this.#conn.copyFrom(text, source);
  }

  copyTo(text: string): Readable {
    return this.#conn.copyTo(text);
  }

  cancel(): Promise<void> {
    return this.#conn.cancel();
  }

  close(): Promise<void> {
    return this.#conn.close();
  }
}

/** Whether the linked libpq streams rows in chunks (else one row at a time). */
export function hasChunkedRows(): boolean {
  return native().hasFeature('chunkedRows');
}

/** The linked libpq's version, e.g. 170002. */
export function libpqVersion(): number {
  return native().libpqVersion();
}

/** libpq's own reading of a conninfo string or URI: the keywords it sets. Throws with libpq's message. */
export function parseConninfo(conninfo: string): Record<string, string> {
  return native().parseConninfo(conninfo);
}
