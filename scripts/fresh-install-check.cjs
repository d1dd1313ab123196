// Run by scripts/verify-fresh-install.sh inside a project that installed the packed pqnode
// (on this machine with compilers hidden, and in a minimal Debian): loads pqnode the way a
// user does, and checks it over TCP and over SSL with Node's own tls and crypto busy in the
// same process. Prints one PASS or FAIL line per check; exits 1 when any failed.
//
// Environment: TCP_DSN, SSL_DSN (conninfo of a server that accepts SSL), CERT and KEY (the
// PEM files that server uses, reused by a local Node TLS server), LABEL (prefix of lines).
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const tls = require('node:tls');

const label = process.env.LABEL || 'fresh install';
let failures = 0;

function report(ok, what) {
  if (!ok) failures += 1;
  process.stdout.write(`${ok ? 'PASS' : 'FAIL'} ${label}: ${what}\n`);
}

function tlsEcho(cert, key) {
  return new Promise((resolve, reject) => {
    const server = tls.createServer({ cert, key }, (socket) => socket.pipe(socket));
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      const client = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: cert }, () => client.end('echo'));
      let echoed = '';
      client.on('data', (data) => {
        echoed += data;
      });
      client.on('end', () => {
        server.close();
        resolve({ echoed, protocol: client.getProtocol() });
      });
      client.on('error', reject);
    });
  });
}

async function main() {
  let pqnode;
  try {
    pqnode = require('pqnode');
  } catch (error) {
    report(false, `require('pqnode') threw: ${error.message}`);
    return;
  }
  const binaries = Object.keys(require.cache).filter((file) => file.endsWith('.node'));
  const prebuilt = binaries.length === 1 && binaries[0].includes(`${path.sep}prebuilds${path.sep}`);
  report(prebuilt, `require('pqnode') loaded ${binaries.join(', ') || 'no binary'}`);
  const built = path.join(path.dirname(require.resolve('pqnode/package.json')), 'build');
  report(!fs.existsSync(built), 'nothing was compiled at install (no build/ folder)');

  const tcp = await pqnode.connect(process.env.TCP_DSN);
  report(tcp.info.libpqVersion >= 180000, `libpq ${tcp.info.libpqVersion} linked in`);
  const { rows } = await tcp.query("select 6 * 7 as answer, 'héllo'::text as greeting, version() as server");
  report(rows[0].answer === 42 && rows[0].greeting === 'héllo' && tcp.info.ssl === false, `query over TCP without SSL (${rows[0].server.split(' on ')[0]})`);
  await tcp.close();

  const key = process.env.KEY ? fs.readFileSync(process.env.KEY) : null;
  const cert = fs.readFileSync(process.env.CERT);
  const ssl = await pqnode.connect(process.env.SSL_DSN);
  const [results, echo] = await Promise.all([
    Promise.all(Array.from({ length: 10 }, (_, i) => ssl.query('select $1::int + 1 as next', [i]))),
    key ? tlsEcho(cert, key) : Promise.resolve(null),
  ]);
  const digest = crypto.createHash('sha256').update('pqnode').digest('hex');
  const stat = (await ssl.query('select ssl, version from pg_stat_ssl where pid = pg_backend_pid()')).rows[0];
  report(ssl.info.ssl === true && stat.ssl === true, `connection over SSL (${stat.version})`);
  report(results.every((result, i) => result.rows[0].next === i + 1), '10 pipelined queries over SSL');
  report(digest.length === 64 && (echo === null || echo.echoed === 'echo'), `Node's crypto and tls in the same process${echo ? ` (${echo.protocol} handshake)` : ''}`);
  // the outcome is taken at once: the query may fail before cancel() returns
  const slow = ssl.query('select pg_sleep(30)').then(
    () => 'finished',
    (error) => error.constructor.name,
  );
  await new Promise((resolve) => setTimeout(resolve, 200));
  await ssl.cancel();
  const outcome = await slow;
  report(outcome === 'QueryCanceled', `cancel over SSL (${outcome})`);
  await ssl.close();
}

main().then(
  () => process.exit(failures === 0 ? 0 : 1),
  (error) => {
    report(false, `unexpected error: ${error && error.stack ? error.stack : error}`);
    process.exit(1);
  },
);
