// What a statement's result looks like to the user, and the command name of a tag.
import type { Field } from '../rows';
import { isDigit } from '../sql/lexer';

/** The result of one statement. */
export class Result<R = Record<string, unknown>> {
  constructor(
    readonly rows: R[],
    /** frozen, and shared by the results of a statement that describes the same columns */
    readonly fields: readonly Field[],
    /** rows affected or returned; null for commands that report none (DDL, SET, ...) */
    readonly rowCount: number | null,
    /** the command tag without its counts, e.g. 'INSERT', 'CREATE TABLE' */
    readonly command: string,
    /** the command tag as the server sent it, e.g. 'INSERT 0 1' */
    readonly statusMessage: string,
  ) {}
}

/** the last tag commandName() was given, and its name: most statements repeat their tag */
let lastCommandTag = '';
let lastCommandName = '';

/** The tag without its trailing counts: 'INSERT 0 1' → 'INSERT', 'CREATE TABLE' → 'CREATE TABLE', 'SELECT 3' → 'SELECT' */
export function commandName(tag: string): string {
  if (tag === lastCommandTag) return lastCommandName;
  const name = commandNameOf(tag);
  lastCommandTag = tag;
  lastCommandName = name;
  return name;
}

function commandNameOf(tag: string): string {
  let end = tag.length;
  for (;;) {
    let start = end;
    while (start > 0 && isDigit(tag.charCodeAt(start - 1))) start--;
    if (start === end) break; // the last word is not a count
    if (start === 0) {
      end = 0;
      break;
    }
    if (tag.charCodeAt(start - 1) !== 32) break; // digits ending a word, not a word of digits
    end = start - 1;
  }
  return end === tag.length ? tag : tag.slice(0, end);
}

