// Automatic prepared statements, per connection, as psycopg 3 does them: a statement run
// `threshold` times is prepared on its next run and executed by name from then on; at
// most `max` are kept, the least recently used one deallocated to make room.
//
// The cache is keyed by the text and the parameter type OIDs, since the server fixes
// the parameter types when it prepares. Decisions are taken in the order requests are
// sent, so a statement prepared by one request can be used by the next one already.
//
// A name is never used by two connections, of this process or another: behind PgBouncer
// in transaction mode, one client's statements land on server connections where another
// client prepared its own, and a name two clients share would run one's statement with the
// other's parameters. A name the server connection lacks is an error instead (26000).
import { randomBytes } from 'node:crypto';
import { ProgrammingError } from '../errors';

export const DEFAULT_PREPARE_THRESHOLD = 5;
export const DEFAULT_PREPARED_MAX = 100;

/** What to do with one statement. */
export type PrepareDecision =
  | { mode: 'none' }
  /** Parse under this name, then execute it (two commands of one request) */
  | { mode: 'prepare'; name: string; key: string }
  /** execute the statement prepared under this name */
  | { mode: 'use'; name: string; key: string };

const NONE: PrepareDecision = { mode: 'none' };

/** this process's (or worker thread's) part of every name: 48 random bits */
const PROCESS_MARK = randomBytes(6).toString('hex');
/** connections made so far in this process or thread */
let caches = 0;

/** keys kept per text (for its type combinations), and texts kept per statement the cache may hold */
const KEPT_KEYS_PER_PREPARED = 4;

/** A prepared statement; itself the decision to use it, so that a hit allocates nothing. */
interface Prepared {
  mode: 'use';
  name: string;
  key: string;
  /** when it was last used, on the cache's own clock */
  used: number;
}

export class PreparedStatements {
  #threshold: number | null = DEFAULT_PREPARE_THRESHOLD;
  #max = DEFAULT_PREPARED_MAX;
  /** runs so far of statements not prepared yet, least recently used first */
  #counts = new Map<string, number>();
  /** the prepared statements by key */
  #names = new Map<string, Prepared>();
  #clock = 0;
  #serial = 0;
  /** this connection's names start with it: `_pqnode_<process>_<connection>_` */
  readonly #namePrefix = `_pqnode_${PROCESS_MARK}_${(++caches).toString(36)}_`;
  /** names evicted whose DEALLOCATE the connection has yet to send */
  #evicted: string[] = [];
  /** each statement's key, made once: by text, then by parameter types */
  #keys = new Map<string, Map<number | string, string>>();

  /** runs before a statement is prepared; null: never prepare automatically */
  get threshold(): number | null {
    return this.#threshold;
  }

  set threshold(value: number | null) {
    if (value !== null && (typeof value !== 'number' || !Number.isInteger(value) || value < 0)) {
      throw new ProgrammingError('prepareThreshold must be a non-negative integer, or null to turn automatic preparing off');
    }
    this.#threshold = value;
  }

  /** how many prepared statements are kept at most */
  get max(): number {
    return this.#max;
  }

  set max(value: number) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      throw new ProgrammingError('preparedMax must be a positive integer');
    }
    this.#max = value;
    while (this.#names.size > this.#max) this.#evictOldest();
    while (this.#counts.size > this.#max) this.#counts.delete(this.#counts.keys().next().value as string);
  }

  /** how many statements are prepared now */
  get size(): number {
    return this.#names.size;
  }

  /** What to do with a statement about to be sent. `prepare` is the caller's wish, if any. */
  decide(text: string, typeOids: readonly number[] | null, prepare: boolean | undefined): PrepareDecision {
    if (prepare === false) return NONE;
    const key = this.#keyOf(text, typeOids);
    const prepared = this.#names.get(key);
    if (prepared !== undefined) {
      prepared.used = ++this.#clock;
      return prepared;
    }
    if (prepare !== true) {
      if (this.#threshold === null) return NONE;
      if ((this.#counts.get(key) ?? 0) < this.#threshold) return NONE;
    }
    this.#counts.delete(key);
    if (this.#names.size >= this.#max) this.#evictOldest();
    const fresh = `${this.#namePrefix}${(++this.#serial).toString(36)}`;
    this.#names.set(key, { mode: 'use', name: fresh, key, used: ++this.#clock });
    return { mode: 'prepare', name: fresh, key };
  }

  /** A statement that was not prepared ran: count it towards the threshold. */
  ran(text: string, typeOids: readonly number[] | null): void {
    if (this.#threshold === null) return;
    const key = this.#keyOf(text, typeOids);
    if (this.#names.has(key)) return;
    const count = (this.#counts.get(key) ?? 0) + 1;
    this.#counts.delete(key);
    this.#counts.set(key, count);
    if (this.#counts.size > this.#max) this.#counts.delete(this.#counts.keys().next().value as string);
  }

  /**
   * The statement under `name` is not on the server (its Parse failed) or no longer
   * usable: forget it; `deallocate` when it may still exist there; `reprepare` to prepare
   * it again on its next run.
   */
  forget(key: string, name: string, deallocate: boolean, reprepare = false): void {
    if (this.#names.get(key)?.name === name) this.#names.delete(key);
    if (deallocate) this.#evicted.push(name);
    // it had earned its place: prepared again on its next run
    if (reprepare && this.#threshold !== null) this.#counts.set(key, this.#threshold);
  }

  /** Everything was deallocated on the server (DISCARD ALL, DEALLOCATE ALL): start afresh. */
  clear(): void {
    this.#names.clear();
    this.#counts.clear();
    this.#evicted = [];
  }

  /** The names to deallocate now, handed over once. */
  takeEvicted(): string[] {
    if (this.#evicted.length === 0) return this.#evicted;
    const names = this.#evicted;
    this.#evicted = [];
    return names;
  }

  /**
   * The cache's key: the text and the parameter type OIDs, since the server fixes a
   * statement's parameter types when it prepares it. A key joined afresh on every run would
   * be a new string, hashed over the whole text at each lookup; a text's string keeps its
   * hash, and so does a key kept here. Kept for a bounded number of texts.
   */
  #keyOf(text: string, typeOids: readonly number[] | null): string {
    if (typeOids === null || typeOids.length === 0) return text;
    const types = typeOids.length === 1 ? typeOids[0] : typeOids.join(',');
    let byTypes = this.#keys.get(text);
    if (byTypes === undefined) {
      if (this.#keys.size >= KEPT_KEYS_PER_PREPARED * this.#max) this.#keys.clear();
      byTypes = new Map();
      this.#keys.set(text, byTypes);
    }
    let key = byTypes.get(types);
    if (key === undefined) {
      if (byTypes.size >= KEPT_KEYS_PER_PREPARED) byTypes.clear();
      key = `${text}\u0000${types}`;
      byTypes.set(types, key);
    }
    return key;
  }

  /** Deallocate the least recently used: a scan, but only when the cache is full. */
  #evictOldest(): void {
    let oldest: Prepared | undefined;
    for (const prepared of this.#names.values()) {
      if (oldest === undefined || prepared.used < oldest.used) oldest = prepared;
    }
    if (oldest === undefined) return;
    this.#names.delete(oldest.key);
    this.#evicted.push(oldest.name);
  }
}

/** Whether a failed execution of a prepared statement means the statement itself went stale. */
export function isStalePrepared(sqlstate: string | undefined, message: string | undefined): boolean {
  // 0A000 'cached plan must not change result type': DDL changed the columns it returns
  if (sqlstate === '0A000' && message !== undefined && message.includes('cached plan must not change result type')) return true;
  // 26000: the statement is gone (DEALLOCATE or DISCARD by hand)
  return sqlstate === '26000';
}
