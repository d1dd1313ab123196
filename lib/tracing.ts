// The diagnostics_channel TracingChannels that pqnode publishes, and the shapes of their
// contexts. APM tools (OpenTelemetry and the like) subscribe to them instead of patching the
// driver. Nothing here runs unless someone subscribes: callers read `hasSubscribers` on the
// channel first, and build a context only then, so the hot path pays one property read.
import diagnosticsChannel, { type TracingChannel } from 'node:diagnostics_channel';

/** Where a traced operation runs: the server and its database, as far as they are known. */
export interface ServerTraceContext {
  /** the server's host name, address or socket directory */
  host?: string;
  port?: number;
  database?: string;
}

/** The context of `pqnode:connect`: `error` when the connection failed. */
export interface ConnectTraceContext extends ServerTraceContext {
  user?: string;
  /** set by TracingChannel when the connection failed */
  error?: unknown;
  /** set by TracingChannel: the connection, when it opened */
  result?: unknown;
}

/** The context of `pqnode:query` (one statement) and `pqnode:copy` (one COPY). */
export interface QueryTraceContext extends ServerTraceContext {
  /** the statement as sent to the server */
  query: string;
  /** how many bind parameters went with it */
  parameterCount: number;
  /** at the end: the rows the statement returned or touched (null when the server says none) */
  rowCount?: number | null;
  /** set by TracingChannel when the statement failed (a DatabaseError carries its sqlstate) */
  error?: unknown;
  /** set by TracingChannel: what the call resolved with */
  result?: unknown;
  /** `executemany()`: how many times the statement was executed (one span for them all) */
  batchSize?: number;
  /** a stream the reader gave up on before its statement ended: `rowCount` is the rows received until then */
  aborted?: boolean;
  /** a server-side cursor's DECLARE, FETCH or MOVE: the cursor's name (`query` is then the cursor's statement) */
  cursor?: string;
  /** ... and the command that went to the server on it: 'DECLARE', 'FETCH FORWARD 100', 'MOVE ABSOLUTE 5' */
  cursorCommand?: string;
}

/** The context of `pqnode:copy`: a COPY statement, its rows counted at the end. */
export type CopyTraceContext = QueryTraceContext;

/** The context of `pqnode:pool:acquire`: the pool's state when asked, the server at the end. */
export interface PoolAcquireTraceContext extends ServerTraceContext {
  /** connections open (idle and in use) when the caller asked */
  size: number;
  /** connections idle when the caller asked */
  idle: number;
  /** callers already waiting in line when the caller asked */
  waiting: number;
  /** set by TracingChannel when no connection came (timeout, closed pool, failed connect) */
  error?: unknown;
  /** set by TracingChannel: the connection handed out */
  result?: unknown;
}

/**
 * The TracingChannel of that name. Node before 20.13 has no `hasSubscribers` on a
 * TracingChannel: it is given one, so that these Nodes publish too instead of never.
 */
function tracingChannel<C extends object>(name: string): TracingChannel<unknown, C> {
  const channel = diagnosticsChannel.tracingChannel<unknown, C>(name);
  if (!('hasSubscribers' in channel)) {
    Object.defineProperty(channel, 'hasSubscribers', {
      get(this: TracingChannel<unknown, C>): boolean {
        return (
          this.start.hasSubscribers || this.end.hasSubscribers || this.asyncStart.hasSubscribers || this.asyncEnd.hasSubscribers || this.error.hasSubscribers
        );
      },
    });
  }
  return channel;
}

export const connectChannel = tracingChannel<ConnectTraceContext>('pqnode:connect');
export const queryChannel = tracingChannel<QueryTraceContext>('pqnode:query');
export const copyChannel = tracingChannel<CopyTraceContext>('pqnode:copy');
export const poolAcquireChannel = tracingChannel<PoolAcquireTraceContext>('pqnode:pool:acquire');

/**
 * Run `run` as one traced operation on `channel` (start, end, then asyncStart and asyncEnd,
 * with error before them when it fails). `finish` reads what the subscribers see at the end
 * (a row count, the server) from the value before asyncStart is published.
 */
export function trace<T, C extends object>(
  channel: TracingChannel<unknown, C>,
  context: C,
  run: () => Promise<T>,
  finish?: (context: C, value: T) => void,
): Promise<T> {
  if (finish === undefined) return channel.tracePromise(run, context);
  return channel.tracePromise(async () => {
    const value = await run();
    finish(context, value);
    return value;
  }, context);
}

/**
 * The first half of a traced operation that does not end with a promise (a stream): `send`
 * runs between `start` and `end`, as TracingChannel's traceSync runs it (`error` too when it
 * throws), but what it returns is not taken for the operation's `result`: that is known, if
 * ever, when settleTrace() is called, which ends the operation.
 */
export function startTrace<T, C extends { error?: unknown }>(channel: TracingChannel<unknown, C>, context: C, send: () => T): T {
  return channel.start.runStores(context, () => {
    try {
      return send();
    } catch (error) {
      context.error = error;
      channel.error.publish(context);
      throw error;
    } finally {
      channel.end.publish(context);
    }
  });
}

/** The second half: `error` when it failed, then `asyncStart` and `asyncEnd`, as tracePromise ends. */
export function settleTrace<C extends { error?: unknown }>(channel: TracingChannel<unknown, C>, context: C, failure?: { error: unknown }): void {
  if (failure !== undefined) {
    context.error = failure.error;
    channel.error.publish(context);
  }
  channel.asyncStart.publish(context);
  channel.asyncEnd.publish(context);
}

/** The row count of a statement's last result as the contexts give it (null: the server says none). */
export function rowCountOf(results: readonly { rowCount: number }[]): number | null {
  const last = results[results.length - 1];
  return last !== undefined && last.rowCount >= 0 ? last.rowCount : null;
}

/** How many parameters a statement carries, whatever form they came in. */
export function parameterCountOf(values: unknown): number {
  if (values === undefined || values === null) return 0;
  if (Array.isArray(values)) return values.length;
  if (typeof values === 'object') return Object.keys(values).length;
  return 0;
}

/** The port as a number, from the text libpq or a conninfo gives (undefined when none). */
export function portOf(port: string | number | undefined | null): number | undefined {
  if (port === undefined || port === null || port === '') return undefined;
  const value = Number(port);
  return Number.isFinite(value) ? value : undefined;
}
