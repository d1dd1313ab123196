// pg-copy-streams' shape: `client.query(from('COPY t FROM STDIN'))` is a Writable that the
// data is piped into, finished once the server has taken the COPY (rowCount then set);
// `client.query(to('COPY t TO STDOUT'))` is a Readable of the data. Backpressure holds both
// ways, through pqnode's COPY.
import { PassThrough, Readable, Writable } from 'node:stream';

import { toPgError } from './errors';
import type { SubmitContext, Submittable } from './query';

export class CopyFromStream extends Writable implements Submittable {
  /** rows copied, once the stream finished */
  rowCount = 0;
  readonly text: string;
  readonly #data = new PassThrough();
  #done: Promise<number> | undefined;
  /** the data written before submit(), or a failure to start, end here */
  #started!: () => void;
  readonly #ready = new Promise<void>((resolve) => (this.#started = resolve));

  constructor(text: string, options?: ConstructorParameters<typeof Writable>[0]) {
    super(options);
    this.text = text;
  }

  submit(context: SubmitContext): void {
    this.#done = context.copyFrom(this.text, this.#data);
    // a failure before the data ends surfaces as the stream's error at once
    this.#done.catch((error: unknown) => {
      if (!this.writableFinished) this.destroy(toPgError(error));
    });
    this.#started();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    void this.#ready.then(() => {
      if (this.#data.write(chunk)) callback();
      else this.#data.once('drain', () => callback());
    });
  }

  override _final(callback: (error?: Error | null) => void): void {
    void this.#ready.then(() => {
      this.#data.end();
      (this.#done as Promise<number>).then(
        (count) => {
          this.rowCount = count;
          callback();
        },
        (error: unknown) => callback(toPgError(error)),
      );
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // the COPY is aborted: its source fails, and the server rolls all of it back
    if (!this.#data.destroyed && this.#done !== undefined && !this.writableFinished) this.#data.destroy(error ?? new Error('COPY stream destroyed'));
    callback(error);
  }
}

export class CopyToStream extends Readable implements Submittable {
  readonly text: string;
  #source: Readable | undefined;

  constructor(text: string, options?: ConstructorParameters<typeof Readable>[0]) {
    super(options);
    this.text = text;
  }

  submit(context: SubmitContext): void {
    context.copyTo(this.text).then(
      (source) => {
        this.#source = source;
        source.on('data', (chunk: Buffer) => {
          if (!this.push(chunk)) source.pause();
        });
        source.once('end', () => this.push(null));
        source.once('error', (error: Error) => this.destroy(toPgError(error)));
      },
      (error: unknown) => this.destroy(toPgError(error)),
    );
  }

  override _read(): void {
    this.#source?.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.#source !== undefined && !this.#source.destroyed) this.#source.destroy();
    callback(error);
  }
}

/** COPY ... FROM STDIN as a Writable, for client.query(). */
export function from(text: string, options?: ConstructorParameters<typeof Writable>[0]): CopyFromStream {
  return new CopyFromStream(text, options);
}

/** COPY ... TO STDOUT as a Readable, for client.query(). */
export function to(text: string, options?: ConstructorParameters<typeof Readable>[0]): CopyToStream {
  return new CopyToStream(text, options);
}
