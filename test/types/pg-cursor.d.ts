// pg-cursor ships no types; the tests use only this much of it.
declare module 'pg-cursor' {
  import { EventEmitter } from 'node:events';

  export default class Cursor<R = Record<string, unknown>> extends EventEmitter {
    constructor(text: string, values?: unknown[], config?: { rowMode?: 'array'; types?: unknown });
    submit(connection: unknown): void;
    read(rows: number): Promise<R[]>;
    close(): Promise<void>;
  }
}
