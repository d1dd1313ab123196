// The connection core's queue without a server: a fake native connection records what the
// core sends and answers as a server in pipeline mode would (one result, the end of the
// command, then the sync with the transaction status). What is checked: statements leave
// in the order issued and together, results go back to the request they belong to, an
// error fails its own statement only, and an aborted or held request is never sent.
import { describe, expect, it } from 'vitest';
import { ConnectionCore } from '../lib/core/connection-core';
import { END_OF_COMMAND, ExecStatus, SYNC_BASE, type NativeCallbacks, type NativeConnection, type NativeItem, type NativeResult } from '../lib/native';
import { KEPT_SETTINGS } from '../lib/session-settings';
import * as errors from '../lib/errors';

/** How the fake server answers one statement. */
type Responder = (text: string) => NativeResult;

function rowsResult(text: string): NativeResult {
  return { status: ExecStatus.TuplesOk, command: 'SELECT 1', rowCount: 1, fields: [], rows: [[text]], objectRows: false };
}

function errorResult(sqlstate: string, message: string): NativeResult {
  return {
    status: ExecStatus.FatalError,
    command: '',
    rowCount: -1,
    fields: [],
    rows: [],
    objectRows: false,
    error: { severity: 'ERROR', severityNonlocalized: 'ERROR', sqlstate, messagePrimary: message },
    errorMessage: `ERROR:  ${message}`,
  };
}

/** A command the core sent: a statement (its text), or a sync. */
type Sent = { text: string; sync: boolean; simple?: boolean } | { syncOnly: true };

/** A native connection that keeps what is sent and answers it when told to. */
class FakeNative {
  callbacks!: NativeCallbacks;
  /** everything sent, in order */
  readonly sent: Sent[] = [];
  /** sent and not answered yet */
  #unanswered: Sent[] = [];
  flushes = 0;
  closed = false;
  /** the cancel callback of a cancel under way */
  cancelling: ((error: string | null) => void) | undefined;

  constructor(private readonly respond: Responder = rowsResult) {}

  /** The texts of the statements sent, the session's settings left out. */
  get statements(): string[] {
    return this.sent.flatMap((command) => ('text' in command && command.text !== KEPT_SETTINGS ? [command.text] : []));
  }

  /** Answer every command sent so far, in one batch as the native layer delivers them. */
  answer(): void {
    const items: NativeItem[] = [];
    for (const command of this.#unanswered.splice(0)) {
      if ('syncOnly' in command) {
        items.push(SYNC_BASE + 0);
        continue;
      }
      items.push(command.text === KEPT_SETTINGS ? rowsResult(command.text) : this.respond(command.text), END_OF_COMMAND);
      if (command.sync && !command.simple) items.push(SYNC_BASE + 0);
    }
    if (items.length > 0) this.callbacks.onResults(...items);
  }

  readonly handle: NativeConnection = {
    connect: () => undefined,
    sendQuery: (text, _values, _typeOids, sync) => this.#send({ text, sync }),
    sendPrepare: () => {
      throw new Error('not expected: the tests run nothing prepared');
    },
    sendQueryPrepared: () => {
      throw new Error('not expected: the tests run nothing prepared');
    },
    sendClosePrepared: () => undefined,
    sync: () => this.#send({ syncOnly: true }),
    sendFlushRequest: () => undefined,
    sendSimpleQuery: (text) => this.#send({ text, sync: true, simple: true }),
    flush: () => {
      this.flushes++;
      return 0;
    },
    putCopyData: () => 1,
    putCopyEnd: () => 1,
    pauseCopyOut: () => undefined,
    resumeCopyOut: () => undefined,
    pauseReading: () => undefined,
    resumeReading: () => undefined,
    processInput: () => undefined,
    setDecoders: () => undefined,
    cancel: (callback) => {
      this.cancelling = callback;
    },
    escapeLiteral: (text) => `'${text.replaceAll("'", "''")}'`,
    escapeIdentifier: (text) => `"${text.replaceAll('"', '""')}"`,
    transactionStatus: () => 0,
    parameterStatus: () => null,
    info: () => ({ serverVersion: 170000, backendPid: 1, host: 'fake', port: '5432', dbname: 'fake', user: 'fake', sslInUse: false }),
    pendingCommands: () => this.#unanswered.length,
    close: () => {
      this.closed = true;
    },
    isOpen: true,
  };

  #send(command: Sent): void {
    this.sent.push(command);
    this.#unanswered.push(command);
  }
}

/** A core over a fake native connection, in autocommit (no BEGIN in front of statements). */
function fakeCore(respond?: Responder): { core: ConnectionCore; fake: FakeNative } {
  const fake = new FakeNative(respond);
  const core = new ConnectionCore({ emit: () => undefined, listenerCount: () => 0 }, (callbacks) => {
    fake.callbacks = callbacks;
    return fake.handle;
  });
  core.autocommit = true;
  return { core, fake };
}

/** The value of the one row of a fake result: the text it answered. */
const answered = async (results: Promise<NativeResult[]>): Promise<unknown> => (await results)[0].rows[0][0];

/** Lets the flush scheduled for this tick run. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('the connection core over a fake native connection', () => {
  it('statements issued together leave together, in order, in one flush, before any result', async () => {
    const { core, fake } = fakeCore();
    const issued = ['select 1', 'select 2', 'select 3'].map((text) => core.run(text, undefined));
    await tick();
    expect(fake.statements).toEqual(['select 1', 'select 2', 'select 3']);
    expect(fake.sent[0]).toEqual({ text: KEPT_SETTINGS, sync: true });
    expect(fake.flushes).toBe(1);
    fake.answer();
    expect(await Promise.all(issued.map(answered))).toEqual(['select 1', 'select 2', 'select 3']);
  });

  it('results arriving in several batches still reach their own requests', async () => {
    const { core, fake } = fakeCore();
    const first = core.run('select 1', undefined);
    await tick();
    const second = core.run('select 2', undefined);
    fake.answer(); // the settings and the first
    expect(await answered(first)).toBe('select 1');
    await tick();
    fake.answer();
    expect(await answered(second)).toBe('select 2');
  });

  it('an error fails its own statement only: those before and after it get their results', async () => {
    const { core, fake } = fakeCore((text) => (text === 'select nope' ? errorResult('42P01', 'relation "nope" does not exist') : rowsResult(text)));
    const before = core.run('select 1', undefined);
    const failing = core.run('select nope', undefined);
    const after = core.run('select 2', undefined);
    await tick();
    fake.answer();
    expect(await answered(before)).toBe('select 1');
    const error = await failing.then(
      () => null,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(errors.UndefinedTable);
    expect((error as errors.DatabaseError).sqlstate).toBe('42P01');
    expect(await answered(after)).toBe('select 2');
    // and the connection goes on
    const later = core.run('select 3', undefined);
    await tick();
    fake.answer();
    expect(await answered(later)).toBe('select 3');
  });

  it('a request queued behind a simple-protocol query waits, and an abort drops it unsent', async () => {
    const { core, fake } = fakeCore();
    // the session's settings go first, in the pipeline: done with, the connection is idle
    const warmUp = core.run('select 0', undefined);
    await tick();
    fake.answer();
    await warmUp;
    // several statements and no parameters: the simple protocol, which has the connection to itself
    const simple = core.run('select 1; select 2', undefined);
    const controller = new AbortController();
    const queued = core.run('select 3', undefined, controller.signal);
    const next = core.run('select 4', undefined);
    await tick();
    expect(fake.statements).toEqual(['select 0', 'select 1; select 2']);
    controller.abort(new Error('changed my mind'));
    await expect(queued).rejects.toThrow('changed my mind');
    fake.answer();
    expect(await answered(simple)).toBe('select 1; select 2');
    await tick();
    expect(fake.statements).toEqual(['select 0', 'select 1; select 2', 'select 4']);
    fake.answer();
    expect(await answered(next)).toBe('select 4');
  });

  it('an abort of a statement pipelined behind another rejects it; its result, when it comes, is dropped', async () => {
    const { core, fake } = fakeCore();
    const first = core.run('select 1', undefined);
    const controller = new AbortController();
    const second = core.run('select 2', undefined, controller.signal);
    const third = core.run('select 3', undefined);
    await tick();
    controller.abort(new Error('not needed'));
    await expect(second).rejects.toThrow('not needed');
    fake.answer();
    expect(await answered(first)).toBe('select 1');
    expect(await answered(third)).toBe('select 3');
  });

  it('while a cancel is on its way nothing new is sent; once the server has it, the queue moves on', async () => {
    const { core, fake } = fakeCore();
    const running = core.run('select pg_sleep(10)', undefined);
    await tick();
    const cancelled = core.cancel(1);
    const after = core.run('select 1', undefined);
    await tick();
    expect(fake.statements).toEqual(['select pg_sleep(10)']);
    fake.cancelling?.(null);
    await cancelled;
    await tick();
    expect(fake.statements).toEqual(['select pg_sleep(10)', 'select 1']);
    fake.answer();
    expect(await answered(running)).toBe('select pg_sleep(10)');
    expect(await answered(after)).toBe('select 1');
  });

  it('close rejects what is in flight and what is queued, with InterfaceError', async () => {
    const { core, fake } = fakeCore();
    const inFlight = core.run('select 1', undefined);
    await tick();
    const cancelled = core.cancel(1);
    const queued = core.run('select 2', undefined);
    await core.close();
    expect(fake.closed).toBe(true);
    await expect(inFlight).rejects.toBeInstanceOf(errors.InterfaceError);
    await expect(queued).rejects.toBeInstanceOf(errors.InterfaceError);
    await expect(cancelled).rejects.toBeInstanceOf(errors.InterfaceError);
    await expect(core.run('select 3', undefined)).rejects.toThrow('the connection is closed');
  });
});
