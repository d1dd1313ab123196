// What every cursor shows, client-side (cursor.ts) or server-side (server-cursor.ts), as
// DB-API describes a cursor: its connection, the description of the columns, rowcount,
// rownumber, statusmessage, the query and parameters last sent, arraysize, closed.
import * as errors from './errors';
import { coreOf, type Core } from './core/interface';
import type { Connection } from './connection';
import type { Field, RowFactory } from './rows';
import { TypecasterRegistry } from './adapt/typecasters';
import { Oid } from './types/oids';

/** One column of `cursor.description`, as DB-API describes it. */
export class Column {
  constructor(
    readonly name: string,
    readonly typeCode: number,
    readonly displaySize: number | null,
    readonly internalSize: number | null,
    readonly precision: number | null,
    readonly scale: number | null,
    readonly nullOk: boolean | null,
    readonly tableOid: number | null,
    readonly tableColumn: number | null,
  ) {}
}

/** @internal a DB-API column description of a result field */
export function describe(field: Field): Column {
  const { typeOid, typeModifier, typeSize } = field;
  let displaySize: number | null = null;
  let precision: number | null = null;
  let scale: number | null = null;
  if (typeOid === Oid.numeric && typeModifier >= 4) {
    precision = ((typeModifier - 4) >> 16) & 0xffff;
    scale = (typeModifier - 4) & 0xffff;
    displaySize = precision + (scale > 0 ? 1 : 0) + 1;
  } else if ((typeOid === Oid.varchar || typeOid === Oid.bpchar) && typeModifier >= 4) {
    displaySize = typeModifier - 4;
  } else if (
    (typeOid === Oid.time || typeOid === Oid.timetz || typeOid === Oid.timestamp || typeOid === Oid.timestamptz) &&
    typeModifier >= 0
  ) {
    precision = typeModifier;
  }
  return new Column(
    field.name,
    typeOid,
    displaySize,
    typeSize > 0 ? typeSize : null,
    precision,
    scale,
    null,
    field.tableOid === 0 ? null : field.tableOid,
    field.columnId === 0 ? null : field.columnId,
  );
}

/** @internal what a cursor's getters show, set by each kind of cursor as its statements run */
export interface CursorState {
  description: Column[] | null;
  rowcount: number;
  /** index of the next row a fetch gives */
  position: number;
  statusmessage: string | null;
  query: string | null;
  params: readonly unknown[] | null;
}

export abstract class CursorBase<R> implements AsyncIterable<R> {
  /** rows fetchmany() returns when given no size */
  arraysize = 1;
  rowFactory: RowFactory | undefined;
  /**
   * This cursor's typecasters: what is set here applies to its results only, over the
   * connection's and the global ones (psycopg 3's cursor.adapters).
   */
  readonly typecasters: TypecasterRegistry;

  readonly #conn: Connection;
  #closed = false;
  /** @internal the core of the connection */
  protected readonly core: Core;
  /** @internal */
  protected readonly state: CursorState = { description: null, rowcount: -1, position: 0, statusmessage: null, query: null, params: null };

  /** @internal */
  protected constructor(conn: Connection) {
    this.#conn = conn;
    this.core = coreOf(conn);
    this.typecasters = new TypecasterRegistry(conn.typecasters);
  }

  get connection(): Connection {
    return this.#conn;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** the columns of the current result (a server-side cursor: of its query); null when there are none */
  get description(): Column[] | null {
    return this.state.description;
  }

  /** rows returned or affected by the last statement (a server-side cursor: fetched so far); -1 when unknown */
  get rowcount(): number {
    return this.state.rowcount;
  }

  /** index of the next row to fetch; null before any result */
  get rownumber(): number | null {
    return this.state.description === null ? null : this.state.position;
  }

  /** the command tag of the last statement, e.g. 'INSERT 0 1' */
  get statusmessage(): string | null {
    return this.state.statusmessage;
  }

  /** the text last sent to the server (with $n placeholders; a server-side cursor's DECLARE) */
  get query(): string | null {
    return this.state.query;
  }

  /** the parameters last sent with it */
  get params(): readonly unknown[] | null {
    return this.state.params;
  }

  abstract fetchone(): Promise<R | null>;
  abstract fetchmany(size?: number): Promise<R[]>;
  abstract fetchall(): Promise<R[]>;
  abstract close(): Promise<void>;
  abstract [Symbol.asyncIterator](): AsyncIterator<R>;

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal the row shape: the cursor's, else the connection's, else tuples */
  protected get factory(): RowFactory {
    return this.rowFactory ?? this.#conn.rowFactory ?? 'tuple';
  }

  /** @internal */
  protected markClosed(): void {
    this.#closed = true;
  }

  /** @internal */
  protected checkOpen(): void {
    if (this.#closed) throw new errors.InterfaceError('the cursor is closed');
    if (this.#conn.closed) {
      throw this.#conn.broken ? new errors.OperationalError('the connection is lost') : new errors.InterfaceError('the connection is closed');
    }
  }
}
