// Errors are made where the results arrive (a libpq callback, a timer), far from the call
// that led to them: their own stacks show no line of the caller's. Public methods give them
// the caller's stack as they rethrow them, in one of two ways:
//
// - withCallerStack(error) re-captures the stack where the awaiting method resumes, so that
//   V8's async stack traces reach the caller's line. That needs the call to be awaited.
// - callSite(), taken as the method is called, holds the caller's stack however the call is
//   used: a forgotten await (an unhandled rejection) still says where the call was made.
//   Taking a stack costs a microsecond or more, so the methods on the hot path (query,
//   execute, fetching rows, writing COPY data) do not; the others do.
import * as errors from './errors';

/** The stack of a call, taken as it began (see callSite()). */
export interface CallSite {
  readonly stack?: string;
}

/**
 * How an error's stack was set: by a call site, or by re-capturing it. The innermost public
 * method sets it; the outer ones it passes through keep it (a call site wins over a
 * re-captured stack, which may have found no caller).
 */
const located = new WeakMap<object, 'site' | 'await'>();

/** The caller's stack, taken now; call it first thing in a public method. */
export function callSite(): CallSite {
  const site: { stack?: string } = {};
  if (typeof Error.captureStackTrace === 'function') Error.captureStackTrace(site, callSite);
  return site;
}

/** The error, with the caller's stack when it is one of pqnode's; other values are left as they are. */
export function withCallerStack(error: unknown, site?: CallSite): unknown {
  if (!(error instanceof errors.Error)) return error;
  const how = located.get(error);
  if (site !== undefined) {
    if (how === 'site') return error;
    const stack = site.stack;
    const framesAt = stack === undefined ? -1 : stack.indexOf('\n');
    if (stack === undefined || framesAt < 0) return error;
    // the header as V8 writes it ("Name: message"), then the frames of the call
    error.stack = `${Error.prototype.toString.call(error)}${stack.slice(framesAt)}`;
    located.set(error, 'site');
    return error;
  }
  if (how !== undefined || typeof Error.captureStackTrace !== 'function') return error;
  Error.captureStackTrace(error, withCallerStack);
  located.set(error, 'await');
  return error;
}
