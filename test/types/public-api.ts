// Type-level checks of the public API, compiled by test/06.public-types.test.ts (and by
// `npm run typecheck`); never run. expectTypeOf fails to compile where a type is `any`.
import { expectTypeOf } from 'vitest';
import { errors, type Connection, type Notice, type Notification, type Pool, type RowStream } from '../../lib';

export async function typedStreams(conn: Connection): Promise<void> {
  const stream = conn.stream<{ n: number }>('select 1 as n');
  expectTypeOf(stream).toEqualTypeOf<RowStream<{ n: number }>>();
  for await (const row of stream) {
    expectTypeOf(row).toEqualTypeOf<{ n: number }>();
  }
  expectTypeOf(stream.read()).toEqualTypeOf<{ n: number } | null>();
  for await (const row of conn.stream('select 1 as n')) {
    expectTypeOf(row).toEqualTypeOf<Record<string, unknown>>();
  }
}

export function typedConnectionEvents(conn: Connection): void {
  conn.on('notification', (notification) => {
    expectTypeOf(notification).toEqualTypeOf<Notification>();
    expectTypeOf(notification.payload).toEqualTypeOf<string>();
  });
  conn.once('notice', (notice) => {
    expectTypeOf(notice).toEqualTypeOf<Notice>();
    expectTypeOf(notice.message).toEqualTypeOf<string>();
  });
  const onError = (error: errors.Error) => {
    expectTypeOf(error.sqlstate).toEqualTypeOf<string | undefined>();
  };
  conn.on('error', onError);
  conn.off('error', onError);
  conn.addListener('notice', (notice) => expectTypeOf(notice).toEqualTypeOf<Notice>());
  conn.removeListener('notification', (notification) => expectTypeOf(notification).toEqualTypeOf<Notification>());
  // a listener that expects something else is refused
  // @ts-expect-error a notice is not a number
  conn.on('notice', (notice: number) => notice);
  // other event names stay open, their arguments unknown
  conn.on('some-other-event', (...args) => expectTypeOf(args).toEqualTypeOf<unknown[]>());
  expectTypeOf(conn.on('notice', () => undefined)).toEqualTypeOf<Connection>();
}

export function typedPoolEvents(pool: Pool): void {
  pool.on('resetError', (error, connection) => {
    expectTypeOf(error).toEqualTypeOf<unknown>();
    expectTypeOf(connection).toEqualTypeOf<Connection>();
  });
}

export async function typedResults(conn: Connection): Promise<void> {
  const result = await conn.query<{ id: number }>('select 1 as id');
  expectTypeOf(result.rows).toEqualTypeOf<{ id: number }[]>();
  const cursor = await conn.execute<[number]>('select 1');
  expectTypeOf(await cursor.fetchone()).toEqualTypeOf<[number] | null>();
}
