// The connection core: the order of operations on one connection. It owns the native handle,
// the queue of requests and its pump, what is sent and how results come back to the request
// they belong to, prepared statements, the implicit transaction, cancels, and what happens
// when the connection is lost. The user's Connection (lib/connection.ts) is a facade over it.
import {
  END_OF_COMMAND,
  ExecStatus,
  FlushState,
  native,
  SYNC_BASE,
  TransactionStatus,
  type NativeCallbacks,
  type NativeConnection,
  type NativeErrorFields,
  type NativeItem,
  type NativeNotification,
  type NativeResult,
} from '../native';
import * as errors from '../errors';
import { makeDiagnostic } from '../errors';
import { serverMessage } from '../errors/server-message';
import { abortReason, checkSignal } from '../errors/aborted';
import { connectFailure } from '../connect-failure';
import { connectParams, redact, resolveHosts, type Conninfo } from '../conninfo';
import { AdapterRegistry, globalAdapters, type AdaptedParams } from '../adapt/adapters';
import { adaptStatementParams } from '../adapt/statement-params';
import { globalTypecasters, TypecasterRegistry } from '../adapt/typecasters';
import { checkRowFactory, rowMaker, type RowFactory } from '../rows';
import { countStatements } from '../sql/lexer';
import { beginStatement, type SessionOptions, type TransactionOptions } from './begin';
import { isStalePrepared, PreparedStatements, type PrepareDecision } from './prepared';
import { checkChannelName, checkQueryText } from '../query-text';
import { Fifo } from '../fifo';
import { messageOf } from '../thrown';
import { NotificationHub, type Notification, type NotifiesOptions } from './notifications';
import { checkSeconds } from '../seconds';
import { dateStyleOf, KEPT_SETTINGS, mayChangeKeptSettings, readOtherStyleDates, sessionDateStyle } from '../session-settings';
import { enterDateStyle, leaveDateStyle, type DateStyleSource } from '../types/datestyle';
import { newRequest, RequestKind, type CopyHandler, type Request, type RequestOptions, type RowsHandler } from './request';
import { commandName, Result } from './result';
import type { ConnectOptions, ConnectionEvents, Notice } from './types';
import type { Core, TwoPhase } from './interface';
import { parameterCountOf, portOf, queryChannel, rowCountOf, trace, type QueryTraceContext, type ServerTraceContext } from '../tracing';

const NOTICES_KEPT = 50;

/** How the core tells the user's Connection what it must emit. */
export interface CoreEvents {
  emit<E extends keyof ConnectionEvents>(event: E, ...args: ConnectionEvents[E]): void;
  listenerCount(event: keyof ConnectionEvents): number;
}

/** One connection's core; made by the user's Connection, which hands it to the features. */
export class ConnectionCore implements Core {
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
  /**
   * A replication connection (replication=database): its walsender takes the simple query
   * protocol only, so what the core sends of its own goes that way.
   */
  #simpleOnly = false;
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
  /** an explicit pipeline is under way, and the seq of its first request */
  #pipelineActive = false;
  #pipelineStartSeq = 0;
  /** commands without a sync went out: the server must be asked to send their results */
  #flushRequestNeeded = false;
  /** the two-phase transaction under way; once prepared, only its COMMIT or ROLLBACK PREPARED may follow */
  twoPhase: TwoPhase | undefined = undefined;
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
  readonly #events: CoreEvents;

  /** `makeNative`: the addon's Connection unless given another (a fake, in the queue's tests) */
  constructor(events: CoreEvents, makeNative: (callbacks: NativeCallbacks) => NativeConnection = (callbacks) => new (native().Connection)(callbacks)) {
    this.#events = events;
    this.#native = makeNative({
      onResults: (...items) => this.#onResults(items),
      onFailure: (message) => this.#fail(message),
      onNotice: (fields, message) => this.#onNotice(fields, message),
      onNotification: (notification) => this.#onNotification(notification),
      onCopyData: (chunk, done) => this.#inflight.first()?.copy?.onData?.(chunk, done),
      onWritable: () => this.#inflight.first()?.copy?.onWritable?.(),
    });
  }

  async open(conninfo: Conninfo | undefined, options: ConnectOptions): Promise<void> {
    const params = connectParams(conninfo);
    this.#secrets = params.secrets;
    this.#simpleOnly = isReplication(params.settings.replication);
    this.#autocommit = options.autocommit ?? false;
    if (options.prepareThreshold !== undefined) this.prepareThreshold = options.prepareThreshold;
    if (options.preparedMax !== undefined) this.preparedMax = options.preparedMax;
    if (options.cancelTimeout !== undefined) this.cancelTimeout = options.cancelTimeout;
    if (options.rowFactory !== undefined) this.rowFactory = checkRowFactory(options.rowFactory);
    const timeout = options.connectTimeout ?? params.connectTimeout;
    if (timeout !== undefined) checkSeconds('connectTimeout', timeout);
    const signal = options.signal;
    checkSignal(signal);
    // aborted before or while connecting: the signal's reason, else one error for both
    const aborted = (reason: unknown) => (reason instanceof Error ? reason : new errors.OperationalError('connection aborted'));
    if (signal?.aborted) throw aborted(signal.reason);
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
      const onAbort = () => finish(aborted(signal?.reason));
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeout !== undefined) {
        timer = setTimeout(() => finish(new errors.ConnectionTimeout(`connection timeout expired (${timeout}s)`)), timeout * 1000);
      }
      const start = () => {
        if (settled) return;
        try {
          this.#native.connect(params.keywords, params.values, params.expandDbname, (message) => {
            finish(message === null ? null : connectFailure(message, (text) => this.#redact(text)));
          });
        } catch (error) {
          finish(connectFailure(messageOf(error), (text) => this.#redact(text)));
        }
      };
      const resolving = resolveHosts(params);
      if (resolving === undefined) start();
      else resolving.then(start, (error: unknown) => finish(error instanceof Error ? error : new errors.OperationalError(String(error))));
    });
    // Every DateStyle is read, ISO the fastest: asked for when the server's default is another.
    const dateStyle = this.#native.parameterStatus('DateStyle');
    if (dateStyle !== null && !dateStyle.startsWith('ISO')) {
      await this.#request(this.#ownKind, "SET DateStyle TO 'ISO'", null, null, false);
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
    this.checkNoTransaction('autocommit');
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

  /** the native handle, for COPY's data and the facts of ConnectionInfo */
  get native(): NativeConnection {
    this.checkOpen();
    return this.#native;
  }

  /** the native handle whatever its state (its getters answer for a closed connection too) */
  get nativeUnchecked(): NativeConnection {
    return this.#native;
  }

  escapeLiteral(text: string): string {
    return this.native.escapeLiteral(text);
  }

  escapeIdentifier(text: string): string {
    return this.native.escapeIdentifier(text);
  }

  /** The server's setting `name` as libpq last heard of it (null when unknown or closed). */
  parameterStatus(name: string): string | null {
    return this.#closed ? null : this.#native.parameterStatus(name);
  }

  /** commands sent whose results have not all come back */
  pendingCommands(): number {
    return this.#closed ? 0 : this.#native.pendingCommands();
  }

  /** the server and database, for the contexts of the tracing channels (empty once closed) */
  serverTraceContext(): ServerTraceContext {
    if (this.#closed) return {};
    const details = this.#native.info();
    return { host: details.host, port: portOf(details.port), database: details.dbname };
  }

  /** the context of one statement on `pqnode:query` */
  queryTraceContext(text: string, values: unknown): QueryTraceContext {
    return { query: text, parameterCount: parameterCountOf(values), ...this.serverTraceContext() };
  }

  // COPY's data, for the COPY features: what libpq's async COPY calls say, passed through

  /** 1: queued; 0: libpq's buffer is full, wait for 'writable' */
  putCopyData(data: Buffer): number {
    return this.native.putCopyData(data);
  }

  /** Ends COPY FROM STDIN (`error`: abort it with that message); 2 when input waits to be read. */
  putCopyEnd(error: string | null): number {
    return this.native.putCopyEnd(error);
  }

  pauseCopyOut(): void {
    this.native.pauseCopyOut();
  }

  resumeCopyOut(): void {
    this.native.resumeCopyOut();
  }

  /** An explicit pipeline begins: what is issued from now on, outside it, waits for its end. */
  beginPipeline(): void {
    this.#pipelineActive = true;
    this.#pipelineStartSeq = this.#requestSeq;
  }

  endPipeline(): void {
    this.#pipelineActive = false;
    this.#pump();
  }

  /** Characteristics of the transactions that follow (BEGIN ISOLATION LEVEL ..., READ ONLY, ...). */
  setSessionCharacteristics(characteristics: SessionOptions): void {
    this.#session = { ...this.#session, ...characteristics };
  }

  /** One statement into the explicit pipeline: no sync after it. */
  async runPipelined(
    text: string,
    values: readonly unknown[] | undefined,
    signal?: AbortSignal,
    typecasters?: TypecasterRegistry,
  ): Promise<NativeResult[]> {
    this.checkOpen();
    if (!this.#pipelineActive) throw new errors.ProgrammingError('the pipeline has ended');
    const adapted = this.#statement(text, values, signal, typecasters);
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

  async pipelineSync(): Promise<void> {
    this.checkOpen();
    await this.#request(RequestKind.Pipeline, '', null, null, false, {
      sync: true,
      syncOnly: true,
      inPipeline: true,
    });
  }

  /**
   * @internal Run one request: parameters adapted, the pipeline used unless the text holds
   * several statements and no parameters. Resolves with the results the user asked for.
   */
  run(
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
      this.checkOpen();
      if (this.twoPhase?.prepared === true) {
        throw new errors.ProgrammingError('the two-phase transaction is prepared: only tpcCommit() or tpcRollback() may follow');
      }
      const adapted = this.#statement(text, values, signal, typecasters);
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
  stream(
    text: string,
    values: readonly unknown[] | undefined,
    handler: RowsHandler,
    signal?: AbortSignal,
  ): { done: Promise<NativeResult[]>; stop(): void } {
    this.checkOpen();
    const adapted = this.#statement(text, values, signal);
    const done = this.#request(RequestKind.Pipeline, text, adapted?.values ?? null, adapted?.typeOids ?? null, true, {
      signal,
      rows: handler,
    });
    const stop = () => {
      if (this.#closed) return;
      const alone = this.#inflight.length === 1 && this.#inflight.first()?.rows === handler && this.#waiting.length === 0;
      if (alone && this.#autocommit && this.#transactionDepth === 0 && !this.#inTransaction) this.cancel(this.#cancelTimeout).catch(() => undefined);
    };
    return { done, stop };
  }

  /** backpressure for streamed rows: stop reading the socket, then start again */
  pauseReading(): void {
    if (!this.#closed) this.#native.pauseReading();
  }

  resumeReading(): void {
    if (this.#closed) return;
    this.#native.resumeReading();
    // results libpq already holds raise no socket event: pump them on the next turn
    this.processInputSoon();
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

  /**
   * Checks a statement before anything is sent; its parameters checked against its
   * placeholders and adapted (Dates as the results' typecasters read timestamps), or null
   * when there are none.
   */
  #statement(
    text: string,
    values: readonly unknown[] | undefined,
    signal: AbortSignal | undefined,
    typecasters?: TypecasterRegistry,
  ): AdaptedParams | null {
    checkSignal(signal);
    // aborted before it is queued: failing as one aborted in the queue or on the server does
    if (signal?.aborted) throw abortReason(signal);
    checkQueryText(text);
    if (values === undefined || values === null) return null;
    if (!Array.isArray(values)) throw new errors.ProgrammingError('query parameters must be an array');
    return adaptStatementParams(text, values, this.adapters, typecasters ?? this.typecasters);
  }

  /** A result as the user sees it: typecast and shaped by the row factory. */
  makeResult<R>(result: NativeResult, factory: RowFactory): Result<R> {
    if (result.objectRows && factory !== 'object') {
      throw new errors.InterfaceError('the rows were made as objects, not for this row factory');
    }
    // dates not in DateStyle ISO are read with the session's settings (session-settings.ts)
    this.#sessionDateStyle ??= sessionDateStyle((name) => this.#native.parameterStatus(name));
    const previous = enterDateStyle(dateStyleOf(result, this.#sessionDateStyle));
    let rows: unknown[][];
    try {
      if (result.dateStyle !== undefined) readOtherStyleDates(result, result.typecasters ?? this.typecasters);
      rows = result.objectRows ? result.rows : this.castRows(result);
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

  /** Apply the JS typecasters to the columns the native layer left as text. */
  castRows(result: NativeResult): unknown[][] {
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

  get transactionDepth(): number {
    return this.#transactionDepth;
  }

  set transactionDepth(depth: number) {
    this.#transactionDepth = depth;
  }

  /** whether a transaction is open, or will be once what was sent has run */
  get inTransaction(): boolean {
    return this.#inTransaction;
  }

  /** Send a transaction-control statement; `opens` tells what it does to the transaction state. */
  async control(text: string, opens: boolean | undefined): Promise<void> {
    this.checkOpen();
    await this.#controlRequest(text, { setsTransaction: opens });
  }

  beginStatement(options?: TransactionOptions): string {
    return beginStatement({ ...this.#session, ...options });
  }

  async endTransaction(statement: 'COMMIT' | 'ROLLBACK'): Promise<void> {
    // With nothing open and nothing in flight that could open one, there is nothing to end.
    if (!this.#inTransaction && this.#inflight.length === 0 && this.#waiting.length === 0) return;
    await this.#controlRequest(statement, { setsTransaction: false });
  }

  checkNoTransaction(what: string): void {
    if (this.#inTransaction || this.#transactionDepth > 0) {
      throw new errors.ProgrammingError(`cannot change ${what} inside a transaction: commit or roll back first`);
    }
  }

  /** Start a COPY with the simple protocol; `handler` gets the data events. */
  copy(text: string, handler: CopyHandler): Promise<NativeResult[]> {
    this.checkOpen();
    checkQueryText(text);
    return this.#request(RequestKind.Simple, text, null, null, true, { copy: handler });
  }

  /**
   * The notifications this connection receives from now on, as they arrive. Every iterator
   * gets every notification. It ends when the connection is closed, and throws the
   * connection's error when the connection is lost.
   */
  notifies(options?: NotifiesOptions): AsyncIterableIterator<Notification> {
    this.checkOpen();
    return this.#notifications.iterator(options);
  }

  /** LISTEN or UNLISTEN a channel; UNLISTEN without one is UNLISTEN *. */
  /** LISTEN or UNLISTEN a channel; UNLISTEN without one is UNLISTEN *. */
  async channelCommand(command: 'LISTEN' | 'UNLISTEN', channel: string | undefined): Promise<void> {
    this.checkOpen();
    let statement = 'UNLISTEN *';
    if (channel !== undefined || command === 'LISTEN') {
      if (typeof channel !== 'string' || channel === '') throw new errors.ProgrammingError('a channel name must be a non-empty string');
      // checked before libpq quotes it: on the way there a lone surrogate would become U+FFFD,
      // and the channel listened to another one than asked for
      checkChannelName(channel);
      statement = `${command} ${this.#native.escapeIdentifier(channel)}`;
    }
    await this.#controlRequest(statement);
  }

  /**
   * A statement the core writes for a call of the user's (BEGIN, COMMIT, SAVEPOINT, LISTEN,
   * ...), published on `pqnode:query` as the user's own are. What the core sends for its own
   * sake (the implicit BEGIN, which goes with the statement that needs it; SET DateStyle
   * after connecting) goes through #request alone.
   */
  #controlRequest(text: string, options?: RequestOptions): Promise<unknown> {
    if (!queryChannel.hasSubscribers) return this.#request(RequestKind.Pipeline, text, null, null, false, options);
    // the calls that send these resolve with nothing: the span's result is none
    const context = this.queryTraceContext(text, undefined);
    return trace(queryChannel, context, () =>
      this.#request(RequestKind.Pipeline, text, null, null, false, options).then((results) => {
        context.rowCount = rowCountOf(results);
      }),
    );
  }

  #onNotification(notification: NativeNotification): void {
    this.#events.emit('notification', notification);
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
    this.#events.emit('notice', notice);
  }

  async cancel(timeout: number): Promise<void> {
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

  checkOpen(): void {
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
    if (this.#events.listenerCount('error') > 0) this.#events.emit('error', makeError());
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
    this.#enqueue(newRequest(this.#ownKind, KEPT_SETTINGS, null, null, false, this.#requestSeq++, ignore, ignore, { inPipeline }), undefined);
  }

  /** How the statements the core sends of its own accord go. */
  get #ownKind(): RequestKind {
    return this.#simpleOnly ? RequestKind.Simple : RequestKind.Pipeline;
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
    this.#enqueue(newRequest(this.#ownKind, KEPT_SETTINGS, null, null, false, this.#requestSeq++, settled, settled, extras), undefined);
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
    return this.#pipelineActive && !request.inPipeline && request.seq >= this.#pipelineStartSeq;
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
        const text = begin ? `${this.beginStatement()};\n${request.text}` : request.text;
        conn.sendSimpleQuery(text);
        request.commands = 1;
        request.hidden = begin ? 1 : 0;
        this.#simpleInFlight++;
      } else if (request.syncOnly) {
        conn.sync();
      } else {
        const decision = request.preparable ? this.#decidePrepare(request) : undefined;
        if (begin) {
          conn.sendQuery(this.beginStatement(), null, null, false);
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
      if (this.#native.flush() & FlushState.InputWaiting) this.processInputSoon();
    } catch (error) {
      this.#fail(messageOf(error));
    }
  };

  /** Read what libpq already holds, on a later turn of the event loop. */
  processInputSoon(): void {
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
        else if (item.status === ExecStatus.CopyBoth) {
          if (request.copy?.onCopyBoth !== undefined) request.copy.onCopyBoth(request);
          else this.#refuseCopyBoth();
        }
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
      if (this.#native.putCopyEnd('COPY FROM STDIN is only supported through copyFrom() and copy()') === 2) this.processInputSoon();
    } catch (error) {
      this.#fail(messageOf(error));
    }
  }

  /** COPY BOTH (START_REPLICATION) outside replicate(): ended at once, what comes is dropped. */
  #refuseCopyBoth(): void {
    try {
      this.#native.putCopyEnd(null);
      this.processInputSoon();
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
        this.cancel(this.#cancelTimeout).catch(() => undefined);
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

let closePreparedFeature: boolean | undefined;

function hasClosePrepared(): boolean {
  closePreparedFeature ??= native().hasFeature('closePrepared');
  return closePreparedFeature;
}

export function isError(result: NativeResult): boolean {
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


const DEFAULT_CANCEL_TIMEOUT = 10;

/** Whether libpq's `replication` keyword asks for a walsender (any value but the false ones). */
function isReplication(value: string | undefined): boolean {
  return value !== undefined && !['false', 'off', 'no', '0'].includes(value.toLowerCase());
}
