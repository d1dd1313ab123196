// The one place where the node-postgres facade meets pqnode's connection. Everything else in
// lib/pg/ goes through the small interface below (CoreConnection), so that a change in the
// connection's internals is adapted here and nowhere else.
//
// What the facade needs from the connection, and how it gets it:
// - statements with untyped text parameters: node-postgres prepares every value itself (its
//   prepareValue), so the values arrive here as strings, Buffers or null, which pqnode's
//   adapters send as they are (strings untyped, Buffers as bytea);
// - the raw text of every column, for node-postgres's type parsers to decide the JS value,
//   except where the parser in effect is one the native layer reproduces exactly
//   (ALL_NATIVE_AS_PG: node-postgres's defaults for int2, int4, oid, int8, float4, float8, bool,
//   bytea, timestamptz, and the types whose text it leaves as it is): a registry made for
//   the query (TypecasterRegistry.nativeOnly) has C++ decode exactly those, hands every other
//   value over as text, and builds the rows as objects when no column is left to JS;
// - rows as they arrive, with backpressure, for cursors and streams (the core's stream(),
//   pauseReading(), resumeReading());
// - statements a client runs often prepared on the server, as pqnode prepares them
//   (prepareThreshold: null, never, as node-postgres never prepares an unnamed statement);
// - COPY, notifications, notices, cancel and close through the public API.
import type { Readable } from 'node:stream';
import { queryChannel, rowCountOf, settleTrace, startTrace, trace, type QueryTraceContext } from '../tracing';

import { connect, type Connection, type Notice } from '../connection';
import { coreOf, type Core } from '../core/interface';
import { native, NativeDecoder, type NativeResult } from '../native';
import type { Field } from '../rows';
import { NATIVE_DECODERS, TypecasterRegistry } from '../adapt/typecasters';
import { parseBytea } from '../types/bytea';
import { noParse, parseBigInteger, parseBool, parseDate, parseInteger, type CustomTypesConfig, type TypeParser } from './type-parsers';
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
  /** the rows are objects keyed by column name, every value final (asked for with objectRows) */
  readonly objectRows: boolean;
  /**
   * some date or timestamp may have come in another DateStyle than ISO: a column the native
   * layer decodes may then hold its text, for the type's parser
   */
  readonly otherStyleDates: boolean;
}

/** A parameter as the facade prepared it. */
export type CoreParam = string | Buffer | null;

export interface CoreRunOptions {
  /** prepare the statement on the server (and reuse it) */
  prepare?: boolean;
  signal?: AbortSignal;
  /** the columns the native layer may decode (their parser is one it reproduces) */
  native?: NativeSet;
  /** rows as objects keyed by column name, made in C++ when every column's value is native */
  objectRows?: boolean;
}

/**
 * A set of the entries of ALL_NATIVE_AS_PG (bit i for entry i): those whose parser is the one in
 * effect for their type.
 */
export type NativeSet = number;

interface NativeAsPg {
  readonly oid: number;
  /** the parser whose values the native decoder makes, identical, from the same text */
  readonly parser: TypeParser;
  readonly decoder: NativeDecoder;
}

/**
 * The parsers the native layer reproduces exactly, per type: node-postgres's defaults (and
 * int4's parser for int8, as defaults.parseInt8 sets it). A type whose parser leaves its
 * text as it is costs nothing once C++ made the string. At most 31 entries: bits of a NativeSet.
 */
const ALL_NATIVE_AS_PG: readonly NativeAsPg[] = [
  { oid: 16, parser: parseBool, decoder: NativeDecoder.Bool },
  { oid: 17, parser: parseBytea, decoder: NativeDecoder.Bytea },
  { oid: 21, parser: parseInteger, decoder: NativeDecoder.Int },
  { oid: 23, parser: parseInteger, decoder: NativeDecoder.Int },
  { oid: 26, parser: parseInteger, decoder: NativeDecoder.Int },
  // int8: a string by default, a number once defaults.parseInt8 is set (from_chars and
  // parseInt round its digits to the same double)
  { oid: 20, parser: parseBigInteger, decoder: NativeDecoder.Text },
  { oid: 20, parser: parseInteger, decoder: NativeDecoder.Int },
  { oid: 700, parser: parseFloat, decoder: NativeDecoder.Float },
  { oid: 701, parser: parseFloat, decoder: NativeDecoder.Float },
  { oid: 1184, parser: parseDate, decoder: NativeDecoder.PgTimestampTz },
  // types node-postgres leaves as text: text, varchar, char(n), name, "char", numeric, uuid,
  // time, timetz, inet, cidr, macaddr, money, xml, json's cousin jsonpath, bit, varbit
  ...[25, 1043, 1042, 19, 18, 1700, 2950, 1083, 1266, 869, 650, 829, 790, 142, 4072, 1560, 1562].map((oid) => ({
    oid,
    parser: noParse,
    decoder: NativeDecoder.Text,
  })),
];

/** Which entries of ALL_NATIVE_AS_PG hold with these parsers. */
export function nativeSetOf(types: CustomTypesConfig): NativeSet {
  const entries = ALL_NATIVE_AS_PG;
  let set = 0;
  for (let bit = 0; bit < entries.length; bit++) {
    const entry = entries[bit];
    if (types.getTypeParser(entry.oid, 'text') === entry.parser) set |= 1 << bit;
  }
  return set;
}

/** Per NativeSet: the decoder of each OID the native layer decodes, and the registry that says so. */
const natives = new Map<NativeSet, { decoders: ReadonlyMap<number, NativeDecoder>; registry: TypecasterRegistry }>();

function nativesOf(set: NativeSet): { decoders: ReadonlyMap<number, NativeDecoder>; registry: TypecasterRegistry } {
  let known = natives.get(set);
  if (known === undefined) {
    const entries = ALL_NATIVE_AS_PG;
    const decoders = new Map<number, NativeDecoder>();
    for (let bit = 0; bit < entries.length; bit++) {
      if ((set & (1 << bit)) !== 0) decoders.set(entries[bit].oid, entries[bit].decoder);
    }
    known = { decoders, registry: TypecasterRegistry.nativeOnly(decoders) };
    natives.set(set, known);
  }
  return known;
}

/** Whether the native layer made the values of columns of type `oid` under `set` (strings aside: see CoreResult.otherStyleDates). */
export function decodedNatively(set: NativeSet, oid: number): boolean {
  return nativesOf(set).decoders.has(oid);
}

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

function toCoreResult(result: NativeResult): CoreResult {
  return {
    command: result.command,
    fields: result.fields,
    rows: result.rows,
    hasRows: result.status === 2 /* TuplesOk */ || result.fields.length > 0,
    objectRows: result.objectRows,
    otherStyleDates: result.dateStyle !== undefined,
  };
}

function toCoreResults(results: NativeResult[]): CoreResult[] {
  return results.map(toCoreResult);
}

export interface CoreOpenOptions {
  /** seconds, or undefined for none */
  connectTimeout: number | undefined;
  /** runs of a statement before it is prepared on the server; null: never unless named */
  prepareThreshold: number | null;
}

/** Who makes what a run() resolves with from the statements' results (a query: node-postgres's Results). */
export interface ResultMaker<T> {
  makeResults(results: CoreResult[]): T;
}

/** rows per chunk of a streamed statement, where libpq streams chunks */
const STREAM_CHUNK_ROWS = 100;

/** A statement whose rows are streamed: its final result, and how the reader gives up (`error`: reading failed). */
export interface CoreStream {
  readonly done: Promise<CoreResult>;
  stop(error?: unknown): void;
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
  static async open(keywords: Record<string, string>, options: CoreOpenOptions, events: CoreEvents): Promise<CoreConnection> {
    const conn = await connect(keywords, { autocommit: true, connectTimeout: options.connectTimeout, prepareThreshold: options.prepareThreshold });
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

  /**
   * Run a text (several statements when it has no parameters): one result per statement,
   * handed to `into`, which makes what the caller's call resolves with.
   */
  run<T>(text: string, values: readonly CoreParam[] | undefined, options: CoreRunOptions, into: ResultMaker<T>): Promise<T> {
    // not an async function: the connection's own promise, mapped, is one promise less per query
    if (queryChannel.hasSubscribers) return this.#tracedRun(text, values, options, into);
    return this.#core
      .run(text, values, options.signal, options.prepare, nativesOf(options.native ?? 0).registry, options.objectRows === true)
      .then((results) => into.makeResults(toCoreResults(results)));
  }

  /**
   * run() published on `pqnode:query`, as the connection publishes its own statements; the
   * results are made inside the span, so that its `result` is what the call resolves with.
   */
  #tracedRun<T>(text: string, values: readonly CoreParam[] | undefined, options: CoreRunOptions, into: ResultMaker<T>): Promise<T> {
    const context = this.#core.queryTraceContext(text, values);
    return trace(queryChannel, context, () =>
      this.#core.run(text, values, options.signal, options.prepare, nativesOf(options.native ?? 0).registry, options.objectRows === true).then((results) => {
        context.rowCount = rowCountOf(results);
        return into.makeResults(toCoreResults(results));
      }),
    );
  }

  /**
   * Run one statement with its rows handed to `onRows` as they arrive; `done` resolves with
   * the final result (its rows, when libpq could not stream them). Every value is text.
   * `stop()`: the reader gave up (with `error` when reading failed). Published on
   * `pqnode:query` as conn.stream() is, `owner` (what the caller holds) the span's result.
   */
  stream(
    text: string,
    values: readonly CoreParam[] | undefined,
    onRows: (result: CoreResult) => void,
    owner?: object,
  ): CoreStream {
    // chunks of 100 rows where libpq has them (17+), else one row at a time
    const mode = hasChunkedRows() ? STREAM_CHUNK_ROWS : 1;
    if (queryChannel.hasSubscribers) return this.#tracedStream(text, values, onRows, mode, owner);
    // streamed statements are decoded with the connection's own typecasters: all text
    const { done, stop } = this.#core.stream(text, values, { mode, onRows: (result) => onRows(toCoreResult(result)) });
    return { done: done.then((results) => toCoreResult(results[results.length - 1])), stop };
  }

  /**
   * stream() as one span, from the send to the statement's end on the connection: `rowCount`
   * the rows the statement returned, or those received before it failed or the reader gave
   * up (then `aborted`, and no error unless reading failed).
   */
  #tracedStream(text: string, values: readonly CoreParam[] | undefined, onRows: (result: CoreResult) => void, mode: number, owner: object | undefined): CoreStream {
    // a statement never sent publishes nothing
    this.#core.checkOpen();
    const context: QueryTraceContext = this.#core.queryTraceContext(text, values);
    let received = 0;
    /** set once the reader gave up: why, if reading failed */
    let gaveUp: { failure: { error: unknown } | undefined } | undefined;
    const started = startTrace(queryChannel, context, () =>
      this.#core.stream(text, values, {
        mode,
        onRows: (result) => {
          if (gaveUp === undefined) received += result.rows.length;
          onRows(toCoreResult(result));
        },
      }),
    );
    const settle = (results: readonly NativeResult[] | undefined, error: unknown) => {
      if (gaveUp !== undefined) {
        context.rowCount = received;
        if (gaveUp.failure === undefined) {
          context.aborted = true;
          context.result = owner;
        }
        settleTrace(queryChannel, context, gaveUp.failure);
      } else if (results !== undefined) {
        context.rowCount = rowCountOf(results);
        context.result = owner;
        settleTrace(queryChannel, context);
      } else {
        context.rowCount = received;
        settleTrace(queryChannel, context, { error });
      }
    };
    const done = started.done.then(
      (results) => {
        settle(results, undefined);
        return toCoreResult(results[results.length - 1]);
      },
      (error: unknown) => {
        settle(undefined, error);
        throw error;
      },
    );
    const stop = (error?: unknown) => {
      gaveUp ??= { failure: error === undefined ? undefined : { error } };
      started.stop();
    };
    return { done, stop };
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
