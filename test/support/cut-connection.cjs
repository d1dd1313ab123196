// Cuts a TCP connection as a network path that dies does: a reset (RST), not an orderly close.
// Shared by the test proxies (test/fault-helpers.ts, test/support/stalling-proxy.cjs), which
// run in plain `node` as well as under vitest.
'use strict';

/**
 * Resets `socket`, unless its own end is still on its way out (socket.end() was called, by
 * the proxy or by Node answering the peer's end, and the shutdown has not completed): then it
 * is destroyed, the peer having ended or been ended anyway. libuv refuses to reset a socket
 * whose shutdown is in flight, and Node then leaves the handle open for good: the socket
 * never emits 'close', the server holding it never closes, and the process, its loop empty,
 * spins for ever in the cleanup that precedes its exit.
 * @param {import('node:net').Socket} socket
 */
function cutConnection(socket) {
  if (socket.writableEnded && !socket.writableFinished) socket.destroy();
  else socket.resetAndDestroy();
}

module.exports = { cutConnection };
