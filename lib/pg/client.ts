// node-postgres's Client over a pqnode connection. Queries issued while others run are
// pipelined on the connection rather than queued behind them; results, callbacks and events
// come in the order the queries were issued, as node-postgres gives them.
import { EventEmitter } from 'node:events';

import { CoreConnection, nativeSetOf, type CoreNotice, type CoreParam, type CoreResult, type NativeSet } from './driver';
import { connectSettings, prepareThresholdOf, queryTimeoutOf, resolvePassword, type ClientConfig } from './config';
import { defaults } from './defaults';
import { NoticeMessage, toPgError } from './errors';
import { prepareValues } from './prepare-value';
import { Query, type QueryCallback, type QueryConfig, type QueryResults, type RowStreamHandle, type SubmitContext, type Submittable } from './query';
import type { Result } from './result';
import { TypeOverrides, typesVersion, type CustomTypesConfig, type TypeFormat, type TypeParser } from './type-parsers';
import { escapeIdentifier, escapeLiteral } from './escape';
import { adoptForeignSubmittable } from './foreign';
import type { Notification } from '../core/notifications';

export interface NotificationMessage {
  readonly name: 'notification';
  readonly length: number;
  readonly processId: number;
  readonly channel: string;
  readonly payload: string;
}

/** The shape of a pg-cursor as typed by the libraries that take one (Kysely's PostgresCursor). */
interface CursorLike {
  read(rowCount: number): Promise<unknown[]>;
  close(): Promise<void>;
}

/** What a query run on the client is told about: its settled promise or callback. */
type Done<T> = { promise: Promise<T> | undefined; callback: QueryCallback<T> };

function promiseOrCallback<T>(callback: QueryCallback<T> | undefined, PromiseClass: PromiseConstructor): Done<T> {
  if (callback !== undefined) return { promise: undefined, callback };
  let settle!: QueryCallback<T>;
  const promise = new PromiseClass<T>((resolve, reject) => {
    settle = (error, value) => (error ? reject(error) : resolve(value));
  });
  return { promise, callback: settle };
}

/** Parameter status values the server reports at connect, replayed on `client.connection` for libraries that read them. */
const REPORTED_PARAMETERS = [
  'server_version',
  'server_encoding',
  'client_encoding',
  'application_name',
  'DateStyle',
  'IntervalStyle',
  'TimeZone',
  'integer_datetimes',
  'standard_conforming_strings',
  'is_superuser',
  'session_authorization',
];

export class Client extends EventEmitter {
  user: string | undefined;
  database: string | undefined;
  port: number;
  host: string;
  password: ClientConfig['password'];
  ssl: ClientConfig['ssl'];
  /** the server's process id for this session, once connected */
  processID: number | null = null;
  secretKey: number | null = null;
  readonly connectionParameters: ClientConfig & { query_timeout: number | undefined };
  /** emits 'parameterStatus' ({ parameterName, parameterValue }) while connecting, as node-postgres's connection does */
  readonly connection = new EventEmitter();
  _types: TypeOverrides;
  _ending = false;
  _ended = false;
  _connecting = false;
  _connected = false;
  _queryable = true;
  readonly _Promise: PromiseConstructor;
  /** set by a pool: returns the client to it (an error, or true, destroys it) */
  release?: (error?: Error | boolean) => void;

  readonly #config: ClientConfig;
  #core: CoreConnection | undefined;
  #ready: Promise<CoreConnection>;
  #setReady!: (core: CoreConnection) => void;
  #failReady!: (error: Error) => void;
  #cleanup: () => void = () => undefined;
  /** queries sent and not yet settled: a lost connection fails them rather than emitting 'error' */
  #active = 0;
  /** named prepared statements: their text, to refuse a name reused for another */
  #prepared = new Map<string, string>();
  #endPromise: Promise<void> | undefined;
  /** the NativeSet last worked out, and for which parsers */
  #nativeKnown: { types: CustomTypesConfig; version: number; set: NativeSet } | undefined;

  constructor(config?: string | ClientConfig) {
    super();
    const settings: ClientConfig = typeof config === 'string' ? { connectionString: config } : { ...(config ?? {}) };
    this.#config = settings;
    this._Promise = settings.Promise ?? Promise;
    this.user = settings.user ?? process.env.PGUSER ?? defaults.user;
    this.database = settings.database ?? process.env.PGDATABASE ?? defaults.database ?? this.user;
    this.port = Number(settings.port ?? process.env.PGPORT ?? defaults.port);
    this.host = settings.host ?? process.env.PGHOST ?? defaults.host;
    // kept off enumeration, as node-postgres does, so that logging a client shows no password
    Object.defineProperty(this, 'password', { configurable: true, enumerable: false, writable: true, value: settings.password ?? process.env.PGPASSWORD ?? defaults.password ?? undefined });
    this.ssl = settings.ssl;
    this.connectionParameters = { ...settings, query_timeout: queryTimeoutOf(settings) };
    this._types = new TypeOverrides(settings.types);
    this.#ready = new Promise<CoreConnection>((resolve, reject) => {
      this.#setReady = resolve;
      this.#failReady = reject;
    });
    // queries made before connect() wait for it; one that fails must not leave this unhandled
    this.#ready.catch(() => undefined);
  }

  // ---------------------------------------------------------------------------------------
  // connecting and ending

  connect(): Promise<void>;
  connect(callback: (error: Error | null) => void): void;
  connect(callback?: (error: Error | null) => void): Promise<void> | void {
    if (this._connecting || this._connected) {
      const error = new Error('Client has already been connected. You cannot reuse a client.');
      if (callback !== undefined) {
        process.nextTick(() => callback(error));
        return;
      }
      return this._Promise.reject(error);
    }
    this._connecting = true;
    const done = this.#connect().then(
      () => {
        this._connecting = false;
        this._connected = true;
        this.emit('connect');
      },
      (error: unknown) => {
        this._connecting = false;
        this._queryable = false;
        const converted = toPgError(error);
        this.#failReady(converted);
        throw converted;
      },
    );
    if (callback === undefined) return done;
    done.then(
      () => callback(null),
      (error: Error) => callback(error),
    );
  }

  async #connect(): Promise<void> {
    const password = await resolvePassword(this.password);
    const settings = connectSettings(this.#config, password);
    this.#cleanup = settings.cleanup;
    let core: CoreConnection;
    try {
      core = await CoreConnection.open(settings.keywords, { connectTimeout: settings.connectTimeout, prepareThreshold: prepareThresholdOf(this.#config) }, {
        notice: (notice) => this.#onNotice(notice),
        notification: (notification) => this.#onNotification(notification),
        lost: (error) => this.#onLost(error),
      });
    } catch (error) {
      settings.cleanup();
      throw error;
    }
    if (this._ending) {
      // end() was called while connecting
      await core.close();
      settings.cleanup();
      throw new Error('Connection terminated');
    }
    this.#core = core;
    this.processID = core.backendPid;
    for (const name of REPORTED_PARAMETERS) {
      const value = core.parameterStatus(name);
      if (value !== null) this.connection.emit('parameterStatus', { name: 'parameterStatus', parameterName: name, parameterValue: value });
    }
    this.#setReady(core);
  }

  end(): Promise<void>;
  end(callback: (error?: Error) => void): void;
  end(callback?: (error?: Error) => void): Promise<void> | void {
    this._ending = true;
    this.#endPromise ??= this.#end();
    if (callback === undefined) return this.#endPromise;
    this.#endPromise.then(
      () => callback(),
      (error: Error) => callback(error),
    );
  }

  async #end(): Promise<void> {
    const core = this.#core;
    if (core === undefined) {
      // never connected, or still connecting: nothing to close yet
      this.#failReady(new Error('Connection terminated'));
      if (!this._connecting) {
        this.#cleanup();
        this.#emitEnd();
        return;
      }
      await this.#ready.catch(() => undefined);
      this.#emitEnd();
      return;
    }
    await core.close();
    this.#cleanup();
    this.#emitEnd();
  }

  #emitEnd(): void {
    if (this._ended) return;
    this._ended = true;
    this._queryable = false;
    this.emit('end');
  }

  /** @internal whether the connection can take queries (pools check it on release) */
  isConnected(): boolean {
    return this._connected && this._queryable && !this._ending;
  }

  // ---------------------------------------------------------------------------------------
  // events from the connection

  #onNotice(notice: CoreNotice): void {
    if (this.listenerCount('notice') === 0) return;
    this.emit('notice', new NoticeMessage(notice.diag.messagePrimary ?? notice.message, notice.diag));
  }

  #onNotification(notification: Notification): void {
    const message: NotificationMessage = {
      name: 'notification',
      length: 0,
      processId: notification.pid,
      channel: notification.channel,
      payload: notification.payload,
    };
    this.emit('notification', message);
  }

  #onLost(error: Error): void {
    this._queryable = false;
    const converted = toPgError(error);
    // what was running fails with the error; an idle client reports it as node-postgres does
    if (this.#active === 0 && !this._ending) {
      if (this.listenerCount('error') > 0) this.emit('error', converted);
    }
    this.#cleanup();
    this.#emitEnd();
  }

  // ---------------------------------------------------------------------------------------
  // queries

  query<R = Record<string, unknown>>(config: string | QueryConfig, values?: readonly unknown[]): Promise<Result<R>>;
  query<R = Record<string, unknown>>(config: string | QueryConfig, callback: QueryCallback<Result<R>>): void;
  query<R = Record<string, unknown>>(config: string | QueryConfig, values: readonly unknown[] | undefined, callback: QueryCallback<Result<R>>): void;
  /** a Query, Cursor, QueryStream or COPY stream of this module, or a pg-cursor / pg-query-stream object */
  query<T extends Submittable | CursorLike>(submittable: T, callback?: QueryCallback): T;
  query(config: unknown, values?: unknown, callback?: unknown): unknown {
    if (config === null || config === undefined) throw new TypeError('Client was passed a null or undefined query');
    const submittable = config as Partial<Submittable> & { callback?: unknown };
    if (typeof submittable.submit === 'function') {
      const own = config instanceof Query ? config : adoptForeignSubmittable(config);
      if (own instanceof Query && own.callback === undefined) {
        if (typeof values === 'function') own.callback = values as QueryCallback;
        else if (typeof callback === 'function') own.callback = callback as QueryCallback;
      }
      this.#submit(own);
      return config;
    }
    if (typeof config !== 'string' && (typeof config !== 'object' || typeof (config as QueryConfig).text !== 'string')) {
      // node-postgres reports a query without text through the query itself
      const done = promiseOrCallback<unknown>(typeof values === 'function' ? (values as QueryCallback) : (callback as QueryCallback | undefined), this._Promise);
      process.nextTick(() => done.callback(new TypeError('Client was passed a null or undefined query'), undefined));
      return done.promise;
    }
    const query = new Query(config as string | QueryConfig, values as unknown[] | QueryCallback | undefined, callback as QueryCallback | undefined);
    if (query.callback !== undefined && typeof query.callback !== 'function') throw new TypeError('callback is not a function');
    let promise: Promise<unknown> | undefined;
    if (query.callback === undefined) {
      const done = promiseOrCallback<unknown>(undefined, this._Promise);
      query.callback = done.callback as QueryCallback<Result | Result[]>;
      promise = done.promise;
    }
    this.#submit(query);
    return promise;
  }

  #submit(submittable: Submittable): void {
    submittable.submit(this.#context);
  }

  /** What submittables run through: node-postgres's checks, then the statement on the connection. */
  readonly #context: SubmitContext = {
    run: (query) => this.#run(query),
    typesFor: (types) => types ?? this._types,
    stream: (text, values, onRows, owner) => this.#stream(text, values, onRows, owner),
    copyFrom: (text, source) => this.#copy((core) => core.copyFrom(text, source)),
    copyTo: (text) => this.#copy((core) => core.copyTo(text)),
  };

  async #copy<T>(start: (core: CoreConnection) => Promise<T> | T): Promise<T> {
    this.#checkQueryable();
    const core = this.#core ?? (await this.#ready);
    this.#checkQueryable();
    this.#active++;
    try {
      return await start(core);
    } catch (error) {
      throw this.#closedError(error);
    } finally {
      this.#active--;
    }
  }

  async #stream(text: string, values: readonly unknown[] | undefined, onRows: (result: CoreResult) => void, owner: object): Promise<RowStreamHandle> {
    this.#checkQueryable();
    const prepared = values === undefined || values === null ? undefined : prepareValues(values);
    const core = this.#core ?? (await this.#ready);
    this.#checkQueryable();
    const { done, stop } = core.stream(text, prepared, onRows, owner);
    return { done: this.#counted(done), stop, pause: () => core.pauseReading(), resume: () => core.resumeReading() };
  }

  /** `running`, counted in #active until it settles, its failure worded as the client words it. */
  #counted<T>(running: Promise<T>): Promise<T> {
    this.#active++;
    return running.then(
      (value) => {
        this.#active--;
        return value;
      },
      (error: unknown) => {
        this.#active--;
        throw this.#closedError(error);
      },
    );
  }

  #checkQueryable(): void {
    if (this._ending) throw new Error('Client was closed and is not queryable');
    if (!this._queryable) throw new Error('Client has encountered a connection error and is not queryable');
  }

  /**
   * Runs a query's statement. Not an async function: on a connected client with no timeout
   * the connection's promise is taken as it is, with no promise of its own per query.
   */
  #run(query: Query): Promise<QueryResults> {
    let statement: { values: CoreParam[] | undefined; timeout: number | undefined };
    try {
      statement = this.#statementOf(query);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const core = this.#core;
    if (core === undefined || (statement.timeout !== undefined && statement.timeout > 0)) return this.#runWaiting(query, statement.values, statement.timeout);
    let running: Promise<QueryResults>;
    try {
      // a types config of the query's own may throw
      running = this.#send(core, query, statement.values, undefined);
    } catch (error) {
      return Promise.reject(this.#closedError(error));
    }
    return this.#counted(running);
  }

  /** node-postgres's checks on a query; its parameters prepared, its timeout. */
  #statementOf(query: Query): { values: CoreParam[] | undefined; timeout: number | undefined } {
    this.#checkQueryable();
    const values = query.values === undefined || query.values === null ? undefined : prepareValues(query.values);
    if (query.name !== undefined) {
      const known = this.#prepared.get(query.name);
      if (known !== undefined && known !== query.text) {
        throw new Error(`Prepared statements must be unique - '${query.name}' was used for a different statement`);
      }
      this.#prepared.set(query.name, query.text);
    }
    return { values, timeout: query.query_timeout ?? this.connectionParameters.query_timeout };
  }

  /** Sends the statement: node-postgres's protocol choice, the columns decoded natively. */
  #send(core: CoreConnection, query: Query, values: CoreParam[] | undefined, signal: AbortSignal | undefined): Promise<QueryResults> {
    // node-postgres: the simple protocol without parameters (several statements may go), else the extended one
    const extended = query.name !== undefined || query.queryMode === 'extended' || (values !== undefined && values.length > 0);
    const native = this.#nativeSet(query.types);
    query._native = native;
    query._parsers = query.types ?? this._types;
    // the Results are made as the statements' come: a traced span's result is what the query resolves with
    return core.run(
      query.text,
      extended ? (values ?? []) : undefined,
      { prepare: query.name !== undefined ? true : undefined, signal, native, objectRows: query.rowMode !== 'array' },
      query,
    );
  }

  /** #run for a client still connecting, or a query with a timeout. */
  async #runWaiting(query: Query, values: CoreParam[] | undefined, timeout: number | undefined): Promise<QueryResults> {
    const controller = timeout !== undefined && timeout > 0 ? new AbortController() : undefined;
    const core = this.#core ?? (await this.#ready);
    this.#active++;
    let timer: NodeJS.Timeout | undefined;
    try {
      const running = this.#send(core, query, values, controller?.signal);
      if (controller === undefined) return await running;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = new Error('Query read timeout');
          // unlike node-postgres, the statement does not run on: it is cancelled
          controller.abort(error);
          reject(error);
        }, timeout);
      });
      running.catch(() => undefined);
      return await Promise.race([running, timedOut]);
    } catch (error) {
      throw this.#closedError(error);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      this.#active--;
    }
  }

  /** An error as node-postgres words it when the client ended under the query. */
  #closedError(error: unknown): Error {
    const converted = toPgError(error);
    if (this._ending && /connection was closed|connection is closed/.test(converted.message)) return new Error('Connection terminated');
    return converted;
  }

  /** The columns the native layer may decode as the parsers in effect would: worked out again only when a parser changed. */
  #nativeSet(types: CustomTypesConfig | undefined): NativeSet {
    const effective = types ?? this._types;
    const version = typesVersion(effective);
    const known = this.#nativeKnown;
    if (version !== undefined && known !== undefined && known.types === effective && known.version === version) return known.set;
    const set = nativeSetOf(effective);
    if (version !== undefined) this.#nativeKnown = { types: effective, version, set };
    return set;
  }

  // ---------------------------------------------------------------------------------------
  // the rest of node-postgres's surface

  setTypeParser(oid: number, parseFn: TypeParser): void;
  setTypeParser(oid: number, format: TypeFormat, parseFn: TypeParser): void;
  setTypeParser(oid: number, formatOrFn: TypeFormat | TypeParser, parseFn?: TypeParser): void {
    if (typeof formatOrFn === 'function') this._types.setTypeParser(oid, formatOrFn);
    else this._types.setTypeParser(oid, formatOrFn, parseFn as TypeParser);
  }

  getTypeParser(oid: number, format?: TypeFormat): TypeParser {
    return this._types.getTypeParser(oid, format);
  }

  escapeIdentifier(text: string): string {
    return escapeIdentifier(text);
  }

  escapeLiteral(text: string): string {
    return escapeLiteral(text);
  }

  /** node-postgres unrefs its socket; libpq's is watched by the native layer, which keeps the loop alive only while work is in flight. */
  ref(): void {}

  unref(): void {}
}
