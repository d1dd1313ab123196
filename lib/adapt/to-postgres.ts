// The library's own value classes (Interval, Range, Composite, ...) know their PostgreSQL
// text. They implement this method, keyed by a symbol so that it never collides with a
// user's property; the adapters call it with a function that adapts the values they hold.
//
// node-postgres has a protocol of its own, by name: an object with a toPostgres(prepareValue)
// method is sent as what the method returns. It is honoured too (ToPostgresMethod), so that
// value classes written for node-postgres go out the same here.

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

/** What a toPostgres method is given: a value in, its text out (null for NULL). */
export type PrepareValue = (value: unknown) => string | null;

/** node-postgres's protocol: the object goes out as what its toPostgres returns. */
export interface ToPostgresMethod {
  toPostgres(prepareValue: PrepareValue): unknown;
}

export function hasToPostgresMethod(value: object): value is ToPostgresMethod {
  return typeof (value as Partial<ToPostgresMethod>).toPostgres === 'function';
}
