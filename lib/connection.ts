// The user's connection: the public API of a connection, over the connection core
// (lib/core/connection-core.ts), which owns the order of operations. Each method checks its
// arguments, calls the core or a feature, and gives a failure the caller's stack.
import * as errors from './errors';
import { callSite, withCallerStack } from './caller-stack';
import { TypedEventEmitter } from './typed-events';
import type { Conninfo } from './conninfo';
import type { AdapterRegistry } from './adapt/adapters';
import type { TypecasterRegistry } from './adapt/typecasters';
import type { RowFactory } from './rows';
import { Cursor, type CursorOptions, type ExecuteOptions } from './cursor';
import { ServerCursor, type ServerCursorOptions } from './server-cursor';
import { RowStream, type StreamOptions } from './stream';
import { runTransaction } from './transaction';
import { checkSessionOptions, type SessionOptions, type TransactionOptions } from './core/begin';
import { copyFromSource, copyToReadable, type CopySource } from './copy/streams';
import { resolveQuery, type QueryText } from './query-text';
import { runQuery } from './run-query';
import { Pipeline } from './pipeline';
import { checkNoTwoPhase, makeXid, tpcBegin, tpcFinish, tpcPrepare, tpcRecover, Xid } from './tpc';
import { openLargeObject, type LargeObject } from './lobject';
import { openCopy, type Copy } from './copy/copy';
import type { Notification, NotifiesOptions } from './core/notifications';
import { native } from './native';
import { ConnectionCore } from './core/connection-core';
import { checkSeconds } from './seconds';
import { attachCore, coreOf } from './core/interface';
import { Result } from './core/result';
import type { CancelOptions, ConnectOptions, ConnectionEvents, Notice, QueryOptions, TransactionStatusName } from './core/types';
import { connectParams } from './conninfo';
import { connectChannel, portOf, queryChannel, rowCountOf, trace } from './tracing';
import type { ConnectTraceContext } from './tracing';
import type { Readable } from 'node:stream';

export { Result };
export type { CancelOptions, ConnectOptions, ConnectionEvents, Notice, QueryOptions, TransactionStatusName };

/** Opens a Connection just made; set by the class, which alone reaches its core. */
let openConnection: (conn: Connection, conninfo: Conninfo | undefined, options: ConnectOptions) => Promise<void>;

const TRANSACTION_STATUS_NAMES: readonly TransactionStatusName[] = ['idle', 'active', 'intrans', 'inerror', 'unknown'];

/** A connection to a PostgreSQL server. Create one with `connect()`. */
export class Connection extends TypedEventEmitter<ConnectionEvents> {
  readonly #core: ConnectionCore;
  /** the explicit pipeline under way */
  #pipeline: Pipeline | undefined;

  /** @internal use connect() */
  constructor(token: typeof CONSTRUCT) {
    super();
    if (token !== CONSTRUCT) throw new TypeError('use connect() to create a Connection');
    this.#core = new ConnectionCore({
      emit: (event, ...args) => this.emit(event, ...args),
      listenerCount: (event) => this.listenerCount(event),
    });
    // the features reach the core through coreOf(conn); the Connection shows none of it
    attachCore(this, this.#core);
  }

  static {
    openConnection = (conn, conninfo, options) => conn.#core.open(conninfo, options);
  }

  // ---------------------------------------------------------------------------------------
  // state

  /** the last notices the server sent, oldest first */
  get notices(): Notice[] {
    return this.#core.notices;
  }

  /** the typecasters of this connection (the global ones apply where it sets none) */
  get typecasters(): TypecasterRegistry {
    return this.#core.typecasters;
  }

  /** the adapters of this connection (the global ones apply where it sets none) */
  get adapters(): AdapterRegistry {
    return this.#core.adapters;
  }

  /** the row shape of query() and cursors when they are given none */
  get rowFactory(): RowFactory | undefined {
    return this.#core.rowFactory;
  }

  set rowFactory(factory: RowFactory | undefined) {
    this.#core.rowFactory = factory;
  }

  get closed(): boolean {
    return this.#core.closed;
  }

  /** true when the connection was lost (server gone, network down) rather than closed */
  get broken(): boolean {
    return this.#core.broken;
  }

  get autocommit(): boolean {
    return this.#core.autocommit;
  }

  set autocommit(value: boolean) {
    this.#core.autocommit = value;
  }

  /** runs of a statement before it is prepared on the server; null: never automatically */
  get prepareThreshold(): number | null {
    return this.#core.prepareThreshold;
  }

  set prepareThreshold(value: number | null) {
    this.#core.prepareThreshold = value;
  }

  /** seconds a cancel may take, and an aborted statement may take to end after its cancel */
  get cancelTimeout(): number {
    return this.#core.cancelTimeout;
  }

  set cancelTimeout(value: number) {
    this.#core.cancelTimeout = value;
  }

  /** prepared statements kept at most per connection */
  get preparedMax(): number {
    return this.#core.preparedMax;
  }

  set preparedMax(value: number) {
    this.#core.preparedMax = value;
  }

  get info(): ConnectionInfo {
    return new ConnectionInfo(this.#core);
  }

  // ---------------------------------------------------------------------------------------
  // queries

  /** Run one statement with `$1`-style parameters; rows are objects unless a rowFactory says otherwise. */
  async query<R = Record<string, unknown>>(text: QueryText, params?: readonly unknown[], options?: QueryOptions): Promise<Result<R>> {
    try {
      return await runQuery<R>(this.#core, this, text, params, options);
    } catch (error) {
      throw withCallerStack(error);
    }
  }

  /**
   * Run `fn` with an explicit pipeline: its statements go out without a sync each, so they
   * run as one batch (one implicit transaction in autocommit mode) up to each `p.sync()`.
   * An error fails its statement and those after it, up to the next sync, with
   * errors.PipelineAborted. Other statements on the connection wait for the pipeline's end.
   */
  async pipeline<T>(fn: (pipeline: Pipeline) => Promise<T> | T): Promise<T> {
    try {
      this.#core.checkOpen();
      if (this.#pipeline !== undefined) return await fn(this.#pipeline);
      const pipeline = new Pipeline(this);
      this.#pipeline = pipeline;
      this.#core.beginPipeline();
      try {
        const value = await fn(pipeline);
        await pipeline.sync();
        return value;
      } catch (error) {
        // the connection leaves the pipeline in a known state whatever fn did
        if (!this.#core.closed) await pipeline.sync().catch(() => undefined);
        throw error;
      } finally {
        this.#pipeline = undefined;
        this.#core.endPipeline();
      }
    } catch (error) {
      throw withCallerStack(error);
    }
  }

  /**
   * The rows of one statement (`$1`-style parameters) as they arrive: a Readable in object
   * mode, also async-iterable. The socket is read no faster than the rows are taken.
   */
  stream<R = Record<string, unknown>>(text: QueryText, params?: readonly unknown[], options?: StreamOptions): RowStream<R> {
    this.#core.checkOpen();
    const query = resolveQuery(text, params, this);
    return new RowStream<R>(this, query.text, query.values, options);
  }

  /** A new cursor: client-side, or server-side (DECLARE/FETCH) when given a name. */
  cursor<R = unknown[]>(options: ServerCursorOptions): ServerCursor<R>;
  cursor<R = unknown[]>(options?: CursorOptions): Cursor<R>;
  cursor<R = unknown[]>(options?: CursorOptions | ServerCursorOptions): Cursor<R> | ServerCursor<R> {
    this.#core.checkOpen();
    if (options !== undefined && options !== null && 'name' in options && options.name !== undefined) {
      return new ServerCursor<R>(this, options);
    }
    return new Cursor<R>(this, options);
  }

  /** A new cursor with `text` executed (psycopg placeholders: `%s`, `%(name)s`). */
  async execute<R = unknown[]>(text: QueryText, params?: readonly unknown[] | Record<string, unknown>, options?: ExecuteOptions): Promise<Cursor<R>> {
    try {
      return await this.cursor<R>().execute(text, params, options);
    } catch (error) {
      throw withCallerStack(error);
    }
  }

  // ---------------------------------------------------------------------------------------
  // transactions

  /** Commit the transaction in progress (nothing to do when there is none). */
  async commit(): Promise<void> {
    const site = callSite();
    try {
      this.#core.checkOpen();
      if (this.#core.transactionDepth > 0) throw new errors.ProgrammingError('commit() is not allowed inside transaction(): it commits when its function returns');
      checkNoTwoPhase(this.#core, 'commit()');
      await this.#core.endTransaction('COMMIT');
    } catch (error) {
      throw withCallerStack(error, site);
    }
  }

  /** Roll back the transaction in progress (nothing to do when there is none). */
  async rollback(): Promise<void> {
    const site = callSite();
    try {
      this.#core.checkOpen();
      if (this.#core.transactionDepth > 0) throw new errors.ProgrammingError('rollback() is not allowed inside transaction(): throw to roll it back');
      checkNoTwoPhase(this.#core, 'rollback()');
      await this.#core.endTransaction('ROLLBACK');
    } catch (error) {
      throw withCallerStack(error, site);
    }
  }

  /**
   * Run `fn` in a transaction: committed when it resolves, rolled back when it throws.
   * Nested calls, or a call inside a transaction already open, use savepoints.
   */
  async transaction<T>(fn: (conn: this) => Promise<T> | T, options?: TransactionOptions): Promise<T> {
    try {
      this.#core.checkOpen();
      checkNoTwoPhase(this.#core, 'transaction()');
      return await runTransaction(this, fn, options);
    } catch (error) {
      throw withCallerStack(error);
    }
  }

  /** Characteristics of the transactions that follow, as psycopg2's set_session(). */
  async setSession(options: SessionOptions): Promise<void> {
    this.#core.checkOpen();
    const checked = checkSessionOptions(options);
    if (checked.autocommit !== undefined) this.autocommit = checked.autocommit;
    else this.#core.checkNoTransaction('session characteristics');
    const { autocommit: _ignored, ...characteristics } = checked;
    this.#core.setSessionCharacteristics(characteristics);
  }

  // ---------------------------------------------------------------------------------------
  // large objects

  /**
   * Open the large object `oid`, or create one when it is omitted or 0. `mode`: 'r', 'w', 'rw'
   * or 'n' (not opened), with 'b' (Buffers, the default) or 't' (strings) after it; the
   * default is 'rw' for a new object and 'r' for an existing one. Needs a transaction
   * (autocommit off): the object's descriptor lives as long as it.
   */
  async lobject(oid?: number, mode?: string): Promise<LargeObject> {
    const site = callSite();
    try {
      this.#core.checkOpen();
      return await openLargeObject(this, oid, mode);
    } catch (error) {
      throw withCallerStack(error, site);
    }
  }

  // ---------------------------------------------------------------------------------------
  // two-phase commit

  /** A transaction id for tpcBegin(), in the XA form psycopg2 uses. */
  xid(formatId: number, gtrid: string, bqual: string): Xid {
    return makeXid(formatId, gtrid, bqual);
  }

  /** Begin a two-phase transaction; it ends with tpcPrepare() then tpcCommit()/tpcRollback(). */
  async tpcBegin(xid: Xid | string): Promise<void> {
    const site = callSite();
    try {
      await tpcBegin(this.#core, xid);
    } catch (error) {
      throw withCallerStack(error, site);
    }
  }

  /** First phase: PREPARE TRANSACTION. Only tpcCommit() or tpcRollback() may follow. */
  async tpcPrepare(): Promise<void> {
    const site = callSite();
    try {
      await tpcPrepare(this.#core);
    } catch (error) {
      throw withCallerStack(error, site);
    }
  }

  /**
   * Second phase. With no argument: commit the current two-phase transaction (in one phase if
   * it was not prepared). With an xid (outside any transaction): commit that prepared
   * transaction, as recovery does.
   */
  async tpcCommit(xid?: Xid | string): Promise<void> {
    const site = callSite();
    try {
      await tpcFinish(this.#core, 'COMMIT', xid);
    } catch (error) {
      throw withCallerStack(error, site);
    }
  }

  /** As tpcCommit(), rolling back. */
  async tpcRollback(xid?: Xid | string): Promise<void> {
    const site = callSite();
    try {
      await tpcFinish(this.#core, 'ROLLBACK', xid);
    } catch (error) {
      throw withCallerStack(error, site);
    }
  }

  /** The transactions prepared in this database and not yet committed or rolled back. */
  async tpcRecover(): Promise<Xid[]> {
    const site = callSite();
    try {
      return await tpcRecover(this);
    } catch (error) {
      throw withCallerStack(error, site);
    }
  }

  // ---------------------------------------------------------------------------------------
  // COPY

  /** COPY ... FROM STDIN with the data of `source`; resolves with the number of rows copied. */
  async copyFrom(text: QueryText, source: CopySource): Promise<number> {
    const site = callSite();
    try {
      const query = resolveQuery(text, undefined, this);
      return await copyFromSource(this, query.text, source);
    } catch (error) {
      throw withCallerStack(error, site);
    }
  }

  /** COPY ... TO STDOUT as a Readable (also async-iterable) of Buffers. */
  copyTo(text: QueryText): Readable {
    const query = resolveQuery(text, undefined, this);
    return copyToReadable(this, query.text);
  }

  /**
   * A COPY as psycopg 3 runs it: resolves with a Copy once the server is ready. For
   * COPY ... FROM STDIN: write(), writeRow(), then end() or abort(); for COPY ... TO STDOUT:
   * read(), rows(), for await. COPY takes no bind parameters, so `params` ($1, $2, ...)
   * are quoted into the statement client-side.
   */
  async copy(text: QueryText, params?: readonly unknown[]): Promise<Copy> {
    const site = callSite();
    try {
      return await openCopy(this, text, params);
    } catch (error) {
      throw withCallerStack(error, site);
    }
  }

  // ---------------------------------------------------------------------------------------
  // notifications

  async listen(channel: string): Promise<void> {
    const site = callSite();
    try {
      await this.#core.channelCommand('LISTEN', channel);
    } catch (error) {
      throw withCallerStack(error, site);
    }
  }

  /** Stop listening to `channel`, or to every channel when none is given. */
  async unlisten(channel?: string): Promise<void> {
    const site = callSite();
    try {
      await this.#core.channelCommand('UNLISTEN', channel);
    } catch (error) {
      throw withCallerStack(error, site);
    }
  }

  async notify(channel: string, payload?: string): Promise<void> {
    const site = callSite();
    try {
      if (typeof channel !== 'string' || channel === '') throw new errors.ProgrammingError('a channel name must be a non-empty string');
      const values = [channel, payload ?? ''];
      if (queryChannel.hasSubscribers) {
        // notify() resolves with nothing: the span's result is none
        const context = this.#core.queryTraceContext(NOTIFY, values);
        await trace(queryChannel, context, () =>
          this.#core.run(NOTIFY, values).then((results) => {
            context.rowCount = rowCountOf(results);
          }),
        );
      } else {
        await this.#core.run(NOTIFY, values);
      }
    } catch (error) {
      throw withCallerStack(error, site);
    }
  }

  // ---------------------------------------------------------------------------------------
  // cancel and close

  /**
   * Ask the server to cancel the statement running now. The event loop is not blocked, and
   * the request fails with OperationalError when the server has not taken it within
   * `timeout` seconds (the connection's cancelTimeout by default).
   */
  async cancel(options?: CancelOptions): Promise<void> {
    try {
      this.#core.checkOpen();
      const timeout = options?.timeout === undefined ? this.#core.cancelTimeout : checkSeconds('timeout', options.timeout);
      await this.#core.cancel(timeout);
    } catch (error) {
      throw withCallerStack(error);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * The notifications this connection receives from now on, as they arrive. Every iterator
   * gets every notification. It ends when the connection is closed, and throws the
   * connection's error when the connection is lost.
   */
  notifies(options?: NotifiesOptions): AsyncIterableIterator<Notification> {
    return this.#core.notifies(options);
  }

  /** Close the connection; statements not yet finished fail with InterfaceError. */
  close(): Promise<void> {
    return this.#core.close();
  }
}

/** What is known about the connection and the server. */
export class ConnectionInfo {
  readonly #core: ConnectionCore;

  /** @internal made by conn.info */
  constructor(core: ConnectionCore) {
    this.#core = core;
  }

  get #details() {
    return this.#core.native.info();
  }

  get serverVersion(): number {
    return this.#details.serverVersion;
  }

  get backendPid(): number {
    return this.#details.backendPid;
  }

  get transactionStatus(): TransactionStatusName {
    if (this.#core.closed) return 'unknown';
    return TRANSACTION_STATUS_NAMES[this.#core.nativeUnchecked.transactionStatus()] ?? 'unknown';
  }

  parameterStatus(name: string): string | null {
    if (this.#core.closed) return null;
    return this.#core.nativeUnchecked.parameterStatus(name);
  }

  get host(): string {
    return this.#details.host;
  }

  get port(): number {
    return Number(this.#details.port);
  }

  get dbname(): string {
    return this.#details.dbname;
  }

  get user(): string {
    return this.#details.user;
  }

  get ssl(): boolean {
    return this.#details.sslInUse;
  }

  get libpqVersion(): number {
    return native().libpqVersion();
  }
}

const CONSTRUCT = Symbol('pqnode.Connection');

/** what notify() sends */
const NOTIFY = 'SELECT pg_notify($1, $2)';


/** Open a connection: a URI, a 'key=value' string, or an object of libpq keywords; PG* variables apply. */
export async function connect(conninfo?: Conninfo, options: ConnectOptions = {}): Promise<Connection> {
  const site = callSite();
  const conn = new Connection(CONSTRUCT);
  try {
    if (connectChannel.hasSubscribers) {
      await trace(connectChannel, connectTraceContext(conninfo), () => openConnection(conn, conninfo, options).then(() => conn), (context) => {
        Object.assign(context, coreOf(conn).serverTraceContext());
      });
    } else {
      await openConnection(conn, conninfo, options);
    }
  } catch (error) {
    throw withCallerStack(error, site);
  }
  return conn;
}

/**
 * The server a connect is for, as far as the conninfo and the PG* variables say before libpq
 * has tried (on success, the context is completed from the connection). Never the password.
 */
function connectTraceContext(conninfo: Conninfo | undefined): ConnectTraceContext {
  let settings: Record<string, string> = {};
  try {
    settings = connectParams(conninfo).settings;
  } catch {
    // an invalid conninfo: the connect fails with the reason, published as its error
  }
  const env = process.env;
  return {
    host: settings.host ?? settings.hostaddr ?? env.PGHOST ?? env.PGHOSTADDR,
    port: portOf(settings.port ?? env.PGPORT),
    database: settings.dbname ?? env.PGDATABASE,
    user: settings.user ?? env.PGUSER,
  };
}
