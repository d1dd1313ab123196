// What the pool, fault and fuzz suites share: waiting for conditions, and a TCP proxy that
// can drop or stall the connections it carries.
import net, { type AddressInfo } from 'node:net';
import type { Connection } from '../lib';
import { cutConnection } from './support/cut-connection.cjs';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns true or `timeoutMs` passes; returns the last verdict. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 3000, stepMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(stepMs);
  }
}

export interface Outcome<T = unknown> {
  resolved: boolean;
  value?: T;
  error?: unknown;
  /** Date.now() when the promise settled */
  at: number;
}

/** Watches `promise` from now on (so an early rejection is never unhandled) and records how it settled. */
export function outcome<T>(promise: Promise<T>): Promise<Outcome<T>> {
  return promise.then(
    (value) => ({ resolved: true, value, at: Date.now() }),
    (error: unknown) => ({ resolved: false, error, at: Date.now() }),
  );
}

/** The rejection of `promise`; fails the test when it resolves. */
export async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  const settled = await outcome(promise);
  if (settled.resolved) throw new Error('expected a rejection, the promise resolved');
  return settled.error;
}

/** Waits until the backend `pid` runs a statement containing `fragment`. */
export async function waitUntilRunning(admin: Connection, pid: number, fragment: string): Promise<void> {
  const seen = await until(async () => {
    const result = await admin.query<{ n: number }>(
      "select count(*)::int as n from pg_stat_activity where pid = $1 and state = 'active' and position($2 in query) > 0",
      [pid, fragment],
    );
    return result.rows[0].n === 1;
  }, 5000);
  if (!seen) throw new Error(`backend ${pid} never ran ${fragment}`);
}

/** Terminates backend `pid` and waits until it is gone from pg_stat_activity. */
export async function terminate(admin: Connection, pid: number): Promise<void> {
  await admin.query('select pg_terminate_backend($1)', [pid]);
  await until(async () => {
    const result = await admin.query<{ n: number }>('select count(*)::int as n from pg_stat_activity where pid = $1', [pid]);
    return result.rows[0].n === 0;
  }, 5000);
}

/** A port on 127.0.0.1 with nothing listening on it. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A TCP proxy on 127.0.0.1 in front of a server: `drop()` cuts every connection it carries
 * (a reset, as when a network path dies), `stall()` stops forwarding bytes without closing
 * anything (a black hole: new connections are accepted and reach nothing), `refuse` makes it
 * close new connections at once.
 */
export class TcpProxy {
  readonly #server: net.Server;
  /** `upstream` is missing for a connection accepted while stalled */
  readonly #pairs = new Set<{ client: net.Socket; upstream?: net.Socket }>();
  #stalled = false;
  #unreferenced = false;
  refuse = false;
  port = 0;

  private constructor(
    readonly targetHost: string,
    readonly targetPort: number,
  ) {
    this.#server = net.createServer((client) => this.#accept(client));
  }

  static async start(targetHost: string, targetPort: number, port = 0): Promise<TcpProxy> {
    const proxy = new TcpProxy(targetHost, targetPort);
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once('error', reject);
      proxy.#server.listen(port, '127.0.0.1', () => resolve());
    });
    proxy.port = (proxy.#server.address() as AddressInfo).port;
    return proxy;
  }

  get connections(): number {
    return this.#pairs.size;
  }

  #accept(client: net.Socket): void {
    client.on('error', () => undefined);
    if (this.refuse) {
      client.destroy();
      return;
    }
    if (this.#unreferenced) client.unref();
    if (this.#stalled) {
      // a black hole: what is sent is swallowed, nothing answers, nothing closes
      const pair = { client };
      this.#pairs.add(pair);
      client.on('close', () => this.#pairs.delete(pair));
      client.resume();
      return;
    }
    const upstream = net.connect(this.targetPort, this.targetHost);
    upstream.on('error', () => undefined);
    if (this.#unreferenced) upstream.unref();
    const pair = { client, upstream };
    this.#pairs.add(pair);
    const forget = () => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', forget);
    upstream.on('close', forget);
    client.on('data', (chunk) => {
      if (!this.#stalled) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!this.#stalled) client.write(chunk);
    });
  }

  /** Reset every connection carried now. */
  drop(): void {
    for (const { client, upstream } of [...this.#pairs]) {
      cutConnection(client);
      upstream?.destroy();
    }
  }

  /** Swallow every byte from now on, both ways, closing nothing. */
  stall(): void {
    this.#stalled = true;
  }

  /** Keeps the process alive no more: it may exit while the proxy listens and carries connections. */
  unref(): void {
    this.#unreferenced = true;
    this.#server.unref();
    for (const { client, upstream } of this.#pairs) {
      client.unref();
      upstream?.unref();
    }
  }

  /** Forward bytes again (connections that lost bytes meanwhile are of no use; new ones are). */
  resume(): void {
    this.#stalled = false;
  }

  async close(): Promise<void> {
    this.drop();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
