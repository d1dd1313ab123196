// json and jsonb arrive as JSON text.
//
// A JS array is sent as a PostgreSQL array, and a JSON array read from a column would go
// back as one, which a json column refuses (or, empty, reads as the object {}). So the
// arrays this parser returns at the top of a value carry a mark, a non-enumerable symbol
// property that no comparison, spread or JSON.stringify sees: the adapters send a marked
// array as JSON. Arrays nested in a JSON value need no mark: they go out inside it.

/** The mark of an array read from a json or jsonb value. */
const JSON_ARRAY: unique symbol = Symbol('pqnode.jsonArray');

/** Mark an array as JSON: it is sent as JSON, not as a PostgreSQL array. Returns it. */
export function markJsonArray<T extends unknown[]>(array: T): T {
  Object.defineProperty(array, JSON_ARRAY, { value: true, enumerable: false, writable: false, configurable: true });
  return array;
}

/** Whether an array was read from a json or jsonb value (or marked as one). */
export function isJsonArray(array: readonly unknown[]): boolean {
  return (array as { [JSON_ARRAY]?: boolean })[JSON_ARRAY] === true;
}

/** json, jsonb → the parsed value; an array at its top marked as JSON */
export function parseJson(text: string): unknown {
  const value: unknown = JSON.parse(text);
  return Array.isArray(value) ? markJsonArray(value) : value;
}

/**
 * Wraps a value to send it as JSON whatever its JS type: a string would otherwise be sent
 * as the text of the value (JSON text, for a json column: '"5"' read as '5' goes back as
 * new Json('5')), and an array as a PostgreSQL array.
 */
export class Json {
  constructor(public value: unknown) {}
}
