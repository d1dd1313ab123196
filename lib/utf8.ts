// Text leaves for the server as UTF-8. A JS string may hold half of a UTF-16 surrogate pair
// alone (U+D800 to U+DFFF), which has no UTF-8 form: encoders write U+FFFD in its place, and
// what the server stored would not be what was given. Such text is refused instead.
import { DataError } from './errors';

/** The text itself; a DataError saying `what` it is when it holds a lone surrogate. */
export function checkWellFormed(text: string, what: string): string {
  // one native pass, no regular expression
  if (!text.isWellFormed()) {
    throw new DataError(`${what} holds a lone surrogate (half of a UTF-16 pair, U+D800 to U+DFFF, alone), which has no UTF-8 form`);
  }
  return text;
}

/** The text as UTF-8 bytes, refused when it holds a lone surrogate. */
export function utf8Bytes(text: string, what: string): Buffer {
  return Buffer.from(checkWellFormed(text, what), 'utf8');
}
