// A request: one statement (or a sync, or a COPY) on its way through the connection's queue,
// with what is known of it as its results come back.
import type { NativeResult } from '../native';
import type { TypecasterRegistry } from '../adapt/typecasters';
import type { PrepareDecision } from './prepared';
import type { CopyHandler, RowsHandler } from './interface';

export type { CopyHandler, RowsHandler };

/** How a request is sent: in the pipeline, or alone with the simple protocol. */
export const enum RequestKind {
  Pipeline,
  Simple,
}

export interface Request {
  kind: RequestKind;
  text: string;
  values: (string | Buffer | null)[] | null;
  typeOids: number[] | null;
  /** whether this request opens the implicit transaction when none is open */
  transactional: boolean;
  /** commands sent (each ends with END_OF_COMMAND) */
  commands: number;
  /** leading commands (pipeline) or results (simple) that the user did not ask for */
  hidden: number;
  results: NativeResult[];
  /** the typecasters the results are decoded with (C++ and JS must agree) */
  typecasters?: TypecasterRegistry;
  /** a cursor's own typecasters, when it has any; the connection's otherwise */
  registry?: TypecasterRegistry;
  /** the transaction state this statement leaves (COMMIT: false, BEGIN: true) */
  setsTransaction?: boolean;
  /** commands ended so far (pipeline) */
  commandsEnded: number;
  /** results.length when the last hidden command ended: the user's results follow */
  hiddenResults: number;
  /** results.length when the command before the last hidden one ended: a Parse's results follow */
  beforeLastHidden: number;
  copy?: CopyHandler;
  sent: boolean;
  /** followed by a sync of its own; false inside an explicit pipeline */
  sync: boolean;
  /** a sync and nothing else (Pipeline.sync()) */
  syncOnly?: boolean;
  /** issued through the explicit pipeline under way */
  inPipeline?: boolean;
  /** order of issue, to tell requests made before a pipeline began from those after */
  seq: number;
  /** a statement of the user's that may be prepared */
  preparable: boolean;
  /** their wish: prepare it (true), never (false), or as the threshold says (undefined) */
  prepare?: boolean;
  /** already sent again once, prepared anew, after its prepared statement went stale */
  retried: boolean;
  /** what was done about preparing it when it was sent */
  prepared?: PrepareDecision;
  /** instead of the text: close this prepared statement (libpq 17's PQsendClosePrepared) */
  closePrepared?: string;
  /** rows streamed as they come, in single-row or chunked mode */
  rows?: RowsHandler;
  /** rows wanted as objects: C++ makes them so where no JS typecaster has to run */
  objectRows: boolean;
  resolve(results: NativeResult[]): void;
  reject(error: Error): void;
}

/** What a request may set beyond its statement; the rest starts empty. */
export type RequestExtras = Partial<
  Pick<
    Request,
    'copy' | 'setsTransaction' | 'sync' | 'syncOnly' | 'inPipeline' | 'preparable' | 'prepare' | 'rows' | 'registry' | 'objectRows' | 'closePrepared'
  >
>;

export interface RequestOptions extends RequestExtras {
  signal?: AbortSignal;
}

/** A request with every property present from the start: all requests share one shape. */
export function newRequest(
  kind: RequestKind,
  text: string,
  values: (string | Buffer | null)[] | null,
  typeOids: number[] | null,
  transactional: boolean,
  seq: number,
  resolve: Request['resolve'],
  reject: Request['reject'],
  extras?: RequestExtras,
): Request {
  return {
    kind,
    text,
    values,
    typeOids,
    transactional,
    commands: 0,
    hidden: 0,
    results: [],
    typecasters: undefined,
    registry: extras?.registry,
    setsTransaction: extras?.setsTransaction,
    commandsEnded: 0,
    hiddenResults: 0,
    beforeLastHidden: 0,
    copy: extras?.copy,
    sent: false,
    sync: extras?.sync ?? true,
    syncOnly: extras?.syncOnly,
    inPipeline: extras?.inPipeline,
    seq,
    preparable: extras?.preparable ?? false,
    prepare: extras?.prepare,
    retried: false,
    prepared: undefined,
    closePrepared: extras?.closePrepared,
    rows: extras?.rows,
    objectRows: extras?.objectRows ?? false,
    resolve,
    reject,
  };
}
