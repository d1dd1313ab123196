// json and jsonb arrive as JSON text.

/** json, jsonb → the parsed value */
export function parseJson(text: string): unknown {
  return JSON.parse(text);
}

/**
 * Wraps a value to send it as json whatever its JS type: a string, a number or an array
 * would otherwise be sent as text, a number or a PostgreSQL array.
 */
export class Json {
  constructor(public value: unknown) {}
}
