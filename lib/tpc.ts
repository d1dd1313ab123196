// Two-phase commit, as psycopg2 has it: xid(), tpcBegin(), tpcPrepare(), tpcCommit(),
// tpcRollback(), tpcRecover(). Transaction ids made by xid() are written to the server as
// psycopg2 writes them ('formatId_base64(gtrid)_base64(bqual)'), so both can recover each
// other's prepared transactions.
import { ProgrammingError } from './errors';

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
