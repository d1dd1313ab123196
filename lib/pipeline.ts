// Explicit pipelines, as psycopg 3's conn.pipeline(): the statements issued through it go out
// together without a sync each, so they share one implicit transaction and one fate: after an
// error, the statements up to the next sync() fail with PipelineAborted.
import type { Connection } from './connection';
import type { QueryOptions } from './core/types';
import type { Result } from './core/result';
import { coreOf, type Core } from './core/interface';
import { withCallerStack } from './caller-stack';
import { checkRowFactory } from './rows';
import { Cursor, type CursorOptions } from './cursor';
import type { QueryParams } from './placeholders';
import { resolveQuery, type QueryText } from './query-text';
import { queryChannel, trace } from './tracing';

export class Pipeline {
  readonly #conn: Connection;
  readonly #core: Core;

  /** @internal use conn.pipeline() */
  constructor(conn: Connection) {
    this.#conn = conn;
    this.#core = coreOf(conn);
  }

  /** Queue a statement (`$1` placeholders); its promise settles when its result arrives. */
  async query<R = Record<string, unknown>>(text: QueryText, params?: readonly unknown[], options?: QueryOptions): Promise<Result<R>> {
    try {
      const core = this.#core;
      const query = resolveQuery(text, params, this.#conn);
      const factory = options?.rowFactory !== undefined ? checkRowFactory(options.rowFactory) : (core.rowFactory ?? 'object');
      const run = async () => {
        const results = await core.runPipelined(query.text, query.values, options?.signal);
        return core.makeResult<R>(results[results.length - 1], factory);
      };
      if (!queryChannel.hasSubscribers) return await run();
      return await trace(queryChannel, core.queryTraceContext(query.text, query.values), run, (context, result) => {
        context.rowCount = result.rowCount;
      });
    } catch (error) {
      throw withCallerStack(error);
    }
  }

  /** A cursor whose statements go through this pipeline (psycopg placeholders). */
  cursor<R = unknown[]>(options?: CursorOptions): Cursor<R> {
    return new Cursor<R>(this.#conn, options, (text, values, _prepare, typecasters) => this.#core.runPipelined(text, values, undefined, typecasters));
  }

  /** Queue a statement on a new cursor (psycopg placeholders). */
  execute<R = unknown[]>(text: QueryText, params?: QueryParams | null): Promise<Cursor<R>> {
    return this.cursor<R>().execute(text, params);
  }

  /**
   * End the current segment: the server runs what came before as one implicit transaction
   * (in autocommit mode) and a failure in it stops mattering to what comes after.
   * Resolves once every statement before it has its result.
   */
  async sync(): Promise<void> {
    await this.#core.pipelineSync();
  }
}
