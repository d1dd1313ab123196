// One statement, as conn.query() runs it: its text resolved, its rows shaped by the row
// factory, a span published on `pqnode:query` when someone listens. pool.query() runs it on
// the connection it chose through here too, rather than through conn.query(): not an async
// function, so that a pooled statement is settled through one promise layer fewer (conn.query()
// adds only what an awaiting caller needs, the caller's line in the error's stack).
import type { Connection } from './connection';
import type { Core } from './core/interface';
import type { Result } from './core/result';
import type { QueryOptions } from './core/types';
import { resolveQuery, type QueryText } from './query-text';
import { checkRowFactory } from './rows';
import { queryChannel, trace } from './tracing';

/** Rejects, never throws: every failure, a bad argument included, is a rejected promise. */
export function runQuery<R>(core: Core, conn: Connection, text: QueryText, params: readonly unknown[] | undefined, options: QueryOptions | undefined): Promise<Result<R>> {
  try {
    const query = resolveQuery(text, params, conn);
    const factory = options?.rowFactory !== undefined ? checkRowFactory(options.rowFactory) : (core.rowFactory ?? 'object');
    // object rows are made in C++ where no JS typecaster has to run first
    const run = () =>
      core
        .run(query.text, query.values, options?.signal, options?.prepare, undefined, factory === 'object')
        .then((results) => core.makeResult<R>(results[results.length - 1], factory));
    if (!queryChannel.hasSubscribers) return run();
    return trace(queryChannel, core.queryTraceContext(query.text, query.values), run, (context, result) => {
      context.rowCount = result.rowCount;
    });
  } catch (error) {
    return Promise.reject(error);
  }
}
