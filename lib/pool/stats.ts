// The pool's counters, named as psycopg_pool names them (in camelCase).

/** Counters that grow over the pool's life; popStats() reads and zeroes them. */
export interface PoolCounters {
  /** connections requested from the pool */
  requestsNum: number;
  /** requests that had to wait for a connection */
  requestsQueued: number;
  /** total time requests spent waiting, in milliseconds */
  requestsWaitMs: number;
  /** requests that failed: timeout, too many waiting, pool closed */
  requestsErrors: number;
  /** connections returned in a bad state (broken, closed, a statement still running) */
  returnsBad: number;
  /** returned connections `reset` failed on (each also told by a 'resetError' event), then replaced */
  resetErrors: number;
  /** connection attempts that succeeded */
  connectionsNum: number;
  /** total time spent connecting (and configuring), in milliseconds */
  connectionsMs: number;
  /** connection attempts that failed */
  connectionsErrors: number;
  /** idle connections found lost (closed, broken, or failing `check`) when taken */
  connectionsLost: number;
  /** total time connections were in use by callers, in milliseconds */
  usageMs: number;
}

/** What the pool looks like now, and its counters. */
export interface PoolStats extends PoolCounters {
  poolMin: number;
  poolMax: number;
  /** connections open or being opened, in use or not */
  poolSize: number;
  /** connections idle in the pool, ready to be handed out */
  poolAvailable: number;
  /** callers waiting for a connection now */
  requestsWaiting: number;
}

export function zeroCounters(): PoolCounters {
  return {
    requestsNum: 0,
    requestsQueued: 0,
    requestsWaitMs: 0,
    requestsErrors: 0,
    returnsBad: 0,
    resetErrors: 0,
    connectionsNum: 0,
    connectionsMs: 0,
    connectionsErrors: 0,
    connectionsLost: 0,
    usageMs: 0,
  };
}
