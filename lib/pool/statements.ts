// What the pool learns of the texts run through pool.query(): whether one may share a
// connection with others, and how long it usually keeps its connection busy. The pool keeps
// a fast statement from being pipelined behind a slow one while another connection could
// take it (pool.ts, #placeStatement()).
import { resolveQuery, type QueryText } from '../query-text';
import { hasMultipleStatements, leadingKeyword } from '../sql/lexer';

/** One text as the pool knows it. */
export interface StatementInfo {
  /** may be pipelined with the statements of other callers (see shareableText()) */
  readonly shareable: boolean;
  /**
   * the shorter of the times its last two runs kept the connection busy, in ms: a text is
   * slow once two runs in a row were, so that one outlier (a first run on a cold process, a
   * busy machine) does not make a fast text slow, nor a slow one fast; NaN before two runs
   */
  ms: number;
  /** the time of its last run, ms; NaN before the first */
  lastMs: number;
}

/** A text the pool could not read: it runs alone, where the same error reaches its caller. */
const UNREADABLE: StatementInfo = Object.freeze({ shareable: false, ms: Number.NaN, lastMs: Number.NaN });
/** texts remembered; past that the history starts over (a pool sees a few hundred texts at most) */
const MAX_TEXTS = 2000;

/**
 * Whether a pool.query() statement may be pipelined on a connection with others. Each runs
 * in autocommit with a sync of its own, so one's failure touches no other. Not a text of
 * several statements (the simple protocol runs them as one transaction), nor BEGIN or
 * START TRANSACTION, which would leave the statements pipelined after them inside its
 * transaction block.
 */
function shareableText(sqlText: string): boolean {
  if (hasMultipleStatements(sqlText)) return false;
  const keyword = leadingKeyword(sqlText);
  return keyword !== 'begin' && keyword !== 'start';
}

export class StatementHistory {
  #texts = new Map<string, StatementInfo>();

  /** What is known of `text`; a string is looked up without being read again. */
  of(text: QueryText): StatementInfo {
    let sqlText: string;
    if (typeof text === 'string') {
      sqlText = text;
    } else {
      try {
        sqlText = resolveQuery(text, undefined).text;
      } catch {
        return UNREADABLE;
      }
    }
    let info = this.#texts.get(sqlText);
    if (info === undefined) {
      if (this.#texts.size >= MAX_TEXTS) this.#texts.clear();
      info = { shareable: shareableText(sqlText), ms: Number.NaN, lastMs: Number.NaN };
      this.#texts.set(sqlText, info);
    }
    return info;
  }

  /** One run of `info`'s text kept its connection busy for `ms`. */
  record(info: StatementInfo, ms: number): void {
    if (info === UNREADABLE) return;
    // NaN (one run so far) stays NaN
    info.ms = Math.min(info.lastMs, ms);
    info.lastMs = ms;
  }
}
