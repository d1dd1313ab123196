// pg-query-stream's QueryStream: the rows of one statement as a Readable in object mode,
// read through a Cursor in batches of `batchSize` (default: the highWaterMark, 100).
import { Readable } from 'node:stream';

import { Cursor, type CursorConfig } from './cursor';
import type { SubmitContext, Submittable } from './query';

export interface QueryStreamConfig extends CursorConfig {
  batchSize?: number;
  highWaterMark?: number;
}

export class QueryStream<R = Record<string, unknown>> extends Readable implements Submittable {
  cursor: Cursor<R>;
  readonly #batchSize: number;

  constructor(text: string, values?: unknown[] | null, config: QueryStreamConfig = {}) {
    const { batchSize, highWaterMark = 100 } = config;
    super({ objectMode: true, autoDestroy: true, highWaterMark: batchSize ?? highWaterMark });
    this.#batchSize = batchSize ?? highWaterMark;
    this.cursor = new Cursor<R>(text, values, config);
    this.cursor._owner = this;
  }

  submit(context: SubmitContext): void {
    this.cursor.submit(context);
  }

  override _read(size: number): void {
    const wanted = Math.max(1, this.#batchSize || size);
    this.cursor.read(wanted, (error, rows) => {
      if (error) {
        this.destroy(error);
        return;
      }
      for (const row of rows) this.push(row);
      if (rows.length < wanted) this.push(null);
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.cursor.close(() => callback(error));
  }
}
