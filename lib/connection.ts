// The user-facing connection. It owns the order of operations: which request goes out when,
// which results belong to which request, transactions opened implicitly, errors mapped to
// classes. The socket and libpq belong to the native layer (lib/native.ts).
import {
  END_OF_COMMAND,
  ExecStatus,
  FlushState,
  native,
  SYNC_BASE,
  TransactionStatus,
  type NativeConnection,
  type NativeErrorFields,
  type NativeItem,
  type NativeNotification,
  type NativeResult,
} from './native';
import * as errors from './errors';
import { makeDiagnostic, type Diagnostic } from './errors';
import { serverMessage } from './errors/server-message';
import { connectFailure } from './connect-failure';
import { callSite, withCallerStack, type CallSite } from './caller-stack';
import { TypedEventEmitter } from './typed-events';
import { connectParams, redact, resolveHosts, type Conninfo } from './conninfo';
import { adaptParams, AdapterRegistry, globalAdapters, type AdaptedParams } from './adapt/adapters';
import { globalTypecasters, TypecasterRegistry } from './adapt/typecasters';
import { checkRowFactory, rowMaker, type Field, type RowFactory } from './rows';
import { countStatements } from './sql-split';
import { Cursor, type CursorOptions, type ExecuteOptions } from './cursor';
import { ServerCursor, type ServerCursorOptions } from './server-cursor';
import { RowStream, type StreamOptions } from './stream';
import { beginStatement, checkSessionOptions, runTransaction, type SessionOptions, type TransactionOptions } from './transaction';
import { copyFromSource, copyToReadable, type CopySource } from './copy';
import { isStalePrepared, PreparedStatements, type PrepareDecision } from './prepared';
import { checkQueryText, resolveQuery, type QueryText } from './query-text';
import { Pipeline } from './pipeline';
import { makeXid, toXid, Xid } from './tpc';
import { openLargeObject, type LargeObject } from './lobject';
import { Copy, type CopyHooks } from './copy-object';
import { Fifo } from './fifo';
import { inlineParams } from './inline-params';
import { NotificationHub, type Notification, type NotifiesOptions } from './notifications';
import { dateStyleOf, KEPT_SETTINGS, mayChangeKeptSettings, readOtherStyleDates, sessionDateStyle } from './session-settings';
import { enterDateStyle, leaveDateStyle, type DateStyleSource } from './types/datestyle';
import type { Readable } from 'node:stream';

export { withCallerStack };

export interface ConnectOptions {
  /** default false: the first statement opens a transaction, committed by commit() */
  autocommit?: boolean;
  /** default row shape for query() and cursors */
  rowFactory?: RowFactory;
  /** seconds; overrides the conninfo's connect_timeout */
  connectTimeout?: number;
  signal?: AbortSignal;
  /** runs of a statement before it is prepared (default 5); null never prepares automatically (PgBouncer in transaction mode) */
  prepareThreshold?: number | null;
  /** prepared statements kept at most (default 100), the least recently used deallocated */
  preparedMax?: number;
  /**
   * seconds (default 10) that a cancel request may take, and that an aborted statement may
   * take to end after its cancel; past that the cancel fails, and the aborted statement's
   * connection is closed as broken
   */
  cancelTimeout?: number;
}

export interface CancelOptions {
  /** seconds; the connection's cancelTimeout by default */
  timeout?: number;
}

export interface QueryOptions {
  rowFactory?: RowFactory;
  signal?: AbortSignal;
  /** true: prepare the statement now; false: never prepare it; unset: after prepareThreshold runs */
  prepare?: boolean;
}

export interface Notice {
  severity?: string;
  sqlstate?: string;
  message: string;
  diag: Diagnostic;
}

/** The events of a Connection, and what their listeners get. */
export interface ConnectionEvents {
  /** a NOTIFY on a channel this connection listens to */
  notification: [notification: Notification];
  /** a notice or warning the server sent (RAISE NOTICE, ...) */
  notice: [notice: Notice];
  /** the connection was lost; emitted only when someone listens */
  error: [error: errors.Error];
}

export type TransactionStatusName = 'idle' | 'active' | 'intrans' | 'inerror' | 'unknown';

const TRANSACTION_STATUS_NAMES: readonly TransactionStatusName[] = ['idle', 'active', 'intrans', 'inerror', 'unknown'];
const NOTICES_KEPT = 50;

/** The result of one statement. */
export class Result<R = Record<string, unknown>> {
  constructor(
    readonly rows: R[],
    /** frozen, and shared by the results of a statement that describes the same columns */
    readonly fields: readonly Field[],
    /** rows affected or returned; null for commands that report none (DDL, SET, ...) */
    readonly rowCount: number | null,
    /** the command tag without its counts, e.g. 'INSERT', 'CREATE TABLE' */
    readonly command: string,
    /** the command tag as the server sent it, e.g. 'INSERT 0 1' */
    readonly statusMessage: string,
  ) {}
}

/** How a request is sent: in the pipeline, or alone with the simple protocol. */
const enum RequestKind {
  Pipeline,
  Simple,
}

interface CopyHandler {
  onCopyIn?(request: Request): void;
  onCopyOut?(request: Request): void;
  onData?(chunk: Buffer | null, done: boolean): void;
  onWritable?(): void;
}

/** @internal Who takes the rows of a streamed statement as they arrive. */
export interface RowsHandler {
  /** 1: single-row mode; n > 1: chunks of n rows (libpq 17+) */
  mode: number;
  onRows(result: NativeResult): void;
}

interface Request {
  kind: RequestKind;
  text: string;
  values: (string | Buffer | null)[] | null;
  typeOids: number[] | null;
  /** whether this request opens the implicit transaction when none is open */
  transactional: boolean;
  /** commands sent (each ends with END_OF_COMMAND) */
  commands: number;
  /** leading commands (pipeline) or results (simple) that the user did not ask for */
  hidden: number;
  results: NativeResult[];
  /** the typecasters the results are decoded with (C++ and JS must agree) */
  typecasters?: TypecasterRegistry;
  /** a cursor's own typecasters, when it has any; the connection's otherwise */
  registry?: TypecasterRegistry;
  /** the transaction state this statement leaves (COMMIT: false, BEGIN: true) */
  setsTransaction?: boolean;
  /** commands ended so far (pipeline) */
  commandsEnded: number;
  /** results.length when the last hidden command ended: the user's results follow */
  hiddenResults: number;
  /** results.length when the command before the last hidden one ended: a Parse's results follow */
  beforeLastHidden: number;
  copy?: CopyHandler;
  sent: boolean;
  /** followed by a sync of its own; false inside an explicit pipeline */
  sync: boolean;
  /** a sync and nothing else (Pipeline.sync()) */
  syncOnly?: boolean;
  /** issued through the explicit pipeline under way */
  inPipeline?: boolean;
  /** order of issue, to tell requests made before a pipeline began from those after */
  seq: number;
  /** a statement of the user's that may be prepared */
  preparable: boolean;
  /** their wish: prepare it (true), never (false), or as the threshold says (undefined) */
  prepare?: boolean;
  /** already sent again once, prepared anew, after its prepared statement went stale */
  retried: boolean;
  /** what was done about preparing it when it was sent */
  prepared?: PrepareDecision;
  /** instead of the text: close this prepared statement (libpq 17's PQsendClosePrepared) */
  closePrepared?: string;
  /** rows streamed as they come, in single-row or chunked mode */
  rows?: RowsHandler;
  /** rows wanted as objects: C++ makes them so where no JS typecaster has to run */
  objectRows: boolean;
  resolve(results: NativeResult[]): void;
  reject(error: Error): void;
}

/** What a request may set beyond its statement; the rest starts empty. */
type RequestExtras = Partial<
  Pick<
    Request,
    'copy' | 'setsTransaction' | 'sync' | 'syncOnly' | 'inPipeline' | 'preparable' | 'prepare' | 'rows' | 'registry' | 'objectRows' | 'closePrepared'
  >
>;

interface RequestOptions extends RequestExtras {
  signal?: AbortSignal;
}

/** A request with every property present from the start: all requests share one shape. */
function newRequest(
  kind: RequestKind,
  text: string,
  values: (string | Buffer | null)[] | null,
  typeOids: number[] | null,
  transactional: boolean,
  seq: number,
  resolve: Request['resolve'],
  reject: Request['reject'],
  extras?: RequestExtras,
): Request {
  return {
    kind,
    text,
    values,
    typeOids,
    transactional,
    commands: 0,
    hidden: 0,
    results: [],
    typecasters: undefined,
    registry: extras?.registry,
    setsTransaction: extras?.setsTransaction,
    commandsEnded: 0,
    hiddenResults: 0,
    beforeLastHidden: 0,
    copy: extras?.copy,
    sent: false,
    sync: extras?.sync ?? true,
    syncOnly: extras?.syncOnly,
    inPipeline: extras?.inPipeline,
    seq,
    preparable: extras?.preparable ?? false,
    prepare: extras?.prepare,
    retried: false,
    prepared: undefined,
    closePrepared: extras?.closePrepared,
    rows: extras?.rows,
    objectRows: extras?.objectRows ?? false,
    resolve,
    reject,
  };
}

/** A connection to a PostgreSQL server. Create one with `connect()`. */
export class Connection extends TypedEventEmitter<ConnectionEvents> {
  /** the last notices the server sent, oldest first */
  readonly notices: Notice[] = [];
  /** the typecasters of this connection (the global ones apply where it sets none) */
  readonly typecasters = new TypecasterRegistry(globalTypecasters);
  /** the adapters of this connection (the global ones apply where it sets none) */
  readonly adapters = new AdapterRegistry(globalAdapters);
  rowFactory: RowFactory | undefined;

  #native: NativeConnection;
  /** the DateStyle and TimeZone libpq last heard of, for the dates a result did not keep them for */
  #sessionDateStyle: DateStyleSource | undefined;
  /** extra_float_digits and client_encoding were set, before the first statement */
  #settingsKept = false;
  #secrets: string[] = [];
  #closed = false;
  #broken = false;
  #autocommit = false;
  #session: SessionOptions = {};
  /** what the server's transaction state will be once everything sent so far has run */
  #inTransaction = false;
  /** depth of transaction() blocks */
  #transactionDepth = 0;
  #waiting: Request[] = [];
  #inflight = new Fifo<Request>();
  #simpleInFlight = 0;
  #cancelsInFlight = 0;
  /** the rejections of the cancel() calls under way, for close() */
  #cancelRejections = new Set<(error: Error) => void>();
  #cancelTimeout = DEFAULT_CANCEL_TIMEOUT;
  #requestSeq = 0;
  /** the explicit pipeline under way, and the seq of its first request */
  #pipeline: Pipeline | undefined;
  #pipelineStartSeq = 0;
  /** commands without a sync went out: the server must be asked to send their results */
  #flushRequestNeeded = false;
  /** the two-phase transaction under way */
  #tpc: { xid: Xid; prepared: boolean } | undefined;
  #flushScheduled = false;
  /** per registry (the connection's, or a cursor's), a snapshot as of its last change */
  #typecasterViews = new WeakMap<TypecasterRegistry, { version: number; view: TypecasterRegistry }>();
  /** the snapshot whose decoder table the native layer holds */
  #uploadedView: TypecasterRegistry | undefined;
  #notifications = new NotificationHub();
  /** why the connection was lost: the server's FATAL error when it sent one */
  #lostError: errors.Error | undefined;
  /** a FATAL error the server sent while no statement was running: the reason for what follows */
  #fatalNotice: NativeErrorFields | undefined;
  #prepared = new PreparedStatements();

  /** @internal use connect() */
  constructor(token: typeof CONSTRUCT) {
    super();
    if (token !== CONSTRUCT) throw new TypeError('use connect() to create a Connection');
    this.#native = new (native().Connection)({
      onResults: (...items) => this.#onResults(items),
      onFailure: (message) => this.#fail(message),
      onNotice: (fields, message) => this.#onNotice(fields, message),
      onNotification: (notification) => this.#onNotification(notification),
      onCopyData: (chunk, done) => this.#inflight.first()?.copy?.onData?.(chunk, done),
      onWritable: () => this.#inflight.first()?.copy?.onWritable?.(),
    });
  }

  /** @internal */
  async _open(conninfo: Conninfo | undefined, options: ConnectOptions): Promise<void> {
    const params = connectParams(conninfo);
    this.#secrets = params.secrets;
    this.#autocommit = options.autocommit ?? false;
    if (options.prepareThreshold !== undefined) this.prepareThreshold = options.prepareThreshold;
    if (options.preparedMax !== undefined) this.preparedMax = options.preparedMax;
    if (options.cancelTimeout !== undefined) this.cancelTimeout = options.cancelTimeout;
    if (options.rowFactory !== undefined) this.rowFactory = checkRowFactory(options.rowFactory);
    const timeout = options.connectTimeout ?? params.connectTimeout;
    if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout > 0))) {
      throw new TypeError('connectTimeout must be a positive number of seconds');
    }
    const signal = options.signal;
    signal?.throwIfAborted();
    // one deadline and one abort for the whole of it: resolving names, then connecting
    await new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const finish = (error: Error | null) => {
        if (settled) return;
        settled = true;
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (error === null) {
          resolve();
        } else {
          this.#closed = true;
          this.#native.close();
          reject(error);
        }
      };
      const onAbort = () => finish(signal?.reason instanceof Error ? signal.reason : new errors.OperationalError('connection aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeout !== undefined) {
        timer = setTimeout(() => finish(new errors.ConnectionTimeout(`connection timeout expired (${timeout}s)`)), timeout * 1000);
      }
      resolveHosts(params).then(
        () => {
          if (settled) return;
          try {
            this.#native.connect(params.keywords, params.values, params.expandDbname, (message) => {
              finish(message === null ? null : connectFailure(message, (text) => this.#redact(text)));
            });
          } catch (error) {
            finish(connectFailure(messageOf(error), (text) => this.#redact(text)));
          }
        },
        (error: unknown) => finish(error instanceof Error ? error : new errors.OperationalError(String(error))),
      );
    });
    // Every DateStyle is read, ISO the fastest: asked for when the server's default is another.
    const dateStyle = this.#native.parameterStatus('DateStyle');
    if (dateStyle !== null && !dateStyle.startsWith('ISO')) {
      await this.#request(RequestKind.Pipeline, "SET DateStyle TO 'ISO'", null, null, false);
    }
  }

  // ---------------------------------------------------------------------------------------
  // state

  get closed(): boolean {
    return this.#closed;
  }

  /** true when the connection was lost (server gone, network down) rather than closed */
  get broken(): boolean {
    return this.#broken;
  }

  get autocommit(): boolean {
    return this.#autocommit;
  }

  set autocommit(value: boolean) {
    this.#checkNoTransaction('autocommit');
    this.#autocommit = Boolean(value);
  }

  /** runs of a statement before it is prepared on the server; null: never automatically */
  get prepareThreshold(): number | null {
    return this.#prepared.threshold;
  }

  set prepareThreshold(value: number | null) {
    this.#prepared.threshold = value;
  }

  /** seconds a cancel may take, and an aborted statement may take to end after its cancel */
  get cancelTimeout(): number {
    return this.#cancelTimeout;
  }

  set cancelTimeout(value: number) {
    this.#cancelTimeout = checkSeconds('cancelTimeout', value);
  }

  /** prepared statements kept at most per connection */
  get preparedMax(): number {
    return this.#prepared.max;
  }

  set preparedMax(value: number) {
    this.#prepared.max = value;
  }

  get info(): ConnectionInfo {
    return new ConnectionInfo(this, this.#native);
  }

  /** @internal */
  get _native(): NativeConnection {
    this.#checkOpen();
    return this.#native;
  }

  // ---------------------------------------------------------------------------------------
  // queries

  /** Run one statement with `$1`-style parameters; rows are objects unless a rowFactory says otherwise. */
  async query<R = Record<string, unknown>>(text: QueryText, params?: readonly unknown[], options?: QueryOptions): Promise<Result<R>> {
    try {
      const query = resolveQuery(text, params, this);
      const factory = options?.rowFactory !== undefined ? checkRowFactory(options.rowFactory) : (this.rowFactory ?? 'object');
      // object rows are made in C++ where no JS typecaster has to run first
      const results = await this._run(query.text, query.values, options?.signal, options?.prepare, undefined, factory === 'object');
      return this._makeResult<R>(results[results.length - 1], factory);
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
      this.#checkOpen();
      if (this.#pipeline !== undefined) return await fn(this.#pipeline);
      const pipeline = new Pipeline(this);
      this.#pipeline = pipeline;
      this.#pipelineStartSeq = this.#requestSeq;
      try {
        const value = await fn(pipeline);
        await pipeline.sync();
        return value;
      } catch (error) {
        // the connection leaves the pipeline in a known state whatever fn did
        if (!this.#closed) await pipeline.sync().catch(() => undefined);
        throw error;
      } finally {
        this.#pipeline = undefined;
        this.#pump();
      }
    } catch (error) {
      throw withCallerStack(error);
    }
  }

  /** @internal */
  async _pipelineQuery<R>(text: QueryText, params: readonly unknown[] | undefined, options: QueryOptions | undefined): Promise<Result<R>> {
    try {
      const query = resolveQuery(text, params, this);
      const factory = options?.rowFactory !== undefined ? checkRowFactory(options.rowFactory) : (this.rowFactory ?? 'object');
      const results = await this._runPipelined(query.text, query.values, options?.signal);
      return this._makeResult<R>(results[results.length - 1], factory);
    } catch (error) {
      throw withCallerStack(error);
    }
  }

  /** @internal One statement into the explicit pipeline: no sync after it. */
  async _runPipelined(
    text: string,
    values: readonly unknown[] | undefined,
    signal?: AbortSignal,
    typecasters?: TypecasterRegistry,
  ): Promise<NativeResult[]> {
    this.#checkOpen();
    if (this.#pipeline === undefined) throw new errors.ProgrammingError('the pipeline has ended');
    const adapted = this.#statement(text, values, signal);
    if (countStatements(text, 2) > 1) {
      throw new errors.ProgrammingError('a pipeline takes one statement per query: the simple protocol cannot be pipelined');
    }
    return this.#request(RequestKind.Pipeline, text, adapted?.values ?? null, adapted?.typeOids ?? null, true, {
      signal,
      sync: false,
      inPipeline: true,
      registry: typecasters,
    });
  }

  /** @internal */
  async _pipelineSync(): Promise<void> {
    this.#checkOpen();
    await this.#request(RequestKind.Pipeline, '', null, null, false, {
      sync: true,
      syncOnly: true,
      inPipeline: true,
    });
  }

  /**
   * The rows of one statement (`$1`-style parameters) as they arrive: a Readable in object
   * mode, also async-iterable. The socket is read no faster than the rows are taken.
   */
  stream<R = Record<string, unknown>>(text: QueryText, params?: readonly unknown[], options?: StreamOptions): RowStream<R> {
    this.#checkOpen();
    const query = resolveQuery(text, params, this);
    return new RowStream<R>(this, query.text, query.values, options);
  }

  /** A new cursor: client-side, or server-side (DECLARE/FETCH) when given a name. */
  cursor<R = unknown[]>(options: ServerCursorOptions): ServerCursor<R>;
  cursor<R = unknown[]>(options?: CursorOptions): Cursor<R>;
  cursor<R = unknown[]>(options?: CursorOptions | ServerCursorOptions): Cursor<R> | ServerCursor<R> {
    this.#checkOpen();
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

  /**
   * @internal Run one request: parameters adapted, the pipeline used unless the text holds
   * several statements and no parameters. Resolves with the results the user asked for.
   */
  _run(
    text: string,
    values: readonly unknown[] | undefined,
    signal?: AbortSignal,
    prepare?: boolean,
    typecasters?: TypecasterRegistry,
    objectRows?: boolean,
  ): Promise<NativeResult[]> {
    // Not an async function: returning the request's own promise spares every query a
    // wrapping promise and the ticks it takes to adopt it. Failures still reject.
    try {
      this.#checkOpen();
      if (this.#tpc?.prepared) {
        throw new errors.ProgrammingError('the two-phase transaction is prepared: only tpcCommit() or tpcRollback() may follow');
      }
      const adapted = this.#statement(text, values, signal);
      const simple = adapted === null && countStatements(text, 2) > 1;
      return this.#request(
        simple ? RequestKind.Simple : RequestKind.Pipeline,
        text,
        adapted?.values ?? null,
        adapted?.typeOids ?? null,
        true,
        simple ? { signal, registry: typecasters } : { signal, preparable: true, prepare, registry: typecasters, objectRows },
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * @internal Run one statement with its rows handed to `handler` as they arrive. Resolves
   * with the final result (no rows, unless libpq could not stream them). `stop()` cancels
   * the statement when that harms nothing else: it runs alone, outside a transaction block.
   */
  _stream(
    text: string,
    values: readonly unknown[] | undefined,
    handler: RowsHandler,
    signal?: AbortSignal,
  ): { done: Promise<NativeResult[]>; stop(): void } {
    this.#checkOpen();
    const adapted = this.#statement(text, values, signal);
    const done = this.#request(RequestKind.Pipeline, text, adapted?.values ?? null, adapted?.typeOids ?? null, true, {
      signal,
      rows: handler,
    });
    const stop = () => {
      if (this.#closed) return;
      const alone = this.#inflight.length === 1 && this.#inflight.first()?.rows === handler && this.#waiting.length === 0;
      if (alone && this.#autocommit && this.#transactionDepth === 0 && !this.#inTransaction) this.cancel().catch(() => undefined);
    };
    return { done, stop };
  }

  /** @internal backpressure for streamed rows: stop reading the socket, then start again */
  _pauseReading(): void {
    if (!this.#closed) this.#native.pauseReading();
  }

  /** @internal */
  _resumeReading(): void {
    if (this.#closed) return;
    this.#native.resumeReading();
    // results libpq already holds raise no socket event: pump them on the next turn
    this._processInputSoon();
  }

  /** The registry as it is now, snapshotted once per change (maps are copy-on-write). */
  #typecasterView(registry: TypecasterRegistry): TypecasterRegistry {
    const version = registry.version;
    const cached = this.#typecasterViews.get(registry);
    if (cached !== undefined && cached.version === version) return cached.view;
    const view = registry.snapshot();
    this.#typecasterViews.set(registry, { version, view });
    return view;
  }

  /** Checks a statement before anything is sent; its parameters adapted, or null when there are none. */
  #statement(text: string, values: readonly unknown[] | undefined, signal: AbortSignal | undefined): AdaptedParams | null {
    signal?.throwIfAborted();
    checkQueryText(text);
    if (values === undefined || values === null) return null;
    if (!Array.isArray(values)) throw new errors.ProgrammingError('query parameters must be an array');
    return adaptParams(values, this.adapters, true);
  }

  /** @internal A result as the user sees it: typecast and shaped by the row factory. */
  _makeResult<R>(result: NativeResult, factory: RowFactory): Result<R> {
    if (result.objectRows && factory !== 'object') {
      throw new errors.InterfaceError('the rows were made as objects, not for this row factory');
    }
    // dates not in DateStyle ISO are read with the session's settings (session-settings.ts)
    this.#sessionDateStyle ??= sessionDateStyle((name) => this.#native.parameterStatus(name));
    const previous = enterDateStyle(dateStyleOf(result, this.#sessionDateStyle));
    let rows: unknown[][];
    try {
      if (result.dateStyle !== undefined) readOtherStyleDates(result, result.typecasters ?? this.typecasters);
      rows = result.objectRows ? result.rows : this._castRows(result);
    } finally {
      leaveDateStyle(previous);
    }
    let shaped: R[];
    if (result.objectRows || factory === 'tuple') {
      shaped = rows as R[];
    } else {
      const make = rowMaker(factory, result.fields);
      shaped = rows.map((values) => make(values) as R);
    }
    const rowCount =
      result.rowCount >= 0 ? result.rowCount : result.status === ExecStatus.TuplesOk ? rows.length : null;
    return new Result<R>(shaped, result.fields, rowCount, commandName(result.command), result.command);
  }

  /** @internal Apply the JS typecasters to the columns the native layer left as text. */
  _castRows(result: NativeResult): unknown[][] {
    const rows = result.rows;
    if (rows.length === 0) return rows;
    const casters = (result.typecasters ?? this.typecasters).castersFor(result.fields);
    for (let column = 0; column < casters.length; column++) {
      const cast = casters[column];
      if (cast === undefined) continue;
      for (const row of rows) {
        const value = row[column];
        if (value === null) continue;
        try {
          row[column] = cast(value as string);
        } catch (error) {
          throw new errors.DataError(
            `cannot convert column ${JSON.stringify(result.fields[column].name)} (type ${result.fields[column].typeOid}): ${messageOf(error)}`,
            { cause: error },
          );
        }
      }
    }
    return rows;
  }

  // ---------------------------------------------------------------------------------------
  // transactions

  /** Commit the transaction in progress (nothing to do when there is none). */
  async commit(): Promise<void> {
    const site = callSite();
    try {
      this.#checkOpen();
      if (this.#transactionDepth > 0) throw new errors.ProgrammingError('commit() is not allowed inside transaction(): it commits when its function returns');
      this.#checkNoTpc('commit()');
      await this.#endTransaction('COMMIT');
    } catch (error) {
      throw withCallerStack(error, site);
    }
  }

  /** Roll back the transaction in progress (nothing to do when there is none). */
  async rollback(): Promise<void> {
    const site = callSite();
    try {
      this.#checkOpen();
      if (this.#transactionDepth > 0) throw new errors.ProgrammingError('rollback() is not allowed inside transaction(): throw to roll it back');
      this.#checkNoTpc('rollback()');
      await this.#endTransaction('ROLLBACK');
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
      this.#checkOpen();
      this.#checkNoTpc('transaction()');
      return await runTransaction(this, fn, options);
    } catch (error) {
      throw withCallerStack(error);
    }
  }

  /** Characteristics of the transactions that follow, as psycopg2's set_session(). */
  async setSession(options: SessionOptions): Promise<void> {
    this.#checkOpen();
    const checked = checkSessionOptions(options);
    if (checked.autocommit !== undefined) this.autocommit = checked.autocommit;
    else this.#checkNoTransaction('session characteristics');
    const { autocommit: _ignored, ...characteristics } = checked;
    this.#session = { ...this.#session, ...characteristics };
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
      this.#checkOpen();
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
      this.#checkOpen();
      const id = toXid(xid);
      if (this.#autocommit) throw new errors.ProgrammingError("tpcBegin() can't be used in autocommit mode");
      if (this.#tpc !== undefined) throw new errors.ProgrammingError('a two-phase transaction is already under way');
      if (this.#inTransaction || this.#transactionDepth > 0) {
        throw new errors.ProgrammingError('tpcBegin() must be called outside a transaction');
      }
      await this._control(this._beginStatement(), true);
      this.#tpc = { xid: id, prepared: false };
    } catch (error) {
      throw withCallerStack(error, site);
    }
  }

  /** First phase: PREPARE TRANSACTION. Only tpcCommit() or tpcRollback() may follow. */
  async tpcPrepare(): Promise<void> {
    const site = callSite();
    try {
      this.#checkOpen();
      const tpc = this.#tpc;
      if (tpc === undefined) throw new errors.ProgrammingError('tpcPrepare() needs a two-phase transaction: call tpcBegin() first');
      if (tpc.prepared) throw new errors.ProgrammingError('the two-phase transaction is already prepared');
      await this._control(`PREPARE TRANSACTION ${this.#native.escapeLiteral(tpc.xid.toString())}`, false);
      tpc.prepared = true;
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
      await this.#tpcFinish('COMMIT', xid);
    } catch (error) {
      throw withCallerStack(error, site);
    }
  }

  /** As tpcCommit(), rolling back. */
  async tpcRollback(xid?: Xid | string): Promise<void> {
    const site = callSite();
    try {
      await this.#tpcFinish('ROLLBACK', xid);
    } catch (error) {
      throw withCallerStack(error, site);
    }
  }

  /** The transactions prepared in this database and not yet committed or rolled back. */
  async tpcRecover(): Promise<Xid[]> {
    const site = callSite();
    try {
      this.#checkOpen();
      const wasInTransaction = this.#inTransaction;
      const { rows } = await this.query<{ gid: string; prepared: Date; owner: string; database: string }>(
        'SELECT gid, prepared, owner, database FROM pg_prepared_xacts WHERE database = current_database() ORDER BY prepared',
      );
      // reading the list must not leave a transaction open that was not open before
      if (!wasInTransaction && this.#inTransaction) await this._control('ROLLBACK', false);
      return rows.map((row) => {
        const xid = Xid.fromString(row.gid);
        xid.prepared = row.prepared;
        xid.owner = row.owner;
        xid.database = row.database;
        return xid;
      });
    } catch (error) {
      throw withCallerStack(error, site);
    }
  }

  async #tpcFinish(command: 'COMMIT' | 'ROLLBACK', xid: Xid | string | undefined): Promise<void> {
    this.#checkOpen();
    if (xid !== undefined) {
      const id = toXid(xid);
      if (this.#tpc !== undefined || this.#inTransaction) {
        throw new errors.ProgrammingError(`tpc${command === 'COMMIT' ? 'Commit' : 'Rollback'}(xid) must be called outside a transaction`);
      }
      await this._control(`${command} PREPARED ${this.#native.escapeLiteral(id.toString())}`, false);
      return;
    }
    const tpc = this.#tpc;
    if (tpc === undefined) throw new errors.ProgrammingError('no two-phase transaction is under way: call tpcBegin() first');
    if (tpc.prepared) {
      await this._control(`${command} PREPARED ${this.#native.escapeLiteral(tpc.xid.toString())}`, false);
    } else {
      await this._control(command, false);
    }
    this.#tpc = undefined;
  }

  #checkNoTpc(what: string): void {
    if (this.#tpc !== undefined) throw new errors.ProgrammingError(`${what} is not allowed in a two-phase transaction: use tpcCommit() / tpcRollback()`);
  }

  /** @internal */
  get _transactionDepth(): number {
    return this.#transactionDepth;
  }

  /** @internal */
  set _transactionDepth(depth: number) {
    this.#transactionDepth = depth;
  }

  /** @internal whether a transaction is open, or will be once what was sent has run */
  get _inTransaction(): boolean {
    return this.#inTransaction;
  }

  /** @internal Send a transaction-control statement; `opens` tells what it does to the transaction state. */
  async _control(text: string, opens: boolean | undefined): Promise<void> {
    this.#checkOpen();
    await this.#request(RequestKind.Pipeline, text, null, null, false, { setsTransaction: opens });
  }

  /** @internal */
  _beginStatement(options?: TransactionOptions): string {
    return beginStatement({ ...this.#session, ...options });
  }

  async #endTransaction(statement: 'COMMIT' | 'ROLLBACK'): Promise<void> {
    // With nothing open and nothing in flight that could open one, there is nothing to end.
    if (!this.#inTransaction && this.#inflight.length === 0 && this.#waiting.length === 0) return;
    await this.#request(RequestKind.Pipeline, statement, null, null, false, { setsTransaction: false });
  }

  #checkNoTransaction(what: string): void {
    if (this.#inTransaction || this.#transactionDepth > 0) {
      throw new errors.ProgrammingError(`cannot change ${what} inside a transaction: commit or roll back first`);
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
      this.#checkOpen();
      const query = resolveQuery(text, params);
      const values = query.values;
      if (values !== undefined && values !== null && !Array.isArray(values)) {
        throw new errors.ProgrammingError('query parameters must be an array');
      }
      const statement = values !== undefined && values !== null ? inlineParams(this, query.text, values) : query.text;
      const hooks: CopyHooks = {};
      let started!: (copy: Copy) => void;
      const ready = new Promise<Copy>((resolve) => (started = resolve));
      // the Copy is made as the server starts the COPY, so that none of its data goes by
      const begin = (request: Request) => started(new Copy(this, request.results[request.results.length - 1], done, hooks));
      const done: Promise<NativeResult[]> = this._copy(statement, {
        onCopyIn: begin,
        onCopyOut: begin,
        onData: (chunk, ended) => hooks.onData?.(chunk, ended),
        onWritable: () => hooks.onWritable?.(),
      });
      const notCopy = Symbol('not a COPY');
      const first = await Promise.race([ready, done.then(() => notCopy)]);
      if (first === notCopy) throw new errors.ProgrammingError('copy() needs a COPY ... FROM STDIN or COPY ... TO STDOUT statement');
      return first as Copy;
    } catch (error) {
      throw withCallerStack(error, site);
    }
  }

  /** @internal Start a COPY with the simple protocol; `handler` gets the data events. */
  _copy(text: string, handler: CopyHandler): Promise<NativeResult[]> {
    this.#checkOpen();
    checkQueryText(text);
    return this.#request(RequestKind.Simple, text, null, null, true, { copy: handler });
  }

  // ---------------------------------------------------------------------------------------
  // notifications

  async listen(channel: string): Promise<void> {
    await this.#channelCommand('LISTEN', channel, callSite());
  }

  /** Stop listening to `channel`, or to every channel when none is given. */
  async unlisten(channel?: string): Promise<void> {
    await this.#channelCommand('UNLISTEN', channel, callSite());
  }

  async notify(channel: string, payload?: string): Promise<void> {
    const site = callSite();
    try {
      if (typeof channel !== 'string' || channel === '') throw new errors.ProgrammingError('a channel name must be a non-empty string');
      await this._run('SELECT pg_notify($1, $2)', [channel, payload ?? '']);
    } catch (error) {
      throw withCallerStack(error, site);
    }
  }

  /**
   * The notifications this connection receives from now on, as they arrive. Every iterator
   * gets every notification. It ends when the connection is closed, and throws the
   * connection's error when the connection is lost.
   */
  notifies(options?: NotifiesOptions): AsyncIterableIterator<Notification> {
    this.#checkOpen();
    return this.#notifications.iterator(options);
  }

  /** LISTEN or UNLISTEN a channel; UNLISTEN without one is UNLISTEN *. */
  async #channelCommand(command: 'LISTEN' | 'UNLISTEN', channel: string | undefined, site: CallSite): Promise<void> {
    try {
      this.#checkOpen();
      let statement = 'UNLISTEN *';
      if (channel !== undefined || command === 'LISTEN') {
        if (typeof channel !== 'string' || channel === '') throw new errors.ProgrammingError('a channel name must be a non-empty string');
        statement = `${command} ${this.#native.escapeIdentifier(channel)}`;
      }
      await this.#request(RequestKind.Pipeline, statement, null, null, false);
    } catch (error) {
      throw withCallerStack(error, site);
    }
  }

  #onNotification(notification: NativeNotification): void {
    this.emit('notification', notification);
    this.#notifications.publish(notification);
  }

  #onNotice(fields: NativeErrorFields, message: string): void {
    // libpq hands on a FATAL error that arrives between statements as a notice; the server
    // hangs up right after it, and it says why
    if (isFatal(fields)) this.#fatalNotice = fields;
    const notice: Notice = {
      severity: fields.severity,
      sqlstate: fields.sqlstate,
      message: serverMessage(fields, message),
      diag: makeDiagnostic(fields),
    };
    this.notices.push(notice);
    if (this.notices.length > NOTICES_KEPT) this.notices.shift();
    this.emit('notice', notice);
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
      this.#checkOpen();
      const timeout = options?.timeout === undefined ? this.#cancelTimeout : checkSeconds('timeout', options.timeout);
      await this.#sendCancel(timeout);
    } catch (error) {
      throw withCallerStack(error);
    }
  }

  async #sendCancel(timeout: number): Promise<void> {
    // Until the server has the cancel request, nothing new is sent: were the statement to
    // finish first, the cancel would otherwise hit the next one. An idle server ignores it.
    this.#cancelsInFlight++;
    let rejectCancel: ((error: Error) => void) | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        rejectCancel = reject;
        this.#cancelRejections.add(reject);
        try {
          // the native layer gives up on its own after the timeout: nothing is left running
          // that would keep the process alive or hold a thread
          this.#native.cancel((message) => {
            if (message === null) resolve();
            else reject(new errors.OperationalError(`cancel failed: ${message.trim()}`));
          }, Math.ceil(timeout * 1000));
        } catch (error) {
          reject(new errors.OperationalError(messageOf(error).trim()));
        }
      });
    } finally {
      if (rejectCancel !== undefined) this.#cancelRejections.delete(rejectCancel);
      this.#cancelsInFlight--;
      this.#pump();
    }
  }

  /** Close the connection; statements not yet finished fail with InterfaceError. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#native.close();
    this.#rejectAll(() => new errors.InterfaceError('the connection was closed'));
    this.#rejectCancels(() => new errors.InterfaceError('the connection was closed'));
    this.#notifications.end(null);
  }

  /** Cancels under way fail when the connection ends (the native layer has abandoned them). */
  #rejectCancels(makeError: () => Error): void {
    for (const reject of this.#cancelRejections) reject(makeError());
    this.#cancelRejections.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #checkOpen(): void {
    if (this.#broken) {
      const reason = this.#lostError?.message;
      throw new errors.OperationalError(reason === undefined ? 'the connection is lost' : `the connection is lost: ${reason}`);
    }
    if (this.#closed) throw new errors.InterfaceError('the connection is closed');
  }

  /**
   * The connection is gone (libpq says so, or the server sent a FATAL error). What was in
   * flight fails with the server's reason where it gave one: a statement that has an error
   * result of its own fails with that one, the others with the same class as the reason.
   */
  #fail(message: string, fatal?: NativeResult): void {
    if (this.#closed) return;
    this.#broken = true;
    this.#closed = true;
    this.#native.close();
    const text = this.#redact(message.trim() || 'the connection to the server was lost');
    const requests = this.#takeAll();
    const reason = fatal?.error ?? this.#fatalNotice ?? fatalResultIn(requests);
    const makeError = (): errors.Error => (reason === undefined ? new errors.OperationalError(text) : this.#lossError(reason));
    this.#lostError = makeError();
    for (const request of requests) {
      // an error the server sent for this statement says more than the loss; libpq's own
      // error for the loss (no sqlstate) says no more than `text`
      const own = request.results.find((result) => isError(result) && result.error?.sqlstate !== undefined);
      request.copy?.onData?.(null, true);
      if (own === undefined) request.reject(makeError());
      else request.reject(isFatal(own.error) ? this.#lossError(own.error ?? {}) : this.#errorFrom(own, request.text));
    }
    this.#rejectCancels(makeError);
    this.#notifications.end(makeError());
    // Nobody listening is not a reason to throw: the loss shows as `broken`, in the
    // rejections, and at the next call. Those who listen hear of it once.
    if (this.listenerCount('error') > 0) this.emit('error', makeError());
  }

  /**
   * The error a lost connection's statements fail with, from the FATAL error the server said
   * why with: its own class when that is an OperationalError (AdminShutdown, ...); else (25P03
   * is an InternalError, as in psycopg) an OperationalError carrying its sqlstate and diag, as
   * a lost connection always fails with OperationalError.
   */
  #lossError(reason: NativeErrorFields): errors.DatabaseError {
    const fields = this.#redactFields(reason);
    const error = errors.fromDiagnostic(fields, 'the connection to the server was lost');
    if (error instanceof errors.OperationalError) return error;
    return new errors.OperationalError(error.message, { diag: makeDiagnostic(fields), sqlstate: reason.sqlstate });
  }

  #rejectAll(makeError: () => Error): void {
    for (const request of this.#takeAll()) {
      request.copy?.onData?.(null, true);
      request.reject(makeError());
    }
  }

  /** Every request, sent or not, in order; the queues are left empty. */
  #takeAll(): Request[] {
    const requests = [...this.#inflight.drain(), ...this.#waiting];
    this.#waiting = [];
    this.#simpleInFlight = 0;
    return requests;
  }

  #redact(message: string): string {
    return redact(message, this.#secrets);
  }

  // ---------------------------------------------------------------------------------------
  // the request queue

  #request(
    kind: RequestKind,
    text: string,
    values: (string | Buffer | null)[] | null,
    typeOids: number[] | null,
    transactional: boolean,
    options?: RequestOptions,
  ): Promise<NativeResult[]> {
    if (!this.#settingsKept) this.#keepSettings(options?.inPipeline);
    const request = newRequest(kind, text, values, typeOids, transactional, this.#requestSeq++, unsettled, unsettled, options);
    // the executor keeps only the request: a closure over all of the above would be
    // allocated with every statement
    const done = new Promise<NativeResult[]>((resolve, reject) => {
      request.resolve = resolve;
      request.reject = reject;
    });
    this.#enqueue(request, options?.signal);
    if (mayChangeKeptSettings(text, kind === RequestKind.Simple)) this.#restoreKeptSettings(request);
    return done;
  }

  /**
   * The first statement of the session has extra_float_digits and client_encoding set before
   * it (session-settings.ts), in the same round trip, on its own sync: a transaction the
   * statement opens and rolls back does not undo them.
   */
  #keepSettings(inPipeline: boolean | undefined): void {
    this.#settingsKept = true;
    const ignore = () => undefined;
    this.#enqueue(newRequest(RequestKind.Pipeline, KEPT_SETTINGS, null, null, false, this.#requestSeq++, ignore, ignore, { inPipeline }), undefined);
  }

  /**
   * extra_float_digits and client_encoding set again right after a statement that may have
   * changed them (session-settings.ts), before anything issued later. The statement settles
   * once that is done too, so that the connection is idle when its caller resumes. A failure
   * of the setting (an aborted transaction: the statement changed nothing) concerns no one.
   */
  #restoreKeptSettings(after: Request): void {
    const { resolve, reject } = after;
    let settle: (() => void) | undefined;
    after.resolve = (results) => (settle = () => resolve(results));
    // refused before it was sent (aborted while queued): nothing to wait for
    after.reject = (error) => (after.sent ? (settle = () => reject(error)) : reject(error));
    const settled = () => settle?.();
    const extras = { inPipeline: after.inPipeline, sync: after.sync };
    this.#enqueue(newRequest(RequestKind.Pipeline, KEPT_SETTINGS, null, null, false, this.#requestSeq++, settled, settled, extras), undefined);
  }

  /** Queue the request and send what may go; failures reject it. */
  #enqueue(request: Request, signal: AbortSignal | undefined): void {
    try {
      if (signal !== undefined) {
        if (signal.aborted) {
          request.reject(abortReason(signal));
          return;
        }
        this.#watchSignal(request, signal);
      }
      this.#waiting.push(request);
      this.#pump();
    } catch (error) {
      request.reject(error as Error);
    }
  }

  /** A pipeline has the connection to itself: what was issued after it began waits for its end. */
  #heldForPipeline(request: Request): boolean {
    return this.#pipeline !== undefined && !request.inPipeline && request.seq >= this.#pipelineStartSeq;
  }

  #canSend(request: Request): boolean {
    if (this.#cancelsInFlight > 0) return false;
    if (request.kind === RequestKind.Simple) return this.#inflight.length === 0;
    return this.#simpleInFlight === 0;
  }

  #send(request: Request): void {
    const conn = this.#native;
    try {
      // the native layer decodes each command with the table current when it was sent
      const registry = request.registry?.hasOwnEntries ? request.registry : this.typecasters;
      const view = this.#typecasterView(registry);
      if (view !== this.#uploadedView) {
        const table = view.nativeDecoderTable();
        conn.setDecoders(table.oids, table.decoders);
        this.#uploadedView = view;
      }
      request.typecasters = view;
      const begin = request.transactional && !this.#autocommit && !this.#inTransaction;
      if (request.kind === RequestKind.Simple) {
        // one round trip: BEGIN goes in the same simple query, its result hidden
        const text = begin ? `${this._beginStatement()};\n${request.text}` : request.text;
        conn.sendSimpleQuery(text);
        request.commands = 1;
        request.hidden = begin ? 1 : 0;
        this.#simpleInFlight++;
      } else if (request.syncOnly) {
        conn.sync();
      } else {
        const decision = request.preparable ? this.#decidePrepare(request) : undefined;
        if (begin) {
          conn.sendQuery(this._beginStatement(), null, null, false);
          request.commands++;
          request.hidden = 1;
        }
        if (request.closePrepared !== undefined) {
          conn.sendClosePrepared(request.closePrepared, request.sync);
        } else if (request.rows !== undefined) {
          conn.sendQuery(request.text, request.values, request.typeOids, request.sync, request.rows.mode);
        } else if (decision === undefined || decision.mode === 'none') {
          conn.sendQuery(request.text, request.values, request.typeOids, request.sync, 0, request.objectRows);
        } else {
          if (decision.mode === 'prepare') {
            // the Parse is a hidden command of the same request, as BEGIN is
            conn.sendPrepare(decision.name, request.text, request.typeOids, false);
            request.commands++;
            request.hidden++;
          }
          const values = request.values;
          if (values === null) conn.sendQueryPrepared(decision.name, request.sync, request.objectRows);
          else if (values.length <= SPREAD_PARAMS) conn.sendQueryPrepared(decision.name, request.sync, request.objectRows, ...values);
          else conn.sendQueryPrepared(decision.name, request.sync, request.objectRows, values);
        }
        request.commands++;
        if (!request.sync) this.#flushRequestNeeded = true;
      }
      if (begin) this.#inTransaction = true;
      if (request.setsTransaction !== undefined) this.#inTransaction = request.setsTransaction;
    } catch (error) {
      // nothing of this request can be told apart from what went before: the connection is unusable
      this.#inflight.push(request);
      request.sent = true;
      this.#fail(messageOf(error));
      return;
    }
    request.sent = true;
    this.#inflight.push(request);
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // Requests issued in the same tick leave in one write, from a microtask. A reaction to
    // a settled promise rather than queueMicrotask(), which wraps each callback in an async
    // resource for async_hooks and costs about three times as much to schedule: with one
    // statement at a time there is a flush apiece. #flush never throws, so the reaction
    // never rejects.
    SETTLED.then(this.#flush);
  }

  /** Sends what this tick's requests queued; made once, so scheduling it allocates no closure. */
  readonly #flush = (): void => {
    this.#flushScheduled = false;
    if (this.#closed) return;
    try {
      if (this.#flushRequestNeeded) {
        this.#flushRequestNeeded = false;
        this.#native.sendFlushRequest();
      }
      if (this.#native.flush() & FlushState.InputWaiting) this._processInputSoon();
    } catch (error) {
      this.#fail(messageOf(error));
    }
  };

  /** @internal Read what libpq already holds, on a later turn of the event loop. */
  _processInputSoon(): void {
    setImmediate(() => {
      if (!this.#closed) this.#native.processInput();
    });
  }

  /** Send what may go now, in order; requests held for the pipeline keep their place. */
  #pump(): void {
    let index = 0;
    while (index < this.#waiting.length && !this.#closed) {
      const request = this.#waiting[index];
      if (this.#heldForPipeline(request)) {
        index++;
        continue;
      }
      if (!this.#canSend(request)) break;
      // the head, as almost always, taken without splice()'s array of what it removed
      if (index === 0) this.#waiting.shift();
      else this.#waiting.splice(index, 1);
      this.#send(request);
    }
  }

  #onResults(items: NativeItem[]): void {
    for (const item of items) {
      const request = this.#inflight.first();
      if (request === undefined) {
        this.#fail('the server sent a result nothing was waiting for');
        return;
      }
      if (typeof item !== 'number') {
        if ((item.status === ExecStatus.SingleTuple || item.status === ExecStatus.TuplesChunk) && request.rows !== undefined) {
          if (request.typecasters !== undefined) item.typecasters = request.typecasters;
          request.rows.onRows(item);
          if (this.#closed) return;
          continue;
        }
        // most requests get one result: a literal allocates it no room to grow into
        if (request.results.length === 0) request.results = [item];
        else request.results.push(item);
        if (item.status === ExecStatus.FatalError && isFatal(item.error)) {
          // the server ends the session after a FATAL error: broken before any caller resumes
          this.#fail(item.errorMessage ?? '', item);
          return;
        }
        if (item.status === ExecStatus.CopyIn) {
          if (request.copy?.onCopyIn !== undefined) request.copy.onCopyIn(request);
          else this.#refuseCopyIn();
        } else if (item.status === ExecStatus.CopyOut) request.copy?.onCopyOut?.(request);
        continue;
      }
      if (item === END_OF_COMMAND) {
        const ended = ++request.commandsEnded;
        if (ended === request.hidden - 1) request.beforeLastHidden = request.results.length;
        if (ended === request.hidden) request.hiddenResults = request.results.length;
        if (request.kind === RequestKind.Simple) this.#complete(request, this.#native.transactionStatus());
        else if (!request.sync && ended === request.commands) this.#complete(request, undefined);
      } else if (item >= SYNC_BASE) {
        this.#complete(request, (item - SYNC_BASE) as TransactionStatus);
      }
      if (this.#closed) return;
    }
    this.#pump();
  }

  /** COPY FROM STDIN outside copyFrom(): nothing would ever send the data, so it fails at once. */
  #refuseCopyIn(): void {
    try {
      if (this.#native.putCopyEnd('COPY FROM STDIN is only supported through copyFrom() and copy()') === 2) this._processInputSoon();
    } catch (error) {
      this.#fail(messageOf(error));
    }
  }

  /** `status` is the server's transaction status, known only at a sync or after a simple query */
  #complete(request: Request, status: TransactionStatus | undefined): void {
    this.#inflight.shift();
    if (request.kind === RequestKind.Simple) this.#simpleInFlight--;
    if (request.syncOnly) {
      request.resolve([]);
      if (status === undefined) return;
    }
    if (status !== undefined && this.#inflight.length === 0 && this.#waiting.length === 0) {
      // nothing else is in flight: the server's word on the transaction is final
      this.#inTransaction = status === TransactionStatus.InTransaction || status === TransactionStatus.InError;
    }
    if (request.syncOnly) return;
    let failure: NativeResult | undefined;
    let aborted = false;
    for (const result of request.results) {
      if (failure === undefined && isError(result)) failure = result;
      if (result.status === ExecStatus.PipelineAborted) aborted = true;
      // whoever sent it (a pool resetting the connection, say), the server has no prepared statements left
      if (result.command === 'DISCARD ALL' || result.command === 'DEALLOCATE ALL') this.#prepared.clear();
    }
    if (request.preparable && this.#afterPrepared(request, failure, status)) return;
    if (failure !== undefined) {
      request.reject(this.#errorFrom(failure, request.text));
      return;
    }
    if (aborted) {
      request.reject(new errors.PipelineAborted('the pipeline was aborted by an earlier error'));
      return;
    }
    const from = request.kind === RequestKind.Pipeline ? request.hiddenResults : request.hidden;
    const visible = from === 0 ? request.results : request.results.slice(from);
    if (visible.length === 0) {
      request.reject(new errors.InterfaceError('the server sent no result for the statement'));
      return;
    }
    for (const result of visible) {
      if (result.decodeError !== undefined) {
        request.reject(new errors.DataError(result.decodeError));
        return;
      }
    }
    if (request.typecasters !== undefined) {
      for (const result of visible) result.typecasters = request.typecasters;
    }
    request.resolve(visible);
  }

  // ---------------------------------------------------------------------------------------
  // prepared statements (the cache and its policy live in lib/prepared.ts)

  /** At send time: prepare, use a prepared statement, or neither; DEALLOCATE what was evicted first. */
  #decidePrepare(request: Request): PrepareDecision {
    const decision = this.#prepared.decide(request.text, request.typeOids, request.prepare);
    for (const name of this.#prepared.takeEvicted()) this.#sendDeallocate(name);
    request.prepared = decision;
    return decision;
  }

  /**
   * DEALLOCATE as a request of its own, its failure concerning no one. With libpq 17 it is
   * the protocol's Close message, which an aborted transaction does not refuse.
   */
  #sendDeallocate(name: string): void {
    const ignore = () => undefined;
    const closePrepared = hasClosePrepared() ? name : undefined;
    this.#send(newRequest(RequestKind.Pipeline, `DEALLOCATE ${name}`, null, null, false, this.#requestSeq++, ignore, ignore, { closePrepared }));
  }

  /**
   * Keep the cache true to the server once a request that could be prepared completed.
   * Returns true when the request was queued again: a prepared statement gone stale
   * (DDL changed its result type) is prepared anew and re-run, if nothing of the user's
   * was lost by its failure — no transaction left aborted, nothing pipelined behind it.
   */
  #afterPrepared(request: Request, failure: NativeResult | undefined, status: TransactionStatus | undefined): boolean {
    const decision = request.prepared;
    if (decision === undefined) return false;
    if (decision.mode === 'prepare') {
      // the Parse is the last hidden command
      const parsed = request.results
        .slice(request.beforeLastHidden, request.hiddenResults)
        .some((r) => r.status === ExecStatus.CommandOk);
      if (!parsed) {
        this.#prepared.forget(decision.key, decision.name, false);
        return false;
      }
    }
    if (failure === undefined) {
      if (decision.mode === 'none') this.#prepared.ran(request.text, request.typeOids);
      return false;
    }
    if (decision.mode === 'none' || !isStalePrepared(failure.error?.sqlstate, failure.error?.messagePrimary)) return false;
    this.#prepared.forget(decision.key, decision.name, failure.error?.sqlstate !== '26000', true);
    const nothingLost = status === TransactionStatus.Idle && this.#inflight.length === 0;
    if (!nothingLost || request.retried || this.#closed) return false;
    request.retried = true;
    request.commands = 0;
    request.hidden = 0;
    request.results = [];
    request.commandsEnded = 0;
    request.hiddenResults = 0;
    request.beforeLastHidden = 0;
    request.sent = false;
    request.prepared = undefined;
    this.#waiting.unshift(request);
    return true;
  }

  #errorFrom(result: NativeResult, query: string): errors.DatabaseError {
    return errors.fromDiagnostic(this.#redactFields(result.error ?? {}), this.#redact(result.errorMessage ?? ''), query);
  }

  /** The fields of a server report with the words a message is made of kept free of passwords. */
  #redactFields(fields: NativeErrorFields): NativeErrorFields {
    if (this.#secrets.length === 0) return fields;
    const { messagePrimary, messageDetail, messageHint } = fields;
    return {
      ...fields,
      messagePrimary: messagePrimary === undefined ? undefined : this.#redact(messagePrimary),
      messageDetail: messageDetail === undefined ? undefined : this.#redact(messageDetail),
      messageHint: messageHint === undefined ? undefined : this.#redact(messageHint),
    };
  }

  #watchSignal(request: Request, signal: AbortSignal): void {
    if (signal.aborted) {
      request.reject(abortReason(signal));
      return;
    }
    const onAbort = () => {
      const waitingIndex = this.#waiting.indexOf(request);
      if (waitingIndex >= 0) {
        // never sent: it can simply be dropped
        this.#waiting.splice(waitingIndex, 1);
        request.reject(abortReason(signal));
      } else if (this.#inflight.first() === request) {
        this.#sendCancel(this.#cancelTimeout).catch(() => undefined);
        // Bounded: a statement still running this long after its cancel (a network that
        // stopped answering, a server that ignores the cancel) costs the connection.
        const seconds = this.#cancelTimeout;
        giveUp = setTimeout(() => {
          request.reject(abortReason(signal));
          this.#fail(`the statement did not end within ${seconds} s of its cancel: the connection was closed`);
        }, seconds * 1000);
      } else if (this.#inflight.includes(request)) {
        // Pipelined behind others: a cancel could hit another statement, so the caller stops
        // waiting and its results are dropped when they come.
        request.reject(abortReason(signal));
      }
    };
    let giveUp: NodeJS.Timeout | undefined;
    signal.addEventListener('abort', onAbort, { once: true });
    const settle = (fn: (value: never) => void) => (value: never) => {
      signal.removeEventListener('abort', onAbort);
      if (giveUp !== undefined) clearTimeout(giveUp);
      fn(value);
    };
    request.resolve = settle(request.resolve as (value: never) => void);
    request.reject = settle(request.reject as (value: never) => void);
  }
}

/** What is known about the connection and the server. */
export class ConnectionInfo {
  constructor(
    private readonly conn: Connection,
    private readonly nativeConn: NativeConnection,
  ) {}

  private get details() {
    return this.conn._native.info();
  }

  get serverVersion(): number {
    return this.details.serverVersion;
  }

  get backendPid(): number {
    return this.details.backendPid;
  }

  get transactionStatus(): TransactionStatusName {
    if (this.conn.closed) return 'unknown';
    return TRANSACTION_STATUS_NAMES[this.nativeConn.transactionStatus()] ?? 'unknown';
  }

  parameterStatus(name: string): string | null {
    if (this.conn.closed) return null;
    return this.nativeConn.parameterStatus(name);
  }

  get host(): string {
    return this.details.host;
  }

  get port(): number {
    return Number(this.details.port);
  }

  get dbname(): string {
    return this.details.dbname;
  }

  get user(): string {
    return this.details.user;
  }

  get ssl(): boolean {
    return this.details.sslInUse;
  }

  get libpqVersion(): number {
    return native().libpqVersion();
  }
}

const CONSTRUCT = Symbol('pqnode.Connection');

/** a request's resolve and reject until its promise gives it its own */
function unsettled(): void {
  throw new Error('a request settled before its promise existed');
}

/** already settled: what is given to its then() runs as a microtask */
const SETTLED = Promise.resolve();

/**
 * Up to this many parameters go to the native layer as the call's own arguments (it reads
 * no more than 16 of those without allocating); more go as one array.
 */
const SPREAD_PARAMS = 13;

/** Open a connection: a URI, a 'key=value' string, or an object of libpq keywords; PG* variables apply. */
export async function connect(conninfo?: Conninfo, options: ConnectOptions = {}): Promise<Connection> {
  const site = callSite();
  const conn = new Connection(CONSTRUCT);
  try {
    await conn._open(conninfo, options);
  } catch (error) {
    throw withCallerStack(error, site);
  }
  return conn;
}

let closePreparedFeature: boolean | undefined;

function hasClosePrepared(): boolean {
  closePreparedFeature ??= native().hasFeature('closePrepared');
  return closePreparedFeature;
}

function isError(result: NativeResult): boolean {
  return result.status === ExecStatus.FatalError || result.status === ExecStatus.BadResponse;
}

/** An error after which the server ends the session (libpq's own errors carry no severity). */
function isFatal(fields: NativeErrorFields | undefined): boolean {
  const severity = fields?.severityNonlocalized ?? fields?.severity;
  return severity === 'FATAL' || severity === 'PANIC';
}

/** The server's FATAL error among the results of the statements in flight. */
function fatalResultIn(requests: readonly Request[]): NativeErrorFields | undefined {
  for (const request of requests) {
    for (const result of request.results) if (isError(result) && isFatal(result.error)) return result.error;
  }
  return undefined;
}

/** the last tag commandName() was given, and its name: most statements repeat their tag */
let lastCommandTag = '';
let lastCommandName = '';

/** The tag without its trailing counts: 'INSERT 0 1' → 'INSERT', 'CREATE TABLE' → 'CREATE TABLE', 'SELECT 3' → 'SELECT' */
function commandName(tag: string): string {
  if (tag === lastCommandTag) return lastCommandName;
  const name = commandNameOf(tag);
  lastCommandTag = tag;
  lastCommandName = name;
  return name;
}

function commandNameOf(tag: string): string {
  let end = tag.length;
  for (;;) {
    let start = end;
    while (start > 0 && isDigit(tag.charCodeAt(start - 1))) start--;
    if (start === end) break; // the last word is not a count
    if (start === 0) {
      end = 0;
      break;
    }
    if (tag.charCodeAt(start - 1) !== 32) break; // digits ending a word, not a word of digits
    end = start - 1;
  }
  return end === tag.length ? tag : tag.slice(0, end);
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const DEFAULT_CANCEL_TIMEOUT = 10;

function checkSeconds(name: string, value: unknown): number {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new TypeError(`${name} must be a positive number of seconds`);
  }
  return value;
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new errors.QueryCanceledError('the query was aborted');
}
