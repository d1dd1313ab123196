// Objects of the pg-cursor and pg-query-stream packages handed to a client's query(). They are
// written against node-postgres's wire protocol, which pqnode does not expose: each is given a
// Cursor of this module in its place, fed with its own text, values and config, so that
// libraries that require those packages themselves (Knex, TypeORM) stream through pqnode.
import { CopyFromStream, CopyToStream } from './copy-streams';
import { Cursor, type CursorConfig } from './cursor';
import { QueryStream } from './query-stream';
import type { SubmitContext, Submittable } from './query';

/** What pg-cursor's Cursor holds that is read here. */
interface ForeignCursor {
  text: string;
  values: unknown[] | null;
  _conf?: CursorConfig;
  read: unknown;
  close: unknown;
  emit(event: string, ...args: unknown[]): boolean;
  handleDataRow?: unknown;
}

function isForeignCursor(value: unknown): value is ForeignCursor {
  if (value === null || typeof value !== 'object' || value instanceof Cursor) return false;
  const candidate = value as Partial<ForeignCursor>;
  return typeof candidate.text === 'string' && typeof candidate.read === 'function' && typeof candidate.close === 'function' && typeof candidate.handleDataRow === 'function';
}

/** A Cursor of ours doing the work of a pg-cursor, which keeps its identity, methods and events. */
function standIn(foreign: ForeignCursor, owner: object): Cursor<unknown> {
  const own = new Cursor<unknown>(foreign.text, foreign.values, foreign._conf);
  own._owner = owner;
  for (const event of ['row', 'end', 'error'] as const) {
    own.on(event, (...args: unknown[]) => {
      if (event !== 'error' || (foreign as unknown as { listenerCount(name: string): number }).listenerCount('error') > 0) foreign.emit(event, ...args);
    });
  }
  foreign.read = own.read.bind(own);
  foreign.close = own.close.bind(own);
  return own;
}

/** The submittable to run for `value`, or an error saying it cannot be run. */
export function adoptForeignSubmittable(value: unknown): Submittable {
  if (value instanceof Cursor || value instanceof QueryStream || value instanceof CopyFromStream || value instanceof CopyToStream) return value;
  const stream = value as { cursor?: unknown; submit?: unknown };
  if (isForeignCursor(stream.cursor)) {
    // pg-query-stream: its Readable reads through `this.cursor`, which becomes ours
    const own = standIn(stream.cursor, stream);
    stream.cursor = own;
    return own;
  }
  if (isForeignCursor(value)) return standIn(value, value);
  throw new TypeError(
    'pqnode/pg runs its own Query, Cursor and QueryStream, and the objects of pg-cursor and pg-query-stream; other submittables speak node-postgres\'s wire protocol, which pqnode does not expose',
  );
}

export type { SubmitContext };
