// A logical replication stream: START_REPLICATION over COPY BOTH on a replication connection,
// read as an async iterator of the plugin's messages with their LSNs. Status updates tell the
// server how far the consumer got: on a timer, when the server asks, and when it closes. A
// consumer that falls behind stops the reading of the socket (TCP then holds the server back).
import * as errors from '../errors';
import { Fifo } from '../fifo';
import { messageOf } from '../thrown';
import { TypecasterRegistry, globalTypecasters } from '../adapt/typecasters';
import type { Connection } from '../connection';
import { coreOf, type NativeResult } from '../core/interface';
import { checkSlotName, createSlotCommand, slotQuery, startCommand, type PluginOptions } from './commands';
import { formatLsn, lsnValue } from './lsn';
import { PgoutputDecoder, type PgoutputMessage } from './pgoutput';
import { forEachFramed, pgTimeToDate, readReplicationMessage, standbyStatusUpdate, type XLogData } from './protocol';

export interface ReplicateOptions {
  /** the replication slot to read */
  slot: string;
  /** the output plugin: 'pgoutput' (the default), 'test_decoding', 'wal2json', ... */
  plugin?: string;
  /** the plugin's options, e.g. `{ proto_version: '1', publication_names: 'mypub' }` for pgoutput */
  options?: PluginOptions;
  /** create the slot when it does not exist (with `temporary`: always, for this stream only) */
  create?: boolean;
  /** the slot is created for this stream and vanishes when it ends (needs `create`) */
  temporary?: boolean;
  /** where to start ('X/Y'); the server starts no earlier than the slot's confirmed_flush_lsn */
  startLsn?: string;
  /** seconds between status updates (default 10) */
  statusInterval?: number;
  /** bytes of messages held for the consumer before the socket is no longer read (default 4 MiB) */
  maxBuffered?: number;
}

/** One message of the stream. */
export interface ReplicationMessage {
  /** where the message's data starts in the WAL, as PostgreSQL writes it ('0/16B3748'); a commit's is the transaction's end */
  lsn: string;
  /** the end of the WAL on the server when the message was sent */
  walEnd: string;
  /** the server's clock when it sent the message */
  sendTime: Date;
  /** what the plugin wrote (a view of the bytes read: copy it to keep it beyond the batch) */
  data: Buffer;
  /** with pgoutput, the message decoded; undefined for other plugins */
  message: PgoutputMessage | undefined;
}

const DEFAULT_STATUS_INTERVAL = 10;
const DEFAULT_MAX_BUFFERED = 4 * 1024 * 1024;
/** how long close() waits for the server to end the stream before it closes the connection */
const END_TIMEOUT_MS = 1000;
/** pgoutput messages after which nothing of a transaction is still to come */
const TRANSACTION_ENDS = new Set(['commit', 'streamCommit', 'commitPrepared', 'rollbackPrepared', 'prepare', 'streamPrepare']);

type State = 'starting' | 'streaming' | 'closing' | 'closed';

interface Waiter {
  resolve(result: IteratorResult<ReplicationMessage, undefined>): void;
  reject(error: Error): void;
}

/** @internal Runs a replication command (or a query: the walsender takes both, by the simple protocol). */
export async function runCommand(conn: Connection, text: string): Promise<NativeResult> {
  const results = await coreOf(conn).copy(text, {});
  return results[results.length - 1];
}

/** A stream that has started: what `await replicate(...)` gives. */
export type StartedReplicationStream = Omit<ReplicationStream, 'then'>;

/** What replicate() returns: an async iterator of the slot's messages. */
export class ReplicationStream implements AsyncIterableIterator<ReplicationMessage>, AsyncDisposable {
  /** the slot read */
  readonly slot: string;
  /** the typecasters of pgoutput's values (the global ones apply where it sets none) */
  readonly typecasters = new TypecasterRegistry(globalTypecasters);
  /** resolves once the server streams (rejects when it cannot start: the first next() rejects too) */
  readonly ready: Promise<void>;

  #options: ReplicateOptions;
  #plugin: string;
  #state: State = 'starting';
  #conn: Connection | undefined;
  #started: Promise<void>;
  #closing: Promise<void> | undefined;
  /** the COPY BOTH request: settles when the stream ends */
  #copyDone: Promise<unknown> | undefined;
  #queue = new Fifo<XLogData>();
  #buffered = 0;
  #paused = false;
  #waiters: Waiter[] = [];
  /** why the stream ended, for the next next() (reported once) */
  #error: Error | undefined;
  #decoder: PgoutputDecoder | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** the highest position received, flushed (acknowledged) as the server will be told */
  #received = 0n;
  #acknowledged = 0n;
  /** the LSN of the last message handed over, and whether a transaction ended with it (pgoutput) */
  #delivered = -1n;
  #betweenTransactions = true;
  #maxBuffered: number;
  #statusInterval: number;
  #markReady!: () => void;
  #failReady!: (error: Error) => void;

  /** @internal use replicate() */
  constructor(options: ReplicateOptions, open: () => Promise<Connection>) {
    this.#options = options;
    this.slot = checkSlotName(options.slot);
    this.#plugin = checkPlugin(options.plugin ?? 'pgoutput');
    if (options.temporary === true && options.create !== true) {
      throw new errors.ProgrammingError('a temporary slot is made for its stream: temporary needs create');
    }
    this.#statusInterval = positive('statusInterval', options.statusInterval, DEFAULT_STATUS_INTERVAL);
    this.#maxBuffered = positive('maxBuffered', options.maxBuffered, DEFAULT_MAX_BUFFERED);
    if (options.options !== undefined && (options.options === null || typeof options.options !== 'object')) {
      throw new TypeError('options.options must be an object of plugin options');
    }
    const start = options.startLsn === undefined ? 0n : lsnValue(options.startLsn);
    this.ready = new Promise<void>((resolve, reject) => {
      this.#markReady = resolve;
      this.#failReady = reject;
    });
    // whoever never awaits it learns of a failure from next()
    this.ready.catch(() => undefined);
    this.#started = this.#start(open, start).catch((error: unknown) => this.#fail(error instanceof Error ? error : new errors.OperationalError(messageOf(error))));
  }

  /**
   * `await replicate(...)` waits until the stream has started (the slot exists and the server
   * streams), so that what is written afterwards is sure to come; it rejects when the stream
   * cannot start. It resolves with the stream itself, which then stops being thenable.
   */
  then<A = StartedReplicationStream, B = never>(
    onfulfilled?: ((stream: StartedReplicationStream) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.ready
      .then((): StartedReplicationStream => {
        // a promise resolved with a thenable would await it again, for ever
        Object.defineProperty(this, 'then', { value: undefined, configurable: true });
        return this;
      })
      .then(onfulfilled, onrejected);
  }

  /** the output plugin of the slot */
  get plugin(): string {
    return this.#plugin;
  }

  /** bytes of messages received and not yet taken */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /** the position acknowledged so far ('X/Y') */
  get acknowledgedLsn(): string {
    return formatLsn(this.#acknowledged);
  }

  get closed(): boolean {
    return this.#state === 'closed' || this.#state === 'closing';
  }

  async #start(open: () => Promise<Connection>, start: bigint): Promise<void> {
    const conn = await open();
    this.#conn = conn;
    if (this.#state !== 'starting') return;
    const options = this.#options;
    const found = await runCommand(conn, slotQuery(this.slot));
    const row = found.rows[0] as [string | null, string] | undefined;
    if (row !== undefined && !options.temporary) {
      if (row[1] !== 'logical') throw new errors.ProgrammingError(`replication slot "${this.slot}" is a ${row[1]} slot, not a logical one`);
      if (options.plugin !== undefined && row[0] !== options.plugin) {
        throw new errors.ProgrammingError(`replication slot "${this.slot}" uses the plugin ${row[0]}, not ${options.plugin}`);
      }
      this.#plugin = row[0] ?? this.#plugin;
    } else if (options.create === true) {
      await runCommand(conn, createSlotCommand(this.slot, this.#plugin, options.temporary === true));
    }
    if (this.#state !== 'starting') return;
    const pluginOptions: PluginOptions = { ...options.options };
    if (this.#plugin === 'pgoutput') {
      pluginOptions.proto_version ??= '1';
      this.#decoder = new PgoutputDecoder(this.typecasters);
    }
    this.#copyDone = coreOf(conn).copy(startCommand(this.slot, start, pluginOptions), {
      onCopyBoth: () => this.#onStreaming(),
      onData: (chunk, done) => this.#onData(chunk, done),
    });
    this.#copyDone.then(
      () => this.#onEnded(),
      (error: Error) => this.#fail(error),
    );
  }

  #onStreaming(): void {
    if (this.#state !== 'starting') return;
    this.#state = 'streaming';
    this.#timer = setInterval(() => this.#sendStatus(false), this.#statusInterval * 1000);
    this.#timer.unref();
    this.#markReady();
  }

  #onData(chunk: Buffer | null, done: boolean): void {
    if (this.#state !== 'streaming') return;
    if (chunk !== null) {
      try {
        forEachFramed(chunk, (bytes) => {
          const message = readReplicationMessage(bytes);
          if (message.kind === 'data') {
            this.#queue.push(message);
            this.#buffered += message.data.length;
            if (message.walStart > this.#received) this.#received = message.walStart;
          } else {
            this.#onKeepalive(message.walEnd, message.replyRequested);
          }
        });
      } catch (error) {
        this.#fail(error as Error);
        return;
      }
      this.#deliver();
      if (!this.#paused && this.#buffered > this.#maxBuffered && this.#state === 'streaming') {
        this.#paused = true;
        if (this.#conn) coreOf(this.#conn).pauseCopyOut();
      }
    }
    if (done && this.#conn !== undefined && !this.#conn.closed) {
      // The server ended its half: ours ends too, then the COPY's result comes. Or reading
      // failed: then there is no COPY left to end, and the failure comes as the result.
      try {
        coreOf(this.#conn).putCopyEnd(null);
        coreOf(this.#conn).processInputSoon();
      } catch {
        // the result that follows says what happened
      }
    }
  }

  /**
   * A keepalive. With pgoutput, once every message handed over was acknowledged and the last
   * one ended a transaction, the server's position may be reported as flushed: nothing before
   * it is still to come (PostgreSQL's own apply worker does the same), and an idle slot does
   * not hold back the WAL of other databases.
   */
  #onKeepalive(walEnd: bigint, replyRequested: boolean): void {
    if (
      this.#decoder !== undefined &&
      this.#queue.length === 0 &&
      this.#betweenTransactions &&
      this.#acknowledged >= this.#delivered &&
      walEnd > this.#acknowledged &&
      this.#acknowledged > 0n
    ) {
      this.#acknowledged = walEnd;
    }
    if (walEnd > this.#received) this.#received = walEnd;
    if (replyRequested) this.#sendStatus(false);
  }

  /** Sends a standby status update: received, flushed and applied positions. */
  #sendStatus(replyRequested: boolean): void {
    const conn = this.#conn;
    if (this.#state !== 'streaming' || conn === undefined || conn.closed) return;
    const flushed = this.#acknowledged;
    const written = this.#received > flushed ? this.#received : flushed;
    try {
      coreOf(conn).putCopyData(standbyStatusUpdate(written, flushed, flushed, replyRequested));
    } catch (error) {
      this.#fail(error as Error);
    }
  }

  /**
   * The consumer is done with everything up to `lsn` (the `lsn` of a message it processed;
   * for a transaction, its commit's): the server may forget it, and a consumer that starts
   * again on this slot starts after it. Sent with the next status update.
   */
  acknowledge(lsn: string | bigint): void {
    const value = lsnValue(lsn);
    if (value > this.#acknowledged) this.#acknowledged = value;
  }

  /** Sends a status update now rather than at the next interval (psycopg2's send_feedback(force=True)). */
  sendFeedback(): void {
    this.#sendStatus(false);
  }

  /** Hands queued messages to waiting readers. */
  #deliver(): void {
    while (this.#waiters.length > 0 && this.#queue.length > 0) {
      const waiter = this.#waiters.shift() as Waiter;
      let item: ReplicationMessage;
      try {
        item = this.#take();
      } catch (error) {
        waiter.reject(error as Error);
        this.#fail(error as Error, true);
        return;
      }
      waiter.resolve({ done: false, value: item });
    }
  }

  /** The oldest queued message, decoded; resumes reading once the queue has room. */
  #take(): ReplicationMessage {
    const raw = this.#queue.shift() as XLogData;
    this.#buffered -= raw.data.length;
    if (this.#paused && this.#buffered <= this.#maxBuffered / 2 && this.#state === 'streaming') {
      this.#paused = false;
      if (this.#conn) coreOf(this.#conn).resumeCopyOut();
      // what libpq already holds raises no socket event
      if (this.#conn) coreOf(this.#conn).processInputSoon();
    }
    let message: PgoutputMessage | undefined;
    if (this.#decoder !== undefined) {
      message = this.#decoder.decode(raw.data);
      this.#betweenTransactions = TRANSACTION_ENDS.has(message.type);
    }
    // (a relation message comes with no position: 0/0)
    if (raw.walStart > this.#delivered) this.#delivered = raw.walStart;
    return { lsn: formatLsn(raw.walStart), walEnd: formatLsn(raw.walEnd), sendTime: pgTimeToDate(raw.sendTime), data: raw.data, message };
  }

  next(): Promise<IteratorResult<ReplicationMessage, undefined>> {
    if (this.#queue.length > 0 && this.#waiters.length === 0 && this.#state === 'streaming') {
      try {
        return Promise.resolve({ done: false, value: this.#take() });
      } catch (error) {
        this.#fail(error as Error, true);
        return Promise.reject(error as Error);
      }
    }
    if (this.#error !== undefined) {
      const error = this.#error;
      this.#error = undefined;
      return Promise.reject(error);
    }
    if (this.#state === 'closed' || this.#state === 'closing') return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Ends the stream (a `break` out of `for await` does). */
  async return(): Promise<IteratorResult<ReplicationMessage, undefined>> {
    await this.close();
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Ends the stream: a last status update, the end of the COPY, the connection closed (a
   * temporary slot goes with it). Pending and later next() calls end the iteration.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const wasStreaming = this.#state === 'streaming';
    if (wasStreaming) this.#sendStatus(false);
    this.#state = 'closing';
    this.#stopTimer();
    this.#endWaiters();
    this.#queue = new Fifo<XLogData>();
    this.#buffered = 0;
    this.#failReady(new errors.InterfaceError('the replication stream was closed'));
    await this.#started;
    const conn = this.#conn;
    if (conn !== undefined && !conn.closed) {
      if (wasStreaming && this.#copyDone !== undefined) {
        try {
          // our half ends; what still comes is dropped while the server ends its own
          coreOf(conn).putCopyEnd(null);
          if (this.#paused) coreOf(conn).resumeCopyOut();
          coreOf(conn).processInputSoon();
          let timer: NodeJS.Timeout | undefined;
          const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, END_TIMEOUT_MS)));
          await Promise.race([this.#copyDone.catch(() => undefined), timeout]);
          clearTimeout(timer);
        } catch {
          // the connection is closed below all the same
        }
      }
      await conn.close();
    }
    this.#state = 'closed';
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #endWaiters(): void {
    for (const waiter of this.#waiters.splice(0)) waiter.resolve({ done: true, value: undefined });
  }

  /** The server ended the stream without being asked. */
  #onEnded(): void {
    if (this.#state !== 'streaming') return;
    this.#state = 'closed';
    this.#stopTimer();
    this.#endWaiters();
    void this.#conn?.close();
  }

  /**
   * The stream cannot go on: the waiting readers get the error (or the next next() does,
   * once), and the connection is closed. `reported`: a reader already has it.
   */
  #fail(error: Error, reported = false): void {
    this.#failReady(error);
    if (this.#state === 'closed' || this.#state === 'closing') return;
    this.#state = 'closed';
    this.#stopTimer();
    const waiters = this.#waiters.splice(0);
    for (const waiter of waiters) waiter.reject(error);
    if (waiters.length === 0 && !reported) this.#error = error;
    this.#queue = new Fifo<XLogData>();
    this.#buffered = 0;
    const conn = this.#conn;
    if (conn !== undefined && !conn.closed) void conn.close().catch(() => undefined);
  }
}

function checkPlugin(plugin: unknown): string {
  if (typeof plugin !== 'string' || plugin === '') throw new errors.ProgrammingError('plugin must be the name of an output plugin');
  return plugin;
}

function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) throw new TypeError(`${name} must be a positive number`);
  return value;
}
