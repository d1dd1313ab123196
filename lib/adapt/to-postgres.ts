// The library's own value classes (Interval, Range, Composite, ...) know their PostgreSQL
// text. They implement this method, keyed by a symbol so that it never collides with a
// user's property; the adapters call it with a function that adapts the values they hold.

export const TO_POSTGRES: unique symbol = Symbol('pqnode.toPostgres');

export interface PostgresText {
  /** the value's input text */
  text: string;
  /** the OID to declare, 0 to let the server infer it */
  oid: number;
}

/** Adapts a value held inside another (a range bound, a composite field); null for NULL. */
export type AdaptInner = (value: unknown) => PostgresText | null;

export interface ToPostgres {
  [TO_POSTGRES](adaptInner: AdaptInner): PostgresText;
}

export function isToPostgres(value: object): value is ToPostgres {
  return typeof (value as Partial<ToPostgres>)[TO_POSTGRES] === 'function';
}
