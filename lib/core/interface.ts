// What the features may know of the connection core: the calls they make on it (run a
// statement, stream one, start a COPY, read the transaction state, make a result), the
// shape of the results it hands them, and which optional libpq features the linked libpq
// has. A feature reaches the core of a Connection with coreOf(conn); it never names the
// core's workings (connection-core.ts, request.ts) nor the native handle.
import { native, type NativeResult } from '../native';
import type { TypecasterRegistry } from '../adapt/typecasters';
import type { AdapterRegistry } from '../adapt/adapters';
import type { RowFactory } from '../rows';
import type { QueryTraceContext, ServerTraceContext } from '../tracing';
import type { TransactionOptions } from './begin';
import type { Result } from './result';

export { ExecStatus } from '../native';
export type { NativeField, NativeResult } from '../native';

/** Who takes the rows of a streamed statement as they arrive. */
export interface RowsHandler {
  /** 1: single-row mode; n > 1: chunks of n rows (libpq 17+) */
  mode: number;
  onRows(result: NativeResult): void;
}

/** A COPY as it starts: its last result is the server's CopyIn or CopyOut. */
export interface CopyStart {
  readonly results: readonly NativeResult[];
}

/** Who is told of a COPY's start and takes its data. */
export interface CopyHandler {
  onCopyIn?(copy: CopyStart): void;
  onCopyOut?(copy: CopyStart): void;
  /** a COPY BOTH began (START_REPLICATION): onData gets its messages, each behind its length */
  onCopyBoth?(copy: CopyStart): void;
  onData?(chunk: Buffer | null, done: boolean): void;
  onWritable?(): void;
}

/** A two-phase transaction under way: its global id, and whether PREPARE TRANSACTION ran. */
export interface TwoPhase {
  readonly gid: string;
  prepared: boolean;
}

/** The connection core as the features use it. */
export interface Core {
  readonly closed: boolean;
  readonly broken: boolean;
  readonly autocommit: boolean;
  readonly typecasters: TypecasterRegistry;
  readonly adapters: AdapterRegistry;
  readonly rowFactory: RowFactory | undefined;
  /** Throws the error a closed or lost connection fails with. */
  checkOpen(): void;

  /** One statement (or several without parameters); resolves with the results the user asked for. */
  run(
    text: string,
    values: readonly unknown[] | undefined,
    signal?: AbortSignal,
    prepare?: boolean,
    typecasters?: TypecasterRegistry,
    objectRows?: boolean,
  ): Promise<NativeResult[]>;
  /** One statement into the explicit pipeline under way: no sync after it. */
  runPipelined(text: string, values: readonly unknown[] | undefined, signal?: AbortSignal, typecasters?: TypecasterRegistry): Promise<NativeResult[]>;
  /** A sync in the explicit pipeline: resolves once every statement before it has its result. */
  pipelineSync(): Promise<void>;
  /** One statement with its rows handed to `handler` as they arrive; `stop()` cancels it when that harms nothing else. */
  stream(text: string, values: readonly unknown[] | undefined, handler: RowsHandler, signal?: AbortSignal): { done: Promise<NativeResult[]>; stop(): void };
  /** backpressure for streamed rows: stop reading the socket, then start again */
  pauseReading(): void;
  resumeReading(): void;
  /** Read what libpq already holds, on a later turn of the event loop. */
  processInputSoon(): void;
  /** A result as the user sees it: typecast and shaped by the row factory. */
  makeResult<R>(result: NativeResult, factory: RowFactory): Result<R>;

  /** depth of transaction() blocks */
  transactionDepth: number;
  /** whether a transaction is open, or will be once what was sent has run */
  readonly inTransaction: boolean;
  /** the two-phase transaction under way; while it is prepared, only its COMMIT or ROLLBACK PREPARED may run */
  twoPhase: TwoPhase | undefined;
  /** Send a transaction-control statement; `opens` tells what it does to the transaction state. */
  control(text: string, opens: boolean | undefined): Promise<void>;
  /** BEGIN with the session's characteristics, overridden by `options`. */
  beginStatement(options?: TransactionOptions): string;

  /** Start a COPY with the simple protocol; `handler` gets the data events. */
  copy(text: string, handler: CopyHandler): Promise<NativeResult[]>;
  /** 1: queued; 0: libpq's buffer is full, wait for onWritable */
  putCopyData(data: Buffer): number;
  /** Ends COPY FROM STDIN (`error`: abort it with that message); 2 when input waits to be read. */
  putCopyEnd(error: string | null): number;
  pauseCopyOut(): void;
  resumeCopyOut(): void;

  escapeLiteral(text: string): string;
  escapeIdentifier(text: string): string;
  /** The server's setting `name` as libpq last heard of it (null when unknown or closed). */
  parameterStatus(name: string): string | null;
  /** commands sent whose results have not all come back */
  pendingCommands(): number;

  /** the server and database, for the contexts of the tracing channels (empty once closed) */
  serverTraceContext(): ServerTraceContext;
  /** the context of one statement on `pqnode:query` */
  queryTraceContext(text: string, values: unknown): QueryTraceContext;
}

/** Each Connection's core, kept off the Connection so that no declaration file shows it. */
const cores = new WeakMap<object, Core>();

/** The core of a Connection (made by connect()). */
export function coreOf(conn: object): Core {
  const core = cores.get(conn);
  if (core === undefined) throw new TypeError('not a pqnode Connection');
  return core;
}

/** Called once by each Connection as it is made. */
export function attachCore(conn: object, core: Core): void {
  cores.set(conn, core);
}

/** Whether the linked libpq has an optional feature ('chunkedRows', 'closePrepared', ...). */
export function libpqHas(feature: string): boolean {
  return native().hasFeature(feature);
}
