// What a statement stopped by its AbortSignal fails with, wherever it was stopped: in the
// connection's queue, on the server, or still waiting for a pool's connection.
import { QueryCanceledError } from './base';

/** The signal's reason when it is an Error; else a QueryCanceledError. */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new QueryCanceledError('the query was aborted');
}
