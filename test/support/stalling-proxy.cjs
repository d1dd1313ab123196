// A TCP proxy in front of a server that stall() turns into a black hole: the network going
// silent under a connection. Shared by test/worker-exit.child.cjs and scripts/native-smoke.mjs,
// which run in plain `node`.
'use strict';

const net = require('node:net');
const { cutConnection } = require('./cut-connection.cjs');

/**
 * A proxy to the server of `dsn`. After stall(), bytes are swallowed both ways, new
 * connections are accepted and reach nothing, and nothing is closed until close() resets
 * them all (the network coming back, for a request blocked on it).
 * @param {string} dsn a postgresql:// URI
 * @returns {Promise<{ dsn: string, stall(): void, close(): void }>} `dsn`: the same one through the proxy
 */
function stallingProxy(dsn) {
  const target = new URL(dsn);
  const sockets = new Set();
  let stalled = false;
  const track = (socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  };
  const server = net.createServer((client) => {
    track(client);
    if (stalled) {
      client.resume();
      return;
    }
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    track(upstream);
    client.on('data', (chunk) => stalled || upstream.write(chunk));
    upstream.on('data', (chunk) => stalled || client.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const url = new URL(dsn);
      url.hostname = '127.0.0.1';
      url.port = String(server.address().port);
      resolve({
        dsn: url.toString(),
        stall() {
          stalled = true;
        },
        close() {
          for (const socket of sockets) cutConnection(socket);
          server.close();
        },
      });
    });
  });
}

module.exports = { stallingProxy };
