// AbortSignals given to statements and to a pool's acquire(): checked as they are given, and
// what an aborted one fails with, wherever it was stopped (in the connection's queue, on the
// server, or still waiting for a pool's connection).
import { QueryCanceledError } from './base';

/** The signal's reason when it is an Error; else a QueryCanceledError. */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new QueryCanceledError('the query was aborted');
}

/**
 * A TypeError unless `signal` is undefined or an AbortSignal (any object that has `aborted`
 * and the two listener methods: one from another realm or a polyfill serves as well).
 */
export function checkSignal(signal: unknown): asserts signal is AbortSignal | undefined {
  if (signal === undefined) return;
  const candidate = signal as Partial<AbortSignal> | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.aborted !== 'boolean' ||
    typeof candidate.addEventListener !== 'function' ||
    typeof candidate.removeEventListener !== 'function'
  ) {
    throw new TypeError(`signal must be an AbortSignal, not ${signal === null ? 'null' : typeof signal}`);
  }
}
