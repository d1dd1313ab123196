// Explicit pipelines, as psycopg 3's conn.pipeline(): the statements issued through it go out
// together without a sync each, so they share one implicit transaction and one fate: after an
// error, the statements up to the next sync() fail with PipelineAborted.
import type { Connection, QueryOptions, Result } from './connection';
import { Cursor, type CursorOptions } from './cursor';
import type { QueryParams } from './placeholders';
import type { QueryText } from './query-text';

export class Pipeline {
  /** @internal use conn.pipeline() */
  constructor(private readonly conn: Connection) {}

  /** Queue a statement (`$1` placeholders); its promise settles when its result arrives. */
  query<R = Record<string, unknown>>(text: QueryText, params?: readonly unknown[], options?: QueryOptions): Promise<Result<R>> {
    return this.conn._pipelineQuery<R>(text, params, options);
  }

  /** A cursor whose statements go through this pipeline (psycopg placeholders). */
  cursor<R = unknown[]>(options?: CursorOptions): Cursor<R> {
    return new Cursor<R>(this.conn, options, (text, values, _prepare, typecasters) =>
      this.conn._runPipelined(text, values, undefined, typecasters),
    );
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
    await this.conn._pipelineSync();
  }
}
