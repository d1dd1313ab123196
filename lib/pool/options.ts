// The pool's options, checked once, with psycopg_pool's defaults. Durations are seconds.
import type { Connection, ConnectOptions } from '../connection';
import type { Pool } from '../pool';
import { checkSeconds as checkTimerSeconds } from '../seconds';

/** A hook on one connection; what it returns is awaited and ignored (`(conn) => conn.query(...)` will do). */
export type ConnectionHook = (conn: Connection) => unknown;

export interface PoolOptions {
  /** connections kept open even when idle (default 4, as psycopg_pool, or max when it is less) */
  min?: number;
  /** connections open at most (default: min) */
  max?: number;
  /** seconds a caller waits for a connection before errors.PoolTimeout (default 30) */
  timeout?: number;
  /** callers allowed to wait at once; beyond it errors.TooManyRequests (default 0: no bound) */
  maxWaiting?: number;
  /** seconds a connection lives before it is replaced, less up to 5% of jitter (default 3600) */
  maxLifetime?: number;
  /** seconds an idle connection above `min` stays open (default 600) */
  maxIdle?: number;
  /** seconds of failed attempts after which a connection attempt is abandoned (default 300) */
  reconnectTimeout?: number;
  /** run on a connection taken from the idle set before it is handed out, in autocommit; throwing discards it */
  check?: ConnectionHook;
  /** run once on each new connection; throwing counts as a failed connect */
  configure?: ConnectionHook;
  /**
   * run on each connection returned to the pool, after its transaction is rolled back, in
   * autocommit (DISCARD ALL runs); throwing emits 'resetError' and discards it
   */
  reset?: ConnectionHook;
  /** called when a connection attempt is abandoned after reconnectTimeout */
  reconnectFailed?: (pool: Pool) => void;
  /** options for connect() */
  connectOptions?: ConnectOptions;
  /** a name for messages (default 'pool-N') */
  name?: string;
  /** start connecting at once (default true); otherwise call open() */
  open?: boolean;
  /**
   * a pool.query() text whose last two runs each kept its connection busy longer than this
   * many seconds is slow, and so is a connection busy with one statement for that long: no
   * fast statement is pipelined behind it while a connection free of them can take it, and
   * while fast ones run, a slow statement waits in the pool rather than take the last such
   * connection, until another's slow statement is expected to end within twice this time
   * (default 0.002; 0: every statement alike, pipelined on the connection with the fewest in flight)
   */
  slowThreshold?: number;
}

export interface CheckedPoolOptions {
  min: number;
  max: number;
  timeout: number;
  maxWaiting: number;
  maxLifetime: number;
  maxIdle: number;
  reconnectTimeout: number;
  check: ConnectionHook | undefined;
  configure: ConnectionHook | undefined;
  reset: ConnectionHook | undefined;
  reconnectFailed: ((pool: Pool) => void) | undefined;
  connectOptions: ConnectOptions;
  name: string | undefined;
  open: boolean;
  slowThreshold: number;
}

const KNOWN = new Set([
  'min',
  'max',
  'timeout',
  'maxWaiting',
  'maxLifetime',
  'maxIdle',
  'reconnectTimeout',
  'check',
  'configure',
  'reset',
  'reconnectFailed',
  'connectOptions',
  'name',
  'open',
  'slowThreshold',
]);

export function checkPoolOptions(options: PoolOptions | undefined): CheckedPoolOptions {
  if (options === undefined || options === null) options = {};
  if (typeof options !== 'object') throw new TypeError('Pool options must be an object');
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new TypeError(`unknown Pool option ${JSON.stringify(key)}`);
  }
  // psycopg_pool's min_size of 4, but never above a max given alone ({ max: 2 } is a pool of 2)
  const givenMax = options.max === undefined ? undefined : checkCount('max', options.max, 0);
  const min = checkCount('min', options.min, Math.min(4, givenMax ?? 4));
  const max = givenMax ?? Math.max(min, 1);
  checkSizes(min, max);
  return {
    min,
    max,
    timeout: checkSeconds('timeout', options.timeout, 30),
    maxWaiting: checkCount('maxWaiting', options.maxWaiting, 0),
    maxLifetime: checkSeconds('maxLifetime', options.maxLifetime, 3600),
    maxIdle: checkSeconds('maxIdle', options.maxIdle, 600),
    reconnectTimeout: checkSeconds('reconnectTimeout', options.reconnectTimeout, 300),
    check: checkHook('check', options.check),
    configure: checkHook('configure', options.configure),
    reset: checkHook('reset', options.reset),
    reconnectFailed: checkHook('reconnectFailed', options.reconnectFailed),
    connectOptions: checkConnectOptions(options.connectOptions),
    name: options.name === undefined ? undefined : String(options.name),
    open: options.open === undefined ? true : Boolean(options.open),
    slowThreshold: checkNonNegativeSeconds('slowThreshold', options.slowThreshold, 0.002),
  };
}

export function checkSizes(min: number, max: number): void {
  if (max < 1) throw new RangeError('the pool max must be at least 1');
  if (max < min) throw new RangeError(`the pool max (${max}) must not be less than its min (${min})`);
}

export function checkCount(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new TypeError(`${name} must be a non-negative integer`);
  }
  return value;
}

/** A number of seconds a timer can hold (lib/seconds.ts), or `fallback` when not given. */
export function checkSeconds(name: string, value: unknown, fallback: number): number {
  return value === undefined ? fallback : checkTimerSeconds(name, value);
}

function checkNonNegativeSeconds(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) throw new TypeError(`${name} must be a non-negative number of seconds`);
  return value;
}

function checkHook<F>(name: string, value: F | undefined): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new TypeError(`${name} must be a function`);
  return value;
}

function checkConnectOptions(value: ConnectOptions | undefined): ConnectOptions {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object') throw new TypeError('connectOptions must be an object');
  if (value.signal !== undefined) throw new TypeError('connectOptions.signal cannot be shared by the connections of a pool');
  return value;
}
