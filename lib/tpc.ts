// Two-phase commit, as psycopg2 has it: xid(), tpcBegin(), tpcPrepare(), tpcCommit(),
// tpcRollback(), tpcRecover(). Transaction ids made by xid() are written to the server as
// psycopg2 writes them ('formatId_base64(gtrid)_base64(bqual)'), so both can recover each
// other's prepared transactions.
import { ProgrammingError } from './errors';
import { coreOf, type Core } from './core/interface';
import type { Connection } from './connection';

const MAX_PART_LENGTH = 64;

/** A transaction id of the XA standard, or a plain one recovered from the server. */
export class Xid {
  /** set on Xids returned by tpcRecover() */
  prepared: Date | null = null;
  owner: string | null = null;
  database: string | null = null;

  constructor(
    /** null for a transaction id that was not made by xid() */
    readonly formatId: number | null,
    readonly gtrid: string,
    readonly bqual: string | null,
  ) {}

  /** The id as the server knows it (the gid of PREPARE TRANSACTION). */
  toString(): string {
    if (this.formatId === null) return this.gtrid;
    const encode = (text: string) => Buffer.from(text, 'utf8').toString('base64');
    return `${this.formatId}_${encode(this.gtrid)}_${encode(this.bqual ?? '')}`;
  }

  /** Read a server gid back: an XA id when it has xid()'s form, the plain gid otherwise. */
  static fromString(gid: string): Xid {
    const match = /^(\d+)_([A-Za-z0-9+/=]*)_([A-Za-z0-9+/=]*)$/.exec(gid);
    if (match !== null) {
      const formatId = Number(match[1]);
      const gtrid = Buffer.from(match[2], 'base64').toString('utf8');
      const bqual = Buffer.from(match[3], 'base64').toString('utf8');
      const xid = new Xid(formatId, gtrid, bqual);
      // only a faithful round trip proves the gid was made this way
      if (formatId <= 0x7fffffff && xid.toString() === gid) return xid;
    }
    return new Xid(null, gid, null);
  }
}

/**
 * A lone surrogate (half of a UTF-16 pair alone) has no UTF-8 form: on its way to the server
 * it would become U+FFFD, and the transaction be prepared under another id than the one
 * given, which then finds nothing to commit.
 */
function checkWellFormedId(text: string, name: string): void {
  if (!text.isWellFormed()) throw new ProgrammingError(`${name} holds a lone surrogate (half of a UTF-16 pair alone), which has no UTF-8 form`);
}

export function makeXid(formatId: number, gtrid: string, bqual: string): Xid {
  if (!Number.isInteger(formatId) || formatId < 0 || formatId > 0x7fffffff) {
    throw new ProgrammingError('formatId must be an integer from 0 to 2^31 - 1');
  }
  for (const [name, part] of [
    ['gtrid', gtrid],
    ['bqual', bqual],
  ] as const) {
    if (typeof part !== 'string') throw new ProgrammingError(`${name} must be a string`);
    if (part.length > MAX_PART_LENGTH) throw new ProgrammingError(`${name} must be at most ${MAX_PART_LENGTH} characters`);
    if (part.includes('\u0000')) throw new ProgrammingError(`${name} cannot contain NUL characters`);
    checkWellFormedId(part, name);
  }
  return new Xid(formatId, gtrid, bqual);
}

/** An Xid, or a plain transaction id given as a string. */
export function toXid(xid: Xid | string): Xid {
  if (xid instanceof Xid) {
    // an Xid built by hand: its text goes to the server as well
    checkWellFormedId(xid.gtrid, 'gtrid');
    if (xid.bqual !== null) checkWellFormedId(xid.bqual, 'bqual');
    return xid;
  }
  if (typeof xid === 'string' && xid !== '') {
    if (xid.includes('\u0000')) throw new ProgrammingError('a transaction id cannot contain NUL characters');
    checkWellFormedId(xid, 'the transaction id');
    return new Xid(null, xid, null);
  }
  throw new ProgrammingError('a transaction id must be an Xid (from conn.xid()) or a non-empty string');
}

// ---------------------------------------------------------------------------------------
// The two-phase transaction of a connection; its state is the core's (core.twoPhase).

/** @internal Begin a two-phase transaction; it ends with tpcPrepare() then tpcCommit()/tpcRollback(). */
export async function tpcBegin(core: Core, xid: Xid | string): Promise<void> {
  core.checkOpen();
  const id = toXid(xid);
  if (core.autocommit) throw new ProgrammingError("tpcBegin() can't be used in autocommit mode");
  if (core.twoPhase !== undefined) throw new ProgrammingError('a two-phase transaction is already under way');
  if (core.inTransaction || core.transactionDepth > 0) {
    throw new ProgrammingError('tpcBegin() must be called outside a transaction');
  }
  await core.control(core.beginStatement(), true);
  core.twoPhase = { gid: id.toString(), prepared: false };
}

/** @internal First phase: PREPARE TRANSACTION. Only tpcCommit() or tpcRollback() may follow. */
export async function tpcPrepare(core: Core): Promise<void> {
  core.checkOpen();
  const twoPhase = core.twoPhase;
  if (twoPhase === undefined) throw new ProgrammingError('tpcPrepare() needs a two-phase transaction: call tpcBegin() first');
  if (twoPhase.prepared) throw new ProgrammingError('the two-phase transaction is already prepared');
  await core.control(`PREPARE TRANSACTION ${core.escapeLiteral(twoPhase.gid)}`, false);
  twoPhase.prepared = true;
}

/** @internal
 * Second phase. With no xid: end the current two-phase transaction (in one phase if it was
 * not prepared). With an xid (outside any transaction): end that prepared transaction, as
 * recovery does.
 */
export async function tpcFinish(core: Core, command: 'COMMIT' | 'ROLLBACK', xid: Xid | string | undefined): Promise<void> {
  core.checkOpen();
  if (xid !== undefined) {
    const id = toXid(xid);
    if (core.twoPhase !== undefined || core.inTransaction) {
      throw new ProgrammingError(`tpc${command === 'COMMIT' ? 'Commit' : 'Rollback'}(xid) must be called outside a transaction`);
    }
    await core.control(`${command} PREPARED ${core.escapeLiteral(id.toString())}`, false);
    return;
  }
  const twoPhase = core.twoPhase;
  if (twoPhase === undefined) throw new ProgrammingError('no two-phase transaction is under way: call tpcBegin() first');
  if (twoPhase.prepared) {
    await core.control(`${command} PREPARED ${core.escapeLiteral(twoPhase.gid)}`, false);
  } else {
    await core.control(command, false);
  }
  core.twoPhase = undefined;
}

/** @internal The transactions prepared in this database and not yet committed or rolled back. */
export async function tpcRecover(conn: Connection): Promise<Xid[]> {
  const core = coreOf(conn);
  core.checkOpen();
  const wasInTransaction = core.inTransaction;
  const { rows } = await conn.query<{ gid: string; prepared: Date; owner: string; database: string }>(
    'SELECT gid, prepared, owner, database FROM pg_prepared_xacts WHERE database = current_database() ORDER BY prepared',
  );
  // reading the list must not leave a transaction open that was not open before
  if (!wasInTransaction && core.inTransaction) await core.control('ROLLBACK', false);
  return rows.map((row) => {
    const recovered = Xid.fromString(row.gid);
    recovered.prepared = row.prepared;
    recovered.owner = row.owner;
    recovered.database = row.database;
    return recovered;
  });
}

/** @internal commit(), rollback() and transaction() have no place in a two-phase transaction. */
export function checkNoTwoPhase(core: Core, what: string): void {
  if (core.twoPhase !== undefined) throw new ProgrammingError(`${what} is not allowed in a two-phase transaction: use tpcCommit() / tpcRollback()`);
}
