// COPY FROM STDIN and COPY TO STDOUT over the native primitives, with backpressure both ways.
import { Readable } from 'node:stream';

import * as errors from '../errors';
import { messageOf } from '../thrown';
import { utf8Bytes } from '../utf8';
import type { Connection } from '../connection';
import { coreOf } from '../core/interface';
import { startCopy } from './copy';

export type CopyChunk = Buffer | Uint8Array | string;
export type CopySource = Readable | Iterable<CopyChunk> | AsyncIterable<CopyChunk> | CopyChunk;

function chunksOf(source: CopySource): Iterable<CopyChunk> | AsyncIterable<CopyChunk> {
  if (typeof source === 'string' || source instanceof Uint8Array) return [source];
  if (source !== null && typeof source === 'object') {
    if (Symbol.asyncIterator in source || Symbol.iterator in source) return source as Iterable<CopyChunk>;
  }
  throw new TypeError('the COPY source must be a Readable, an (async) iterable of Buffers or strings, a Buffer or a string');
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return utf8Bytes(chunk, 'COPY data');
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError(`COPY data must be Buffers or strings, not ${chunk === null ? 'null' : typeof chunk}`);
}

/** Resolves with the number of rows the server copied. */
export async function copyFromSource(conn: Connection, text: string, source: CopySource): Promise<number> {
  const chunks = chunksOf(source);
  const copy = await conn.copy(text);
  if (copy.direction !== 'in') {
    await copy[Symbol.asyncDispose]();
    throw new errors.ProgrammingError('copyFrom() needs a COPY ... FROM STDIN statement');
  }
  const iterator = (Symbol.asyncIterator in chunks ? chunks[Symbol.asyncIterator]() : (chunks as Iterable<CopyChunk>)[Symbol.iterator]()) as
    | AsyncIterator<CopyChunk>
    | Iterator<CopyChunk>;
  for (;;) {
    let data: Buffer;
    try {
      const step = await iterator.next();
      if (step.done) break;
      data = toBuffer(step.value);
    } catch (error) {
      await stopSource(iterator);
      // ending the COPY with an error message makes the server roll back all of it
      await copy.abort(`COPY source failed: ${messageOf(error)}`);
      throw error;
    }
    try {
      // a refused write rejects with the server's error, which says why
      await copy.write(data);
    } catch (error) {
      await stopSource(iterator);
      throw error;
    }
  }
  return copy.end();
}

/** Stop the source, if it can be stopped, without letting it mask the first error. */
async function stopSource(iterator: AsyncIterator<CopyChunk> | Iterator<CopyChunk>): Promise<void> {
  try {
    await iterator.return?.();
  } catch {
    // the first error is the one worth reporting
  }
}

/** A Readable of the COPY's data; it ends once the server has confirmed the COPY. */
export function copyToReadable(conn: Connection, text: string): Readable {
  const core = coreOf(conn);
  let paused = false;
  let discarding = false;
  let sawCopyOut = false;
  let finished = false;
  const resume = () => {
    if (!paused || conn.closed) return;
    paused = false;
    core.resumeCopyOut();
    // rows libpq already holds raise no socket event: pump them on the next turn
    core.processInputSoon();
  };
  const stream = new Readable({
    read: resume,
    destroy(error, callback) {
      if (!finished && !conn.closed) {
        // the reader gave up: cancel the COPY and throw away what still comes
        discarding = true;
        resume();
        conn.cancel().catch(() => undefined);
      }
      callback(error);
    },
  });
  let done: Promise<unknown>;
  try {
    done = startCopy(core, text, {
      onCopyOut: () => {
        sawCopyOut = true;
      },
      onData: (chunk) => {
        if (chunk === null || discarding) return;
        if (!stream.push(chunk)) {
          paused = true;
          core.pauseCopyOut();
        }
      },
    });
  } catch (error) {
    process.nextTick(() => stream.destroy(error as Error));
    return stream;
  }
  done.then(
    () => {
      finished = true;
      if (discarding) return;
      if (!sawCopyOut) stream.destroy(new errors.ProgrammingError('copyTo() needs a COPY ... TO STDOUT statement'));
      else stream.push(null);
    },
    (error: Error) => {
      finished = true;
      if (!discarding) stream.destroy(error);
    },
  );
  return stream;
}
