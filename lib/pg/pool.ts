// pg-pool's Pool over this module's Client: connect() hands out a client (a new one while
// under `max`, else an idle one, else the next to be released), release() gives it back
// (an error, or true, destroys it instead), query() runs one statement on a pooled client.
// Idle clients that fail are removed and reported through the pool's 'error' event.
import { EventEmitter } from 'node:events';

import { Client } from './client';
import type { ClientConfig } from './config';
import type { QueryCallback, QueryConfig } from './query';
import type { Result } from './result';

export interface PoolConfig extends ClientConfig {
  max?: number;
  min?: number;
  idleTimeoutMillis?: number;
  connectionTimeoutMillis?: number;
  maxUses?: number;
  maxLifetimeSeconds?: number;
  allowExitOnIdle?: boolean;
  log?: (...messages: unknown[]) => void;
  Client?: new (config?: ClientConfig) => Client;
  /** runs on each new client before it is handed out; a rejection fails the connect() */
  onConnect?: (client: PoolClient) => unknown;
  /** node-postgres's hook: call back with an error to refuse a new client */
  verify?: (client: PoolClient, done: (error?: Error) => void) => void;
  /** deprecated name of `max` */
  poolSize?: number;
}

export type PoolClient = Client & { release: (error?: Error | boolean) => void };

type ConnectCallback = (error: Error | undefined, client: PoolClient | undefined, release: (error?: Error | boolean) => void) => void;

interface Idle {
  client: Client;
  timer: NodeJS.Timeout | undefined;
}

/** A client of the pool, and what the pool keeps of it. */
interface Member {
  readonly client: Client;
  /** reports an error of the client while idle ('error' on the pool) */
  readonly idleListener: (error: Error) => void;
  /** times it was released */
  uses: number;
  /** its maxLifetimeSeconds ran out: it is ended when next released */
  expired: boolean;
}

interface Waiter {
  callback: ConnectCallback;
  timedOut: boolean;
}

const NOOP = () => undefined;

function promised<T>(PromiseClass: PromiseConstructor, callback?: (error: Error | undefined, value: T) => void): { callback: (error: Error | undefined, value: T) => void; promise: Promise<T> | undefined } {
  if (callback !== undefined) return { callback, promise: undefined };
  let settle!: (error: Error | undefined, value: T) => void;
  const promise = new PromiseClass<T>((resolve, reject) => {
    settle = (error, value) => (error ? reject(error) : resolve(value));
  });
  return { callback: settle, promise };
}

export class Pool extends EventEmitter {
  readonly options: PoolConfig & { max: number; min: number; maxUses: number; idleTimeoutMillis: number; maxLifetimeSeconds: number; allowExitOnIdle: boolean };
  readonly Client: new (config?: ClientConfig) => Client;
  readonly Promise: PromiseConstructor;
  ending = false;
  ended = false;

  readonly #log: (...messages: unknown[]) => void;
  #clients: Client[] = [];
  #idle: Idle[] = [];
  #waiting: Waiter[] = [];
  /** what the pool keeps of each of its clients */
  #members = new WeakMap<Client, Member>();
  #endCallback: ((error: Error | undefined, value: void) => void) | undefined;

  constructor(options?: PoolConfig, ClientClass?: new (config?: ClientConfig) => Client) {
    super();
    const given = { ...(options ?? {}) };
    this.options = {
      ...given,
      max: given.max || given.poolSize || 10,
      min: given.min || 0,
      maxUses: given.maxUses || Infinity,
      allowExitOnIdle: given.allowExitOnIdle || false,
      maxLifetimeSeconds: given.maxLifetimeSeconds || 0,
      idleTimeoutMillis: given.idleTimeoutMillis === undefined ? 10000 : given.idleTimeoutMillis,
    };
    if (options !== undefined && 'password' in options) {
      // out of sight of console.log and inspectors
      Object.defineProperty(this.options, 'password', { configurable: true, enumerable: false, writable: true, value: options.password });
    }
    this.#log = given.log ?? NOOP;
    this.Client = given.Client ?? ClientClass ?? Client;
    this.Promise = given.Promise ?? Promise;
  }

  get totalCount(): number {
    return this.#clients.length;
  }

  get idleCount(): number {
    return this.#idle.length;
  }

  get waitingCount(): number {
    return this.#waiting.length;
  }

  get expiredCount(): number {
    return this.#clients.filter((client) => this.#members.get(client)?.expired === true).length;
  }

  #isFull(): boolean {
    return this.#clients.length >= this.options.max;
  }

  #isAboveMin(): boolean {
    return this.#clients.length > this.options.min;
  }

  connect(): Promise<PoolClient>;
  connect(callback: ConnectCallback): void;
  connect(callback?: ConnectCallback): Promise<PoolClient> | void {
    if (this.ending) {
      const error = new Error('Cannot use a pool after calling end on the pool');
      if (callback !== undefined) {
        callback(error, undefined, NOOP);
        return;
      }
      return this.Promise.reject(error);
    }
    const response = promised<PoolClient | undefined>(this.Promise, callback as ((error: Error | undefined, value: PoolClient | undefined) => void) | undefined);
    const waiter: Waiter = { callback: response.callback as ConnectCallback, timedOut: false };
    if (this.#isFull() || this.#idle.length > 0) {
      if (this.#idle.length > 0) process.nextTick(() => this.#pulse());
      const timeout = this.options.connectionTimeoutMillis;
      if (timeout) {
        const original = waiter.callback;
        const timer = setTimeout(() => {
          const index = this.#waiting.indexOf(waiter);
          if (index !== -1) this.#waiting.splice(index, 1);
          waiter.timedOut = true;
          original(new Error('timeout exceeded when trying to connect'), undefined, NOOP);
        }, timeout);
        timer.unref();
        waiter.callback = (error, client, release) => {
          clearTimeout(timer);
          original(error, client, release);
        };
      }
      this.#waiting.push(waiter);
    } else {
      this.#newClient(waiter);
    }
    return response.promise as Promise<PoolClient> | undefined;
  }

  /** Hand the next waiter a client: an idle one, or a new one while there is room. */
  #pulse(): void {
    if (this.ended) return;
    if (this.ending) {
      for (const idle of [...this.#idle]) this.#remove(idle.client);
      if (this.#clients.length === 0) {
        this.ended = true;
        this.#endCallback?.(undefined, undefined);
      }
      return;
    }
    if (this.#waiting.length === 0) return;
    if (this.#idle.length === 0 && this.#isFull()) return;
    const waiter = this.#waiting.shift() as Waiter;
    const idle = this.#idle.pop();
    if (idle !== undefined) {
      if (idle.timer !== undefined) clearTimeout(idle.timer);
      this.#acquire(idle.client, waiter, false);
      return;
    }
    this.#newClient(waiter);
  }

  #newClient(waiter: Waiter): void {
    const client = new this.Client(this.options);
    this.#clients.push(client);
    const idleListener = (error: Error) => this.#onIdleError(client, error);
    this.#members.set(client, { client, idleListener, uses: 0, expired: false });
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    if (this.options.connectionTimeoutMillis) {
      timer = setTimeout(() => {
        timedOut = true;
        client.end().catch(NOOP);
      }, this.options.connectionTimeoutMillis);
    }
    this.#log('connecting new client');
    client.connect((error) => {
      if (timer !== undefined) clearTimeout(timer);
      client.on('error', idleListener);
      if (error) {
        this.#log('client failed to connect', error);
        this.#clients = this.#clients.filter((c) => c !== client);
        const reported = timedOut ? new Error('Connection terminated due to connection timeout', { cause: error }) : error;
        this.#pulse();
        if (!waiter.timedOut) waiter.callback(reported, undefined, NOOP);
        return;
      }
      const hook = this.options.onConnect;
      if (hook !== undefined) {
        new this.Promise<unknown>((resolve) => resolve(hook(client as PoolClient))).then(
          () => this.#afterConnect(client, waiter),
          (hookError: Error) => {
            this.#clients = this.#clients.filter((c) => c !== client);
            client.end(() => {
              this.#pulse();
              if (!waiter.timedOut) waiter.callback(hookError, undefined, NOOP);
            });
          },
        );
        return;
      }
      this.#afterConnect(client, waiter);
    });
  }

  #afterConnect(client: Client, waiter: Waiter): void {
    if (this.options.maxLifetimeSeconds !== 0) {
      const lifetime = setTimeout(() => {
        this.#log('ending client due to expired lifetime');
        const member = this.#members.get(client);
        if (member !== undefined) member.expired = true;
        const index = this.#idle.findIndex((idle) => idle.client === client);
        if (index !== -1) this.#acquire(client, { callback: (_error, _client, release) => release(), timedOut: false }, false);
      }, this.options.maxLifetimeSeconds * 1000);
      lifetime.unref();
      client.once('end', () => clearTimeout(lifetime));
    }
    this.#acquire(client, waiter, true);
  }

  #acquire(client: Client, waiter: Waiter, isNew: boolean): void {
    if (isNew) this.emit('connect', client);
    this.emit('acquire', client);
    const index = this.#idle.length === 0 ? -1 : this.#idle.findIndex((idle) => idle.client === client);
    if (index !== -1) {
      const [idle] = this.#idle.splice(index, 1);
      if (idle.timer !== undefined) clearTimeout(idle.timer);
    }
    const member = this.#members.get(client);
    let released = false;
    const release = (error?: Error | boolean) => {
      if (released) throw new Error('Release called on client which has already been released to the pool.');
      released = true;
      this.#release(client, member, error);
    };
    client.release = release;
    if (member !== undefined) client.removeListener('error', member.idleListener);
    const pooled = client as PoolClient;
    if (waiter.timedOut) {
      if (isNew && this.options.verify) this.options.verify(pooled, release);
      else release();
      return;
    }
    if (isNew && this.options.verify) {
      this.options.verify(pooled, (error) => {
        if (error) {
          release(error);
          waiter.callback(error, undefined, NOOP);
          return;
        }
        waiter.callback(undefined, pooled, release);
      });
      return;
    }
    waiter.callback(undefined, pooled, release);
  }

  #release(client: Client, member: Member | undefined, error: Error | boolean | undefined): void {
    if (member !== undefined) client.on('error', member.idleListener);
    const uses = member !== undefined ? ++member.uses : 1;
    this.emit('release', error, client);
    if (error || this.ending || !client._queryable || client._ending || uses >= this.options.maxUses) {
      this.#remove(client, () => this.#pulse());
      return;
    }
    if (member?.expired === true) {
      member.expired = false;
      this.#remove(client, () => this.#pulse());
      return;
    }
    if (this.options.allowExitOnIdle) client.unref();
    // Someone is waiting: the client goes to them at once. Pushed idle, then pulsed, it would
    // go to the same waiter (the first) all the same, having armed an idle timer to clear.
    const waiter = this.#waiting.shift();
    if (waiter !== undefined) {
      this.#acquire(client, waiter, false);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    if (this.options.idleTimeoutMillis && this.#isAboveMin()) {
      timer = setTimeout(() => {
        if (this.#isAboveMin()) {
          this.#log('remove idle client');
          this.#remove(client, () => this.#pulse());
        }
      }, this.options.idleTimeoutMillis);
      if (this.options.allowExitOnIdle) timer.unref();
    }
    this.#idle.push({ client, timer });
    this.#pulse();
  }

  #onIdleError(client: Client, error: Error): void {
    (error as Error & { client?: Client }).client = client;
    const member = this.#members.get(client);
    if (member !== undefined) client.removeListener('error', member.idleListener);
    client.on('error', (later: Error) => this.#log('additional client error after disconnection due to error', later));
    this.#remove(client);
    this.emit('error', error, client);
  }

  #remove(client: Client, then?: () => void): void {
    const index = this.#idle.findIndex((idle) => idle.client === client);
    if (index !== -1) {
      const [idle] = this.#idle.splice(index, 1);
      if (idle.timer !== undefined) clearTimeout(idle.timer);
    }
    this.#clients = this.#clients.filter((c) => c !== client);
    client.end(() => {
      this.emit('remove', client);
      then?.();
    });
  }

  query<R = Record<string, unknown>>(config: string | QueryConfig, values?: readonly unknown[]): Promise<Result<R>>;
  query<R = Record<string, unknown>>(config: string | QueryConfig, callback: QueryCallback<Result<R>>): void;
  query<R = Record<string, unknown>>(config: string | QueryConfig, values: readonly unknown[] | undefined, callback: QueryCallback<Result<R>>): void;
  query(config: unknown, values?: unknown, callback?: unknown): Promise<unknown> | void {
    if (typeof config === 'function') {
      const response = promised<unknown>(this.Promise, config as (error: Error | undefined, value: unknown) => void);
      setImmediate(() => response.callback(new Error('Passing a function as the first parameter to pool.query is not supported'), undefined));
      return response.promise;
    }
    let cb = callback as QueryCallback | undefined;
    let params = values;
    if (typeof values === 'function') {
      cb = values as QueryCallback;
      params = undefined;
    }
    const response = promised<unknown>(this.Promise, cb as ((error: Error | undefined, value: unknown) => void) | undefined);
    this.connect((error, client) => {
      if (error || client === undefined) {
        response.callback(error, undefined);
        return;
      }
      let released = false;
      // as pg-pool's once('error'), without the wrapper once() makes for every query
      const onError = (clientError: Error) => {
        client.removeListener('error', onError);
        if (released) return;
        released = true;
        client.release(clientError);
        response.callback(clientError, undefined);
      };
      client.on('error', onError);
      try {
        client.query(config as string | QueryConfig, params as unknown[] | undefined, (queryError: Error | null, result: unknown) => {
          client.removeListener('error', onError);
          if (released) return;
          released = true;
          // as pg-pool: a client whose query failed is not trusted again
          client.release(queryError ?? undefined);
          response.callback(queryError ?? undefined, result);
        });
      } catch (thrown) {
        client.release(thrown as Error);
        response.callback(thrown as Error, undefined);
      }
    });
    return response.promise;
  }

  end(): Promise<void>;
  end(callback: (error?: Error) => void): void;
  end(callback?: (error?: Error) => void): Promise<void> | void {
    if (this.ending) {
      const error = new Error('Called end on pool more than once');
      if (callback !== undefined) {
        callback(error);
        return;
      }
      return this.Promise.reject(error);
    }
    this.ending = true;
    const response = promised<void>(this.Promise, callback as ((error: Error | undefined, value: void) => void) | undefined);
    this.#endCallback = response.callback;
    this.#pulse();
    return response.promise;
  }
}
