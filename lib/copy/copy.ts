// conn.copy(): a COPY in the style of psycopg 3's Copy object. COPY FROM STDIN takes
// write(data) and writeRow(values), then end() (or abort()); COPY TO STDOUT gives read(),
// rows() and async iteration over its data. Text and binary formats; setTypes() names the
// columns' types, which binary rows need and typed text rows use.
import * as errors from '../errors';
import { coreOf, ExecStatus, type Core, type CopyHandler, type CopyStart, type NativeResult } from '../core/interface';
import type { Connection } from '../connection';
import { callSite, withCallerStack } from '../caller-stack';
import { resolveQuery, type QueryText } from '../query-text';
import { inlineParams } from '../inline-params';
import { copyChannel, parameterCountOf, rowCountOf, trace, type CopyTraceContext } from '../tracing';
import { adaptValue } from '../adapt/adapters';
import { resolveOid } from '../adapt/typecasters';
import { utf8Bytes } from '../utf8';
import { messageOf } from '../thrown';
import { sessionDateStyle } from '../session-settings';
import { enterDateStyle, leaveDateStyle } from '../types/datestyle';
import {
  BINARY_HEADER,
  BINARY_TRAILER,
  BinaryRowReader,
  checkBinaryTypes,
  formatBinaryRow,
  formatTextRow,
  parseTextRow,
  TextRowSplitter,
} from './format';

/** Bytes of COPY OUT data held before reading from the server pauses. */
const READ_AHEAD_BYTES = 1024 * 1024;
/** COPY data goes to libpq in pieces of at most this: it copies a piece whole into its buffer, and takes its length as an int. */
const PUT_PIECE_BYTES = 64 * 1024 * 1024;

export type CopyDirection = 'in' | 'out';
export type CopyFormat = 'text' | 'binary';

export class Copy implements AsyncIterable<Buffer> {
  /** 'in' for COPY ... FROM STDIN, 'out' for COPY ... TO STDOUT */
  readonly direction: CopyDirection;
  readonly format: CopyFormat;
  /** rows copied, once the server has confirmed the COPY */
  rowCount: number | null = null;

  #core: Core;
  #done: Promise<NativeResult[]>;
  #finished = false;
  #failure: unknown;
  #types: number[] | null = null;
  #headerWritten = false;
  #wakeWriter: (() => void) | undefined;
  // COPY OUT
  #chunks: Buffer[] = [];
  #bufferedBytes = 0;
  #dataEnded = false;
  #paused = false;
  #wakeReader: (() => void) | undefined;
  #rowsStarted = false;

  /** @internal use conn.copy(); made as the server starts the COPY, before its data arrives */
  constructor(core: Core, start: NativeResult, done: Promise<NativeResult[]>, hooks: CopyHooks) {
    this.#core = core;
    this.direction = start.status === ExecStatus.CopyIn ? 'in' : 'out';
    // COPY sets every column's format to that of the whole COPY
    this.format = start.fields.some((field) => field.format === 1) ? 'binary' : 'text';
    this.#done = done;
    done.then(
      (results) => {
        this.#finished = true;
        this.rowCount = results[results.length - 1].rowCount;
      },
      (error: unknown) => {
        this.#finished = true;
        this.#failure = error;
        this.#dataEnded = true;
        this.#wake();
        const reader = this.#wakeReader;
        this.#wakeReader = undefined;
        reader?.();
      },
    );
    hooks.onData = (chunk, ended) => this.#onData(chunk, ended);
    hooks.onWritable = () => this.#wake();
  }

  /** Name the columns' types (OIDs or built-in names), as psycopg's set_types(). */
  setTypes(types: readonly (number | string)[]): this {
    if (!Array.isArray(types)) throw new errors.ProgrammingError('setTypes() takes an array of type OIDs or names');
    const oids = types.map((type) => resolveOid(type));
    if (this.format === 'binary') checkBinaryTypes(oids);
    this.#types = oids;
    return this;
  }

  // ---------------------------------------------------------------------------------------
  // COPY FROM STDIN

  /** Send data as it is (already in the COPY's format). */
  async write(data: Buffer | Uint8Array | string): Promise<void> {
    try {
      await this.#checkWritable();
      const bytes = typeof data === 'string' ? utf8Bytes(data, 'COPY data') : data;
      if (!(bytes instanceof Uint8Array)) throw new TypeError('write() takes a Buffer, a Uint8Array or a string');
      if (bytes.length === 0) return;
      await this.#put(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    } catch (error) {
      throw withCallerStack(error);
    }
  }

  /** Send one row; its values are adapted as query parameters are (binary rows need setTypes()). */
  async writeRow(values: readonly unknown[]): Promise<void> {
    try {
      await this.#checkWritable();
      if (!Array.isArray(values)) throw new errors.ProgrammingError('writeRow() takes an array of values');
      if (this.format === 'binary') {
        if (this.#types === null) throw new errors.ProgrammingError('a binary COPY needs setTypes() before writeRow()');
        const row = formatBinaryRow(values, this.#types);
        if (!this.#headerWritten) {
          this.#headerWritten = true;
          await this.#put(Buffer.concat([BINARY_HEADER, row]));
        } else {
          await this.#put(row);
        }
        return;
      }
      const fields = values.map((value, index) => {
        const adapted = adaptValue(value, this.#core.adapters, index + 1, { typecasters: this.#core.typecasters });
        if (adapted.value === null) return null;
        return typeof adapted.value === 'string' ? adapted.value : `\\x${adapted.value.toString('hex')}`;
      });
      await this.#put(Buffer.from(formatTextRow(fields), 'utf8'));
    } catch (error) {
      throw withCallerStack(error);
    }
  }

  /** Finish the COPY; resolves with the number of rows copied. */
  async end(): Promise<number> {
    const site = callSite();
    try {
      if (this.direction !== 'in') throw new errors.ProgrammingError('end() is for COPY ... FROM STDIN');
      if (!this.#finished && !this.#core.closed) {
        if (this.#headerWritten) await this.#put(BINARY_TRAILER);
        else if (this.format === 'binary' && this.#types !== null) await this.#put(Buffer.concat([BINARY_HEADER, BINARY_TRAILER]));
        if (this.#core.putCopyEnd(null) === 2) this.#core.processInputSoon();
      }
      const results = await this.#done;
      return results[results.length - 1].rowCount;
    } catch (error) {
      throw withCallerStack(error, site);
    }
  }

  /** Give up: the server rolls back everything this COPY sent. */
  async abort(reason: string | Error = 'aborted by the client'): Promise<void> {
    if (this.direction !== 'in') throw new errors.ProgrammingError('abort() is for COPY ... FROM STDIN');
    if (!this.#finished && !this.#core.closed) {
      const message = messageOf(reason);
      try {
        if (this.#core.putCopyEnd(`COPY aborted: ${message}`) === 2) this.#core.processInputSoon();
      } catch {
        // the connection is failing too: the server rolls the COPY back on its own
      }
    }
    await this.#done.catch(() => undefined);
  }

  // ---------------------------------------------------------------------------------------
  // COPY TO STDOUT

  /** The next chunk of data, or null once all of it came. */
  async read(): Promise<Buffer | null> {
    try {
      if (this.direction !== 'out') throw new errors.ProgrammingError('read() is for COPY ... TO STDOUT');
      for (;;) {
        const chunk = this.#chunks.shift();
        if (chunk !== undefined) {
          this.#bufferedBytes -= chunk.length;
          this.#resumeIfLow();
          return chunk;
        }
        if (this.#dataEnded) {
          await this.#done;
          return null;
        }
        if (this.#failure !== undefined) throw this.#failure;
        await new Promise<void>((resolve) => (this.#wakeReader = resolve));
      }
    } catch (error) {
      throw withCallerStack(error);
    }
  }

  /** The rows: typed by setTypes() when given, strings (text) or Buffers (binary) otherwise. */
  async *rows(): AsyncIterableIterator<unknown[]> {
    if (this.direction !== 'out') throw new errors.ProgrammingError('rows() is for COPY ... TO STDOUT');
    if (this.#rowsStarted) throw new errors.ProgrammingError('rows() can be read once');
    this.#rowsStarted = true;
    const types = this.#types;
    if (this.format === 'binary') {
      const reader = new BinaryRowReader(types);
      for (let chunk = await this.read(); chunk !== null; chunk = await this.read()) yield* reader.push(chunk);
      return;
    }
    const casters = types?.map((oid) => this.#core.typecasters.get(oid)) ?? null;
    // the text is in the session's DateStyle, as a query's
    const core = this.#core;
    const session = sessionDateStyle((name) => core.parameterStatus(name));
    const splitter = new TextRowSplitter();
    const toRow = (line: string) => {
      const fields: unknown[] = parseTextRow(line);
      if (casters !== null) {
        const previous = enterDateStyle(session);
        try {
          for (let i = 0; i < fields.length; i++) {
            const cast = casters[i];
            if (cast !== undefined && fields[i] !== null) fields[i] = cast(fields[i] as string);
          }
        } finally {
          leaveDateStyle(previous);
        }
      }
      return fields;
    };
    for (let chunk = await this.read(); chunk !== null; chunk = await this.read()) {
      for (const line of splitter.push(chunk)) yield toRow(line);
    }
    for (const line of splitter.end()) yield toRow(line);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (let chunk = await this.read(); chunk !== null; chunk = await this.read()) yield chunk;
  }

  /** `await using`: a COPY FROM is ended (aborted if the block threw is not knowable: ended), a COPY TO drained. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#finished) return;
    if (this.direction === 'in') await this.end();
    else while ((await this.read()) !== null);
  }

  // ---------------------------------------------------------------------------------------

  async #checkWritable(): Promise<void> {
    if (this.direction !== 'in') throw new errors.ProgrammingError('write() and writeRow() are for COPY ... FROM STDIN');
    if (this.#core.closed) {
      // the COPY failed with the connection: that error (lost, or closed by the caller) says why
      await this.#done;
      throw new errors.InterfaceError('the connection is closed');
    }
    if (this.#finished) throw new errors.ProgrammingError('the COPY has ended');
  }

  async #put(data: Buffer): Promise<void> {
    if (data.length <= PUT_PIECE_BYTES) return this.#putPiece(data);
    for (let start = 0; start < data.length; start += PUT_PIECE_BYTES) await this.#putPiece(data.subarray(start, start + PUT_PIECE_BYTES));
  }

  async #putPiece(data: Buffer): Promise<void> {
    let queued: number;
    try {
      queued = this.#core.putCopyData(data);
    } catch (error) {
      // the server refused the data: its error, which says why, is the one to report
      this.#core.processInputSoon();
      await this.#done;
      throw error;
    }
    if (queued === 0) await new Promise<void>((resolve) => (this.#wakeWriter = resolve));
  }

  #wake(): void {
    const writer = this.#wakeWriter;
    this.#wakeWriter = undefined;
    writer?.();
  }

  #onData(chunk: Buffer | null, ended: boolean): void {
    if (chunk !== null) {
      this.#chunks.push(chunk);
      this.#bufferedBytes += chunk.length;
      if (this.#bufferedBytes >= READ_AHEAD_BYTES && !this.#paused && !this.#core.closed) {
        this.#paused = true;
        this.#core.pauseCopyOut();
      }
    }
    if (ended) this.#dataEnded = true;
    this.#wake();
    const reader = this.#wakeReader;
    this.#wakeReader = undefined;
    reader?.();
  }

  #resumeIfLow(): void {
    if (this.#paused && this.#bufferedBytes < READ_AHEAD_BYTES / 2 && !this.#core.closed) {
      this.#paused = false;
      this.#core.resumeCopyOut();
      this.#core.processInputSoon();
    }
  }
}

/** @internal how the COPY's data reaches the Copy made for it */
export interface CopyHooks {
  onData?(chunk: Buffer | null, done: boolean): void;
  onWritable?(): void;
}

/** @internal
 * conn.copy(): resolves with a Copy once the server is ready. COPY takes no bind parameters,
 * so `params` ($1, $2, ...) are quoted into the statement client-side.
 */
export async function openCopy(conn: Connection, text: QueryText, params: readonly unknown[] | undefined): Promise<Copy> {
  const core = coreOf(conn);
  core.checkOpen();
  const query = resolveQuery(text, params);
  const values = query.values;
  if (values !== undefined && values !== null && !Array.isArray(values)) {
    throw new errors.ProgrammingError('query parameters must be an array');
  }
  const statement = values !== undefined && values !== null ? inlineParams(conn, query.text, values) : query.text;
  const hooks: CopyHooks = {};
  let started!: (copy: Copy) => void;
  const ready = new Promise<Copy>((resolve) => (started = resolve));
  // the Copy is made as the server starts the COPY, so that none of its data goes by
  const begin = (copy: CopyStart) => started(new Copy(core, copy.results[copy.results.length - 1], done, hooks));
  const handler: CopyHandler = {
    onCopyIn: begin,
    onCopyOut: begin,
    onData: (chunk, ended) => hooks.onData?.(chunk, ended),
    onWritable: () => hooks.onWritable?.(),
  };
  const done = startCopy(core, statement, handler, query.text, parameterCountOf(values));
  const notCopy = Symbol('not a COPY');
  const first = await Promise.race([ready, done.then(() => notCopy)]);
  if (first === notCopy) throw new errors.ProgrammingError('copy() needs a COPY ... FROM STDIN or COPY ... TO STDOUT statement');
  return first as Copy;
}

/** @internal
 * Start a COPY, published on `pqnode:copy` when someone listens: `traceText` and
 * `parameterCount` as the caller wrote them (the statement may have its values quoted in).
 */
export function startCopy(core: Core, statement: string, handler: CopyHandler, traceText = statement, parameterCount = 0): Promise<NativeResult[]> {
  if (!copyChannel.hasSubscribers) return core.copy(statement, handler);
  const context: CopyTraceContext = { query: traceText, parameterCount, ...core.serverTraceContext() };
  return trace(copyChannel, context, () => core.copy(statement, handler), (finished, results) => {
    finished.rowCount = rowCountOf(results);
  });
}
