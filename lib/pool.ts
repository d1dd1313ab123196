// A pool of connections in the manner of psycopg_pool: a fixed or growing set of connections,
// callers served in order, connections checked, reset and replaced behind their backs.
// A failure reaches the caller that asked, or the counters; a failure no caller sees (a
// `reset` that throws) is also told through an event, never 'error', so that a pool with
// no listener cannot crash the process.
import { TypedEventEmitter } from './typed-events';
import { withCallerStack } from './caller-stack';
import { messageOf } from './thrown';
import { connect, Connection, type QueryOptions, type Result } from './connection';
import type { Conninfo } from './conninfo';
import * as errors from './errors';
import { abortReason, checkSignal } from './errors/aborted';
import type { QueryText } from './query-text';
import { checkCount, checkPoolOptions, checkSeconds, checkSizes, type CheckedPoolOptions, type ConnectionHook, type PoolOptions } from './pool/options';
import { poolAcquireChannel, trace, type PoolAcquireTraceContext } from './tracing';
import { coreOf } from './core/interface';
import { zeroCounters, type PoolCounters, type PoolStats } from './pool/stats';
import { Backoff, jitter } from './pool/timing';
import { configureConnection, restoreAtOnce, restoreConnection, runCheck, runReset, type CleanState } from './pool/hygiene';
import { StatementHistory } from './pool/statements';
import { SlowLine } from './pool/slow-line';
import { SlowRuns } from './pool/slow-runs';
import { runQuery } from './run-query';

export type { PoolOptions, ConnectionHook } from './pool/options';
export type { PoolCounters, PoolStats } from './pool/stats';

export interface AcquireOptions {
  /** seconds to wait for a connection; the pool's timeout by default */
  timeout?: number;
  /**
   * ends the wait for a connection as it aborts (at once if it has): the call fails with the
   * signal's reason, or QueryCanceledError when that is not an Error
   */
  signal?: AbortSignal;
}

/** What the pool knows of one of its connections. */
interface Entry {
  readonly conn: Connection;
  /** when it is replaced (ms since the epoch), maxLifetime less some jitter */
  readonly expiresAt: number;
  /** how `configure` left it, restored on every return */
  readonly clean: CleanState;
  inUse: boolean;
  /** closed by the pool while a caller held it */
  gone: boolean;
  handedOutAt: number;
  returnedAt: number;
  /** the pool.query() statements running on it while it is shared; 0 otherwise */
  sharedBy: number;
  /** those that were slow when they were sent (StatementHistory) */
  readonly slow: SlowRuns;
  /** when the oldest of them began to run, as far as the pool can tell (performance.now()) */
  busySince: number;
  /** when its last pool.query() statement finished (performance.now()) */
  lastDoneAt: number;
}

interface Waiter {
  resolve(entry: Entry): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  queuedAt: number;
  /** when its request came (Date.now()): a slow statement from the pool's line keeps its place by it */
  since: number;
  /** waiting for a pool.query() statement, which may share its connection; undefined for a caller alone */
  statement: SharedStatement | undefined;
  /** the statement's AbortSignal, and what listens to it while it waits */
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * A pool.query() statement that may share its connection, by what its text's history says
 * (StatementHistory): slow or not, and how long it usually runs (ms; NaN: not known).
 */
interface SharedStatement {
  readonly slow: boolean;
  readonly ms: number;
}

const FAST: SharedStatement = Object.freeze({ slow: false, ms: Number.NaN });

/** A slow statement in the pool's line: counted as a request when it joined it. */
interface InLine {
  readonly statement: SharedStatement;
  readonly queuedAt: number;
  /** when it fails with PoolTimeout (Date.now()), through the line or the acquisition it goes on to */
  readonly deadline: number;
  /** the statement's AbortSignal, which ends its wait, in the line or acquiring */
  readonly signal: AbortSignal | undefined;
}

/** How a slow statement leaves the line: placed, or sent on to acquire a connection. */
type LineExit = Entry | { readonly acquiring: Promise<Entry> };

/**
 * How long after a fast statement ran (ms) a slow one still leaves a connection free of slow
 * statements for the next fast ones: a pool that runs only slow statements uses all its
 * connections for them.
 */
const FAST_DEMAND_MS = 1000;

/**
 * How near, in slowThresholds, the expected end of a connection's slow statement must be for
 * another slow statement to take the last connection free of them while fast statements are
 * being run (#placeStatement()): the fast ones then wait about that long at most. Wider lets
 * the slow statements use more of the connections' time, narrower keeps the fast ones
 * waiting less.
 */
const ENDING_WINDOW = 2;

/** #placeStatement(): the slow statement waits in the pool's SlowLine */
const WAIT = Symbol('wait');

let poolCounter = 0;

/** The events of a Pool, and what their listeners get. */
export interface PoolEvents {
  /**
   * `reset` threw (whatever it threw) or left the connection unusable; the connection is
   * closed and replaced after the listeners ran.
   */
  resetError: [error: unknown, connection: Connection];
}

/** A pool of connections; its events are PoolEvents. */
export class Pool extends TypedEventEmitter<PoolEvents> {
  readonly name: string;

  /** kept private: it may hold a password */
  readonly #conninfo: Conninfo | undefined;
  #options: CheckedPoolOptions;
  #min: number;
  #max: number;
  /** every connection of the pool that is open: idle, being checked, or in use */
  #entries = new Map<Connection, Entry>();
  /** every connection the pool ever made, to tell a foreign one from one already closed */
  #known = new WeakMap<Connection, Entry>();
  /** idle connections, the one returned last at the end */
  #idle: Entry[] = [];
  #inUse = new Set<Entry>();
  /** connections in use by pool.query() statements, which others may join */
  #shared = new Set<Entry>();
  #waiters: Waiter[] = [];
  #connecting = 0;
  #opened = false;
  #closed = false;
  #closing: Promise<void> | undefined;
  #counters: PoolCounters = zeroCounters();
  #lastConnectError: { error: unknown; at: number } | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;
  /** backoff sleeps, cut short by close() */
  #sleeps = new Set<{ timer: NodeJS.Timeout; wake(): void }>();
  /** the texts run through pool.query(): shareable or not, fast or slow */
  #statements = new StatementHistory();
  /** slow pool.query() statements waiting for a connection, so that fast ones keep one */
  #slowLine = new SlowLine<InLine, LineExit>();
  /** fast pool.query() statements waiting among callers: fast demand, however long they wait */
  #fastWaiting = 0;
  /** heads of the pool's line sent on to acquire a connection, not yet given one (or failed) */
  #lineAcquiring = 0;
  /** #placeSlowLine() is running: what it causes does not start it again */
  #placingSlowLine = false;
  /** when the last fast pool.query() statement was placed (performance.now()) */
  #lastFastAt = Number.NEGATIVE_INFINITY;
  /** wait() callers, woken as connections are added */
  #fillWaiters = new Set<() => void>();
  /** close() waiting for the connections in use, woken as they come back */
  #drainWaiter: (() => void) | undefined;

  constructor(conninfo?: Conninfo, options?: PoolOptions) {
    super();
    this.#options = checkPoolOptions(options);
    this.#min = this.#options.min;
    this.#max = this.#options.max;
    this.#conninfo = conninfo;
    this.name = this.#options.name ?? `pool-${++poolCounter}`;
    if (this.#options.open) this.open();
  }

  // ---------------------------------------------------------------------------------------
  // life

  /** Start filling the pool up to `min` in the background. A closed pool cannot be opened again. */
  open(): void {
    if (this.#closed) throw new errors.PoolClosed(`pool ${this.name} is closed and cannot be opened again`);
    if (this.#opened) return;
    this.#opened = true;
    const { maxIdle, maxLifetime } = this.#options;
    const period = Math.max(0.05, Math.min(maxIdle, maxLifetime, 60) / 2);
    this.#sweepTimer = setInterval(() => this.#sweep(), period * 1000);
    this.#sweepTimer.unref();
    this.#maybeGrow();
  }

  get opened(): boolean {
    return this.#opened;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get min(): number {
    return this.#min;
  }

  get max(): number {
    return this.#max;
  }

  /**
   * Wait until the pool holds `min` connections. After `timeout` seconds (default 30) the
   * pool is closed and the promise rejects with PoolTimeout, as psycopg_pool's wait().
   */
  async wait(timeout = 30): Promise<void> {
    checkSeconds('timeout', timeout, 30);
    if (!this.#opened) throw new errors.PoolClosed(`pool ${this.name} is not open`);
    try {
      await new Promise<void>((resolve, reject) => {
        const check = () => {
          if (this.#closed) {
            done();
            reject(new errors.PoolClosed(`pool ${this.name} was closed`));
          } else if (this.#entries.size >= this.#min) {
            done();
            resolve();
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new errors.PoolTimeout(`pool ${this.name} was not ready after ${timeout} s${this.#lastErrorNote(0)}`));
        }, timeout * 1000);
        const done = () => {
          clearTimeout(timer);
          this.#fillWaiters.delete(check);
        };
        this.#fillWaiters.add(check);
        check();
      });
    } catch (error) {
      if (error instanceof errors.PoolTimeout) await this.close(0);
      throw withCallerStack(error);
    }
  }

  /**
   * Close the pool: waiters fail with PoolClosed, idle connections are closed at once, the
   * ones in use when they come back or after `timeout` seconds (default 5), whichever is first.
   */
  close(timeout = 5): Promise<void> {
    if (typeof timeout !== 'number' || !(timeout >= 0)) throw new TypeError('timeout must be a non-negative number of seconds');
    this.#closing ??= this.#shutDown(timeout);
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #shutDown(timeout: number): Promise<void> {
    this.#closed = true;
    if (this.#sweepTimer !== undefined) clearInterval(this.#sweepTimer);
    for (const sleep of [...this.#sleeps]) sleep.wake();
    for (const check of [...this.#fillWaiters]) check();
    this.#counters.requestsErrors += this.#slowLine.rejectAll(() => new errors.PoolClosed(`pool ${this.name} was closed while the statement waited for a connection`));
    for (const waiter of this.#waiters.splice(0)) {
      clearTimeout(waiter.timer);
      this.#leftLine(waiter);
      this.#counters.requestsErrors++;
      waiter.reject(new errors.PoolClosed(`pool ${this.name} was closed while waiting for a connection`));
    }
    for (const entry of this.#idle.splice(0)) this.#discard(entry);
    if (this.#inUse.size > 0 && timeout > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeout * 1000);
        this.#drainWaiter = () => {
          if (this.#inUse.size > 0) return;
          clearTimeout(timer);
          resolve();
        };
      });
      this.#drainWaiter = undefined;
    }
    for (const entry of [...this.#inUse]) {
      entry.gone = true;
      this.#discard(entry);
    }
    for (const entry of [...this.#entries.values()]) this.#discard(entry);
  }

  // ---------------------------------------------------------------------------------------
  // using connections

  /**
   * Run `fn` with a connection of the pool: its transaction is committed when `fn` resolves,
   * rolled back when it throws; the connection goes back to the pool either way.
   */
  async connection<T>(fn: (conn: Connection) => Promise<T> | T, options?: AcquireOptions): Promise<T> {
    if (typeof fn !== 'function') throw new TypeError('connection() takes a function');
    const conn = await this.acquire(options);
    try {
      const value = await fn(conn);
      if (!conn.closed && conn.info.transactionStatus === 'inerror') {
        // fn swallowed an error: a COMMIT would quietly roll back, the caller must know
        throw new errors.InFailedSqlTransaction('the transaction was rolled back: a statement in it failed');
      }
      // a connection the caller closed on purpose has nothing left to commit
      if (!conn.closed || conn.broken) await conn.commit();
      return value;
    } catch (error) {
      if (!conn.closed) await conn.rollback().catch(() => undefined);
      throw withCallerStack(error);
    } finally {
      await this.release(conn);
    }
  }

  /**
   * Run one statement on a connection of the pool, in autocommit: committed, or rolled back
   * when it fails. The statement gets a connection of its own while one is idle or the pool
   * can still open one (below max). At max, with every connection busy, it is pipelined on
   * a busy connection, as one connection's concurrent queries are, instead of waiting for a
   * connection to be free: the one with the fewest statements in flight among those running
   * no slow statement (#placeStatement()). Callers already waiting in line (acquire(),
   * connection()) are served first.
   */
  async query<R = Record<string, unknown>>(text: QueryText, params?: readonly unknown[], options?: QueryOptions): Promise<Result<R>> {
    try {
      checkSignal(options?.signal);
    } catch (error) {
      throw withCallerStack(error);
    }
    const statement = this.#statements.of(text);
    if (!statement.shareable) return this.#queryAlone(text, params, options);
    try {
      this.#checkUsable();
      const threshold = this.#options.slowThreshold * 1000;
      // NaN (never run) is not slow
      const slow = statement.ms >= threshold && threshold > 0;
      const shared = slow ? { slow, ms: statement.ms } : FAST;
      // counted as in flight on its connection (entry.slow) from the moment it is placed
      const placed = this.#placeStatement(shared, false);
      const signal = options?.signal;
      const entry = placed === WAIT ? await this.#throughSlowLine(shared, signal) : (placed ?? (await this.#acquireShared(shared, undefined, signal)));
      let started = Number.NaN;
      try {
        // sent by the time query() returns its promise: the clock leaves out the client's own work before
        const running = runQuery<R>(coreOf(entry.conn), entry.conn, text, params, options);
        started = performance.now();
        return await running;
      } finally {
        const now = performance.now();
        // A statement its signal stopped may never have run (rejected while queued behind
        // others): its time says nothing of its text, nor that the ones before it are done.
        if (options?.signal?.aborted !== true) {
          // it ran once the statements before it on the connection were done
          this.#statements.record(statement, now - (entry.lastDoneAt > started ? entry.lastDoneAt : started));
          entry.lastDoneAt = now;
          entry.busySince = now;
        }
        if (slow) entry.slow.done(now);
        // placed before this one leaves: a connection it was the last on is taken as it is
        if (this.#slowLine.length > 0) this.#placeSlowLine();
        if (--entry.sharedBy === 0) {
          const releasing = this.#unshare(entry);
          if (releasing !== undefined) await releasing;
        } else if (this.#waiters.length > 0) {
          // one statement fewer in flight: a statement waiting in line may now join
          this.#spreadStatements();
        }
      }
    } catch (error) {
      throw withCallerStack(error);
    }
  }

  /** A statement that must have its connection to itself (StatementHistory's `shareable`). */
  async #queryAlone<R>(text: QueryText, params: readonly unknown[] | undefined, options: QueryOptions | undefined): Promise<Result<R>> {
    // its signal ends the wait for a connection, as for a shared statement
    const conn = await this.acquire({ signal: options?.signal });
    try {
      // One statement is a transaction of its own without BEGIN and COMMIT around it: one
      // command for the server instead of three. release() restores the connection's mode.
      if (!conn.autocommit) conn.autocommit = true;
      return await conn.query<R>(text, params, options);
    } catch (error) {
      throw withCallerStack(error);
    } finally {
      await this.release(conn);
    }
  }

  /**
   * A connection for the caller alone, until release(). Idle connections are checked first
   * (closed ones, expired ones, the `check` function); with none idle, the caller waits in
   * line, and the pool grows up to `max`.
   */
  async acquire(options?: AcquireOptions): Promise<Connection> {
    try {
      if (poolAcquireChannel.hasSubscribers) return (await this.#tracedAcquire(options, undefined)).conn;
      return (await this.#acquireEntry(options, undefined)).conn;
    } catch (error) {
      throw withCallerStack(error);
    }
  }

  /** #acquireEntry() published on `pqnode:pool:acquire`, the connection's server read at the end. */
  async #tracedAcquire(options: AcquireOptions | undefined, statement: SharedStatement | undefined, line?: InLine, signal?: AbortSignal): Promise<Entry> {
    const context: PoolAcquireTraceContext = {
      size: this.#entries.size,
      idle: this.#idle.length,
      waiting: this.#waiters.length,
    };
    let entry: Entry | undefined;
    // subscribers see the Connection handed out as the result, not the pool's bookkeeping
    const acquire = async () => {
      entry = await this.#acquireEntry(options, statement, line, signal);
      return entry.conn;
    };
    await trace(poolAcquireChannel, context, acquire, (done, conn) => {
      Object.assign(done, coreOf(conn).serverTraceContext());
    });
    return entry as Entry;
  }

  /**
   * acquire(), for a caller alone or for a pool.query() `statement`; `line`: a slow statement
   * sent on from the pool's line, already counted, with the time it has left.
   */
  async #acquireEntry(options: AcquireOptions | undefined, statement: SharedStatement | undefined, line?: InLine, signal?: AbortSignal): Promise<Entry> {
    const timeout = line === undefined ? checkSeconds('timeout', options?.timeout, this.#options.timeout) : this.#options.timeout;
    // a statement's own signal, else the caller's (acquire({ signal }))
    if (signal === undefined) checkSignal(options?.signal);
    const waitSignal = signal ?? options?.signal;
    if (line === undefined) this.#checkUsable();
    else if (this.#closed) throw new errors.PoolClosed(`pool ${this.name} was closed while the statement waited for a connection`);
    if (line === undefined) this.#counters.requestsNum++;
    // an already aborted caller takes no connection, even an idle one
    if (statement === undefined && waitSignal?.aborted) {
      this.#counters.requestsErrors++;
      throw abortReason(waitSignal);
    }
    const started = line?.queuedAt ?? Date.now();
    const deadline = line?.deadline ?? started + timeout * 1000;
    let retried = false;
    for (;;) {
      const entry = this.#idle.pop();
      if (entry === undefined) break;
      // without a check there is nothing to wait for: the connection is taken in this tick
      const check = this.#options.check;
      const usable = this.#fresh(entry) && (check === undefined || (await this.#passesCheck(entry, check, deadline)));
      if (this.#closed) {
        if (usable) this.#discard(entry);
        this.#counters.requestsErrors++;
        throw new errors.PoolClosed(`pool ${this.name} was closed`);
      }
      if (usable) {
        this.#handOut(entry);
        if (statement !== undefined) this.#share(entry, statement);
        return entry;
      }
      retried = true;
      if (Date.now() >= deadline) {
        this.#counters.requestsErrors++;
        throw new errors.PoolTimeout(`couldn't get a connection from pool ${this.name} after ${timeout} s: the connections failed their check`);
      }
    }
    return await this.#enqueue(deadline - Date.now(), started, retried, statement, line !== undefined, waitSignal);
  }

  /**
   * Where a pool.query() statement goes now, counted as in flight there: a shared connection
   * to join, or an idle one taken in this tick. Undefined when it goes through
   * #acquireEntry(): while callers wait in line (they are served first, and the statements
   * among them share the connections as #spreadStatements() says), for a connection being
   * opened, or an idle one to check first. WAIT when a slow statement is to wait in the
   * pool's line (`fromLine`: it is the head of that line, counted as a request already).
   *
   * Pipelining trades against head-of-line blocking: a statement waits for every statement
   * sent before it on its connection. So fast statements are kept from waiting behind slow
   * ones (texts that usually run past `slowThreshold`, or a connection busy with its oldest
   * statement for that long):
   * - a fast statement goes to the connection with the fewest in flight among those running
   *   nothing slow; when each runs something slow, behind the one expected to end first;
   * - while fast statements are being run, a slow one takes the last connection free of slow
   *   statements only when another connection's one slow statement is expected to end within
   *   ENDING_WINDOW slowThresholds. Otherwise it waits in the pool's line, not behind another slow
   *   statement, until that is so. The slow statements then keep every connection busy but
   *   for moments, staggered so that one of them always ends soon. With no fast statement in
   *   the last second, slow ones are placed as fast ones are, on every connection.
   */
  #placeStatement(statement: SharedStatement, fromLine: boolean): Entry | undefined | typeof WAIT {
    const slow = statement.slow;
    // slow statements keep the order they came in, also before callers waiting in line
    if (slow && !fromLine && this.#slowLine.length > 0) return WAIT;
    const now = performance.now();
    // a fast statement is being run from now on, also when it waits among callers
    if (!slow) this.#lastFastAt = now;
    // the head of the pool's line sent on to acquire a connection takes it before the next goes
    if (fromLine && this.#lineAcquiring > 0) return WAIT;
    // Callers waiting in line are served first. A slow statement waits for them in the pool's
    // line, where the rule below still applies to it, rather than among them, where a
    // connection coming back would be handed to it whole; the head of that line goes first
    // when it came before them.
    if (this.#waiters.length > 0) {
      if (!fromLine) return slow ? WAIT : undefined;
      if ((this.#slowLine.first as InLine).queuedAt > this.#waiters[0].since) return WAIT;
    }
    // a fast statement takes an idle connection without looking further
    if (!slow && this.#idle.length > 0) return this.#takeIdle(statement, true);
    const threshold = this.#options.slowThreshold * 1000;
    const growable = this.#max - this.#entries.size - this.#connecting;
    let slowFree = this.#idle.length + (growable > 0 ? growable : 0);
    let free: Entry | undefined;
    let occupied: Entry | undefined;
    /** the connection expected to be free of slow statements first, and in how many ms */
    let ending: Entry | undefined;
    let endingIn = Number.POSITIVE_INFINITY;
    let slowRunning = false;
    const wallNow = Date.now();
    for (const entry of this.#shared) {
      if (!this.#takesMore(entry, wallNow)) continue;
      const slowCount = entry.slow.count;
      if (slowCount > 0) {
        slowRunning = true;
        const freeIn = entry.slow.freeIn(now, threshold);
        if (freeIn < endingIn) {
          ending = entry;
          endingIn = freeIn;
        }
      }
      if (!this.#busyWithSlow(entry, now, threshold)) {
        slowFree++;
        if (free === undefined || entry.sharedBy < free.sharedBy) free = entry;
      } else if (
        occupied === undefined ||
        slowCount < occupied.slow.count ||
        // of the ones busy past the threshold, the one that finished a statement last: the
        // likeliest to be running fast ones late rather than one slow one
        (slowCount === occupied.slow.count && entry.busySince > occupied.busySince)
      ) {
        occupied = entry;
      }
    }
    // fast statements waiting among callers claim no time: their leaving the line wakes it
    const fastDemandLeft = this.#fastWaiting > 0 ? Number.POSITIVE_INFINITY : FAST_DEMAND_MS - (now - this.#lastFastAt);
    if (slow && this.#slowMustWait(slowRunning, slowFree, endingIn, now)) {
      // tried again as statements finish and connections come back, when the first expected
      // end is near enough, and when the fast statements' claim lapses
      const nearEnough = slowFree === 1 ? endingIn - threshold * ENDING_WINDOW : Number.POSITIVE_INFINITY;
      this.#slowLine.wakeIn(Math.min(nearEnough, fastDemandLeft), () => this.#placeSlowLine());
      return WAIT;
    }
    if (this.#idle.length > 0) return this.#takeIdle(statement, !fromLine);
    // one being opened
    if (growable > 0) return undefined;
    const best = free ?? (slow ? occupied : (ending ?? occupied));
    if (best === undefined) return undefined;
    best.sharedBy++;
    if (slow) best.slow.add(statement.ms, now);
    if (!fromLine) this.#counters.requestsNum++;
    return best;
  }

  /**
   * Whether a slow statement must wait rather than take a connection: while fast statements
   * are being run (one came in the last FAST_DEMAND_MS, or one waits among callers) and
   * something slow runs, it takes the last
   * connection free of slow statements (`slowFree`) only when another's slow statement is
   * expected to end within ENDING_WINDOW slowThresholds (`endingIn` ms), and never joins one
   * running a slow statement.
   */
  #slowMustWait(slowRunning: boolean, slowFree: number, endingIn: number, now: number): boolean {
    if (!slowRunning || slowFree > 1 || (now - this.#lastFastAt >= FAST_DEMAND_MS && this.#fastWaiting === 0)) return false;
    return !(slowFree === 1 && endingIn <= this.#options.slowThreshold * 1000 * ENDING_WINDOW);
  }

  /**
   * The slow statements at the head of the pool's line, placed while #placeStatement() lets
   * them. One that must go through #acquireEntry() (an idle connection to check first, one
   * to open) starts it now, so that what it takes is taken before the next is placed, and
   * the next ones wait for the pool to change, or for that acquisition to end: otherwise
   * they would all be let out on the same free connection.
   */
  #placeSlowLine(): void {
    if (this.#placingSlowLine) return;
    this.#placingSlowLine = true;
    try {
      while (this.#slowLine.length > 0 && !this.#closed) {
        const line = this.#slowLine.first as InLine;
        const placed = this.#placeStatement(line.statement, true);
        if (placed === WAIT) return;
        if (placed !== undefined) {
          this.#slowLine.shift(placed);
          continue;
        }
        const acquiring = this.#acquireShared(line.statement, line);
        this.#lineAcquiring++;
        const retry = () => {
          this.#lineAcquiring--;
          if (this.#slowLine.length > 0) this.#placeSlowLine();
        };
        // the statement's own await reports a failure; this handler only tries the line again
        acquiring.then(retry, retry);
        this.#slowLine.shift({ acquiring });
        return;
      }
    } finally {
      this.#placingSlowLine = false;
    }
  }

  /**
   * A connection for a pool.query() statement through the line of callers (#acquireEntry()).
   * Its AbortSignal (the line's, for one sent on from the pool's line) ends its wait there.
   */
  #acquireShared(statement: SharedStatement, line?: InLine, signal: AbortSignal | undefined = line?.signal): Promise<Entry> {
    return poolAcquireChannel.hasSubscribers ? this.#tracedAcquire(undefined, statement, line, signal) : this.#acquireEntry(undefined, statement, line, signal);
  }

  /**
   * A slow statement's connection through the pool's line. It counts as a request waiting
   * (stats, `maxWaiting`) and fails with PoolTimeout after the pool's `timeout`, the time it
   * spends acquiring a connection once out of the line included. Its AbortSignal ends the
   * wait at once, with what an aborted statement fails with.
   */
  async #throughSlowLine(statement: SharedStatement, signal: AbortSignal | undefined): Promise<Entry> {
    const { timeout } = this.#options;
    this.#counters.requestsNum++;
    if (signal?.aborted) {
      this.#counters.requestsErrors++;
      throw abortReason(signal);
    }
    const refused = this.#tooManyWaiting();
    if (refused !== undefined) throw refused;
    this.#counters.requestsQueued++;
    const queuedAt = Date.now();
    const line: InLine = { statement, queuedAt, deadline: queuedAt + timeout * 1000, signal };
    let exit: LineExit;
    try {
      const timedOut = () => {
        this.#counters.requestsErrors++;
        return new errors.PoolTimeout(`couldn't get a connection from pool ${this.name} after ${timeout} s: the slow statement waited for a connection free of slow ones`);
      };
      const aborted = () => {
        this.#counters.requestsErrors++;
        // the statement that left the head of the line may let the next one go
        queueMicrotask(() => {
          if (this.#slowLine.length > 0) this.#placeSlowLine();
        });
        return abortReason(signal as AbortSignal);
      };
      exit = await this.#slowLine.wait(line, timeout * 1000, timedOut, signal, aborted);
    } finally {
      this.#counters.requestsWaitMs += Date.now() - queuedAt;
    }
    return 'acquiring' in exit ? await exit.acquiring : exit;
  }

  /**
   * An idle connection for a pool.query() statement (counted as a request when `count`),
   * taken in this tick, so that no statement placed after it can be sent on it before it;
   * undefined when one must be waited for (the `check` runs first, or none is left fresh) or
   * the acquisition is traced: #acquireEntry() takes it then.
   */
  #takeIdle(statement: SharedStatement, count: boolean): Entry | undefined {
    if (this.#options.check !== undefined || poolAcquireChannel.hasSubscribers) return undefined;
    for (;;) {
      const entry = this.#idle.pop();
      if (entry === undefined) return undefined;
      if (!this.#fresh(entry)) continue;
      // a statement from the pool's line was counted as it joined it
      if (count) this.#counters.requestsNum++;
      this.#handOut(entry);
      this.#share(entry, statement);
      return entry;
    }
  }

  /**
   * The shared connection the first of `waiting` statements should be pipelined on, if any.
   * None while a connection is idle or the pool can still open one: a statement must not wait
   * behind another caller's while it could have a connection of its own. At max, the one with
   * the fewest statements in flight among those running nothing slow, unless the connections
   * being opened would leave the statements fewer to wait behind: each of those will take its
   * share of the `waiting` ones. Behind a slow statement (the one expected to end first) only
   * when every connection runs one and none is being opened. A slow `statement` is held to
   * #slowMustWait(), as one placed at once is: while fast statements run it waits for a
   * connection of its own rather than join one running something slow.
   */
  #sharedToJoin(statement: SharedStatement, waiting: number): Entry | undefined {
    if (this.#idle.length > 0 || this.#entries.size + this.#connecting < this.#max) return undefined;
    const threshold = this.#options.slowThreshold * 1000;
    const now = performance.now();
    const wallNow = Date.now();
    /** the one with the fewest in flight among those running nothing slow */
    let best: Entry | undefined;
    /** else the one expected to be free of slow statements first, then the fewest slow */
    let busy: Entry | undefined;
    let busyFreeIn = Number.POSITIVE_INFINITY;
    let slowFree = 0;
    let slowRunning = false;
    /** the soonest expected end of a slow statement, in ms */
    let endingIn = Number.POSITIVE_INFINITY;
    for (const entry of this.#shared) {
      if (!this.#takesMore(entry, wallNow)) continue;
      const slowCount = entry.slow.count;
      if (slowCount > 0) slowRunning = true;
      const freeIn = slowCount === 0 ? Number.POSITIVE_INFINITY : entry.slow.freeIn(now, threshold);
      if (freeIn < endingIn) endingIn = freeIn;
      if (!this.#busyWithSlow(entry, now, threshold)) {
        slowFree++;
        if (best === undefined || entry.sharedBy < best.sharedBy) best = entry;
        continue;
      }
      if (busy === undefined || freeIn < busyFreeIn || (freeIn === busyFreeIn && slowCount < busy.slow.count)) {
        busy = entry;
        busyFreeIn = freeIn;
      }
    }
    if (statement.slow && this.#slowMustWait(slowRunning, slowFree, endingIn, now)) return undefined;
    // behind a slow statement only when no connection is on its way to take the statement
    if (best === undefined) return this.#connecting > 0 ? undefined : busy;
    if (this.#connecting > 0 && best.sharedBy * this.#connecting >= waiting) return undefined;
    return best;
  }

  /** A shared connection that may take more statements: an expired one drains, then is replaced, as on any return. */
  #takesMore(entry: Entry, wallNow: number): boolean {
    return !entry.conn.closed && wallNow < entry.expiresAt;
  }

  /**
   * A shared connection running a slow statement, or busy with its oldest statement for
   * `threshold` ms (which catches a slow text not yet known): no fast statement joins it
   * while another connection can take it.
   */
  #busyWithSlow(entry: Entry, now: number, threshold: number): boolean {
    return entry.slow.count > 0 || (threshold > 0 && now - entry.busySince >= threshold);
  }

  /**
   * A connection just handed out for a pool.query() statement becomes one that others may
   * join, and the statements waiting at the head of the line are spread over the shared ones.
   */
  #share(entry: Entry, statement: SharedStatement): void {
    entry.sharedBy = 1;
    entry.slow.clear();
    if (statement.slow) entry.slow.add(statement.ms, performance.now());
    entry.busySince = performance.now();
    this.#shared.add(entry);
    if (!entry.conn.autocommit) entry.conn.autocommit = true;
    this.#spreadStatements();
  }

  /**
   * The pool.query() statements at the head of the line, pipelined each on the shared
   * connection with the fewest in flight, as long as #sharedToJoin() finds one. A statement
   * waiting behind a caller that needs a connection of its own stays behind it.
   */
  #spreadStatements(): void {
    while (this.#waiters.length > 0 && this.#waiters[0].statement !== undefined) {
      const entry = this.#sharedToJoin(this.#waiters[0].statement, this.#waiters.length);
      if (entry === undefined) return;
      entry.sharedBy++;
      const { statement } = this.#serveWaiter(entry);
      if (statement?.slow) entry.slow.add(statement.ms, performance.now());
    }
    // no caller left in line: the slow statements waiting may now go
    if (this.#waiters.length === 0 && this.#slowLine.length > 0) this.#placeSlowLine();
  }

  /**
   * Give a connection back. A transaction left open is rolled back, `reset` runs, and the
   * connection is handed to the next caller in line; a broken or closed one is replaced.
   */
  async release(conn: Connection): Promise<void> {
    const entry = conn instanceof Connection ? this.#known.get(conn) : undefined;
    if (entry === undefined) throw new errors.InterfaceError(`the connection does not belong to pool ${this.name}`);
    if (!entry.inUse) throw new errors.InterfaceError(`the connection was already returned to pool ${this.name}`);
    entry.inUse = false;
    this.#inUse.delete(entry);
    this.#counters.usageMs += Date.now() - entry.handedOutAt;
    try {
      if (entry.gone) return;
      if (this.#closed) {
        this.#discard(entry);
        return;
      }
      if (!(await restoreConnection(entry.conn, entry.clean))) {
        this.#counters.returnsBad++;
        this.#discard(entry);
        return;
      }
      const reset = this.#options.reset;
      if (reset !== undefined && !(await this.#passesReset(entry, reset))) return;
      if (this.#closed || Date.now() >= entry.expiresAt || this.#entries.size + this.#connecting > this.#max) {
        this.#discard(entry);
        return;
      }
      this.#offer(entry);
    } finally {
      this.#drainWaiter?.();
    }
  }

  /**
   * A shared connection whose statements are all done goes back to the pool. In the same tick
   * when nothing about it needs a round trip (no `reset`, nothing to roll back): a statement
   * issued next finds it idle, rather than nowhere while release() runs, which would leave it
   * only the busy connections to be pipelined on. Through release() otherwise.
   */
  #unshare(entry: Entry): Promise<void> | undefined {
    this.#shared.delete(entry);
    if (this.#options.reset !== undefined || entry.gone || this.#closed || !restoreAtOnce(entry.conn, entry.clean, false)) {
      return this.release(entry.conn);
    }
    entry.inUse = false;
    this.#inUse.delete(entry);
    const now = Date.now();
    this.#counters.usageMs += now - entry.handedOutAt;
    if (now >= entry.expiresAt || this.#entries.size + this.#connecting > this.#max) this.#discard(entry);
    else this.#offer(entry);
    this.#drainWaiter?.();
    return undefined;
  }

  // ---------------------------------------------------------------------------------------
  // size and figures

  /** Change the bounds; the pool grows at once, and shrinks as idle connections allow. */
  resize(min: number, max: number = min): void {
    checkCount('min', min, 0);
    checkCount('max', max, 0);
    checkSizes(min, max);
    this.#min = min;
    this.#max = max;
    while (this.#entries.size + this.#connecting > this.#max && this.#idle.length > 0) {
      this.#discard(this.#idle.shift() as Entry);
    }
    this.#maybeGrow();
    if (this.#slowLine.length > 0) this.#placeSlowLine();
  }

  /** The pool's state and counters (psycopg_pool's get_stats()). */
  stats(): PoolStats {
    return {
      poolMin: this.#min,
      poolMax: this.#max,
      poolSize: this.#entries.size + this.#connecting,
      poolAvailable: this.#idle.length,
      requestsWaiting: this.#waiters.length + this.#slowLine.length,
      ...this.#counters,
    };
  }

  /** The stats, with the counters zeroed afterwards (psycopg_pool's pop_stats()). */
  popStats(): PoolStats {
    const stats = this.stats();
    this.#counters = zeroCounters();
    return stats;
  }

  /** A check for the `check` option: a round trip to the server, no transaction left behind. */
  static async checkConnection(conn: Connection): Promise<void> {
    const autocommit = conn.autocommit;
    if (!autocommit) conn.autocommit = true;
    try {
      await conn.query('select 1');
    } finally {
      if (!autocommit && !conn.closed) conn.autocommit = false;
    }
  }

  // ---------------------------------------------------------------------------------------
  // internals

  #checkUsable(): void {
    if (this.#closed) throw new errors.PoolClosed(`pool ${this.name} is closed`);
    if (!this.#opened) throw new errors.PoolClosed(`pool ${this.name} is not open yet: call open()`);
  }

  /** `fromLine`: a slow statement sent on from the pool's line, already admitted and counted as queued. */
  #enqueue(remainingMs: number, started: number, first: boolean, statement: SharedStatement | undefined, fromLine = false, signal?: AbortSignal): Promise<Entry> {
    if (signal?.aborted) {
      this.#counters.requestsErrors++;
      return Promise.reject(abortReason(signal));
    }
    if (!fromLine) {
      const refused = this.#tooManyWaiting();
      if (refused !== undefined) return Promise.reject(refused);
      this.#counters.requestsQueued++;
    }
    return new Promise<Entry>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        queuedAt: Date.now(),
        since: started,
        statement,
        signal,
        onAbort: undefined,
        timer: setTimeout(() => {
          const seconds = ((Date.now() - started) / 1000).toFixed(2);
          const lastError = this.#lastConnectError;
          const recent = lastError !== undefined && lastError.at >= started ? { cause: lastError.error } : undefined;
          this.#giveUp(waiter, new errors.PoolTimeout(`couldn't get a connection from pool ${this.name} after ${seconds} s${this.#lastErrorNote(started)}`, recent));
        }, Math.max(0, remainingMs)),
      };
      if (signal !== undefined) {
        // an aborted statement leaves the line at once, as a timed-out one does
        waiter.onAbort = () => this.#giveUp(waiter, abortReason(signal));
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      if (statement !== undefined && !statement.slow) this.#fastWaiting++;
      // a caller whose idle connection failed its check was first in line: it stays first
      if (first) this.#waiters.unshift(waiter);
      else if (fromLine) this.#waiters.splice(this.#placeBySince(started), 0, waiter);
      else this.#waiters.push(waiter);
      this.#maybeGrow();
      // at max, a statement waiting for a connection being opened may be better off shared
      if (statement !== undefined) this.#spreadStatements();
    });
  }

  /**
   * A waiter that stops waiting (its timeout, its signal) leaves the line, counted as an error,
   * and fails with `error`; the ones behind it may then be spread, or the slow statements go.
   */
  #giveUp(waiter: Waiter, error: Error): void {
    const index = this.#waiters.indexOf(waiter);
    if (index < 0) return;
    this.#waiters.splice(index, 1);
    clearTimeout(waiter.timer);
    this.#leftLine(waiter);
    this.#counters.requestsErrors++;
    this.#counters.requestsWaitMs += Date.now() - waiter.queuedAt;
    waiter.reject(error);
    if (this.#waiters.length === 0 && this.#slowLine.length > 0) this.#placeSlowLine();
    else if (this.#waiters.length > 0) this.#spreadStatements();
  }

  /**
   * TooManyRequests, counted as an error, when `maxWaiting` requests already wait: callers in
   * line and slow statements in the pool's line alike. Undefined while there is room.
   */
  #tooManyWaiting(): errors.TooManyRequests | undefined {
    const { maxWaiting } = this.#options;
    const waiting = this.#waiters.length + this.#slowLine.length;
    if (!(maxWaiting > 0 && waiting >= maxWaiting)) return undefined;
    this.#counters.requestsErrors++;
    return new errors.TooManyRequests(`pool ${this.name} already has ${waiting} requests waiting`);
  }

  #lastErrorNote(since: number): string {
    const last = this.#lastConnectError;
    if (last === undefined || last.at < since) return '';
    const message = messageOf(last.error);
    return ` (last connection attempt: ${message.split('\n')[0]})`;
  }

  #handOut(entry: Entry): void {
    entry.inUse = true;
    entry.handedOutAt = Date.now();
    this.#inUse.add(entry);
  }

  /**
   * A connection is ready: the first caller in line gets it, or it waits in the idle set.
   * When that caller has a pool.query() statement, the statements waiting right behind it
   * may share it (#spreadStatements()).
   */
  #offer(entry: Entry): void {
    if (this.#waiters.length === 0) {
      entry.returnedAt = Date.now();
      this.#idle.push(entry);
    } else {
      this.#handOut(entry);
      const { statement } = this.#serveWaiter(entry);
      if (statement !== undefined) this.#share(entry, statement);
    }
    // a connection more, or a caller fewer in line: the slow statements waiting may now go
    if (this.#slowLine.length > 0) this.#placeSlowLine();
  }

  /** A waiter leaves the callers' line: nothing listens to its signal, and it is no fast demand any more. */
  #leftLine(waiter: Waiter): void {
    if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener('abort', waiter.onAbort);
    if (waiter.statement !== undefined && !waiter.statement.slow) this.#fastWaiting--;
  }

  /** The index in the callers' line for a request that came at `since`: behind every one that came before. */
  #placeBySince(since: number): number {
    const index = this.#waiters.findIndex((waiter) => waiter.since > since);
    return index < 0 ? this.#waiters.length : index;
  }

  /** The first waiter gets `entry`. */
  #serveWaiter(entry: Entry): Waiter {
    const waiter = this.#waiters.shift() as Waiter;
    clearTimeout(waiter.timer);
    this.#leftLine(waiter);
    if (waiter.statement !== undefined && !waiter.statement.slow) this.#lastFastAt = performance.now();
    this.#counters.requestsWaitMs += Date.now() - waiter.queuedAt;
    waiter.resolve(entry);
    return waiter;
  }

  /** Whether an idle connection is neither lost nor expired; such a one is closed and replaced. */
  #fresh(entry: Entry): boolean {
    if (entry.conn.closed) {
      this.#counters.connectionsLost++;
      this.#discard(entry);
      return false;
    }
    if (Date.now() >= entry.expiresAt) {
      this.#discard(entry);
      return false;
    }
    return true;
  }

  /** Whether an idle connection passes the `check`; one that fails it is closed and replaced. */
  async #passesCheck(entry: Entry, check: ConnectionHook, deadline: number): Promise<boolean> {
    try {
      await runCheck(entry.conn, entry.clean, check, deadline);
      return true;
    } catch {
      this.#counters.connectionsLost++;
      this.#discard(entry);
      return false;
    }
  }

  /** Whether `reset` brought a connection back; one it failed on is reported, closed and replaced. */
  async #passesReset(entry: Entry, reset: ConnectionHook): Promise<boolean> {
    try {
      await runReset(entry.conn, entry.clean, reset);
      return true;
    } catch (error) {
      this.#counters.resetErrors++;
      try {
        this.emit('resetError', error, entry.conn);
      } catch {
        // a failing listener must not stop the pool
      }
      this.#discard(entry);
      return false;
    }
  }

  /** Close a connection and forget it; a replacement is started when the pool needs one. */
  #discard(entry: Entry): void {
    this.#entries.delete(entry.conn);
    const index = this.#idle.indexOf(entry);
    if (index >= 0) this.#idle.splice(index, 1);
    entry.conn.close().catch(() => undefined);
    this.#maybeGrow();
  }

  /**
   * Start connecting while the pool is below `min`, or callers wait with no attempt for them;
   * connections being opened count toward `max`.
   */
  #maybeGrow(): void {
    if (this.#closed || !this.#opened) return;
    for (;;) {
      const size = this.#entries.size + this.#connecting;
      if (size >= this.#max) return;
      if (size >= this.#min && this.#waiters.length <= this.#connecting) return;
      this.#connecting++;
      void this.#addConnection();
    }
  }

  /** One new connection, attempted with growing delays until it works or reconnectTimeout passes. */
  async #addConnection(): Promise<void> {
    const backoff = new Backoff();
    let added = false;
    try {
      while (!this.#closed) {
        const started = Date.now();
        let conn: Connection | undefined;
        let clean: CleanState;
        try {
          conn = await connect(this.#conninfo, this.#options.connectOptions);
          clean = await configureConnection(conn, this.#options.configure);
        } catch (error) {
          conn?.close().catch(() => undefined);
          this.#counters.connectionsErrors++;
          this.#lastConnectError = { error, at: Date.now() };
          if (backoff.elapsed() >= this.#options.reconnectTimeout) {
            this.#reconnectFailed();
            return;
          }
          await this.#sleep(backoff.nextDelay());
          continue;
        }
        this.#counters.connectionsNum++;
        this.#counters.connectionsMs += Date.now() - started;
        if (this.#closed) {
          conn.close().catch(() => undefined);
          return;
        }
        const entry: Entry = {
          conn,
          expiresAt: Date.now() + jitter(this.#options.maxLifetime, -0.05, 0) * 1000,
          clean,
          inUse: false,
          gone: false,
          handedOutAt: 0,
          returnedAt: 0,
          sharedBy: 0,
          slow: new SlowRuns(),
          busySince: 0,
          lastDoneAt: 0,
        };
        this.#connecting--;
        added = true;
        this.#entries.set(conn, entry);
        this.#known.set(conn, entry);
        this.#offer(entry);
        for (const check of [...this.#fillWaiters]) check();
        return;
      }
    } finally {
      if (!added) this.#connecting--;
    }
  }

  #reconnectFailed(): void {
    const callback = this.#options.reconnectFailed;
    if (callback === undefined) return;
    try {
      callback(this);
    } catch {
      // a failing callback must not stop the pool
    }
  }

  #sleep(seconds: number): Promise<void> {
    return new Promise((resolve) => {
      const sleep = {
        timer: setTimeout(() => sleep.wake(), seconds * 1000),
        wake: () => {
          clearTimeout(sleep.timer);
          this.#sleeps.delete(sleep);
          resolve();
        },
      };
      sleep.timer.unref();
      this.#sleeps.add(sleep);
    });
  }

  /** Expired and long-idle connections closed; the pool topped up to `min`. */
  #sweep(): void {
    const now = Date.now();
    for (const entry of [...this.#idle]) {
      if (entry.conn.closed) {
        this.#counters.connectionsLost++;
        this.#discard(entry);
      } else if (now >= entry.expiresAt) {
        this.#discard(entry);
      }
    }
    const maxIdleMs = this.#options.maxIdle * 1000;
    // the oldest returns are at the front
    while (this.#idle.length > 0 && this.#entries.size + this.#connecting > this.#min && now - this.#idle[0].returnedAt >= maxIdleMs) {
      this.#discard(this.#idle[0]);
    }
    this.#maybeGrow();
  }
}
