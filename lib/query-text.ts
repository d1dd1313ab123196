// What may stand where a query is taken: a string, or an object that composes one
// (the sql module's objects carry their text and, for sql.query, their parameters).
import { ProgrammingError } from './errors';
import type { Connection } from './connection';

export interface QueryLike {
  /** the text with $n placeholders and the values that go with them, for this connection */
  toQuery(conn?: Connection): { text: string; values?: readonly unknown[] };
}

export type QueryText = string | QueryLike;

export interface ResolvedQuery {
  text: string;
  values: readonly unknown[] | undefined;
  /** the text came from a composed object: its placeholders are already $n */
  composed: boolean;
}

export function resolveQuery(text: QueryText, params: readonly unknown[] | undefined, conn?: Connection): ResolvedQuery {
  if (typeof text === 'string') return { text, values: params, composed: false };
  if (text !== null && typeof text === 'object' && typeof (text as QueryLike).toQuery === 'function') {
    const query = (text as QueryLike).toQuery(conn);
    if (query.values !== undefined && params !== undefined) {
      throw new ProgrammingError('this query carries its own parameters: pass no others');
    }
    return { text: query.text, values: query.values ?? params, composed: true };
  }
  throw new TypeError('the query must be a string or a composed sql object');
}

/**
 * A statement's text as libpq can take it, checked before anything is sent (a failed send
 * would leave the connection unusable): a C string in UTF-8, so no NUL, which would cut it
 * short, and no lone surrogate (half of a UTF-16 pair alone), which the server would read
 * as U+FFFD.
 */
export function checkQueryText(text: string): void {
  if (typeof text !== 'string') throw new TypeError('the query text must be a string');
  if (text.includes('\u0000')) throw new ProgrammingError('the query text contains a NUL (0x00) character');
  if (!text.isWellFormed()) throw new ProgrammingError('the query text holds a lone surrogate (half of a UTF-16 pair alone), which has no UTF-8 form');
}

/** A LISTEN / UNLISTEN channel name as libpq can take it: no NUL, no lone surrogate. */
export function checkChannelName(channel: string): void {
  if (channel.includes('\u0000')) throw new ProgrammingError('a channel name cannot contain a NUL (0x00) character');
  if (!channel.isWellFormed()) throw new ProgrammingError('a channel name holds a lone surrogate (half of a UTF-16 pair alone), which has no UTF-8 form');
}
