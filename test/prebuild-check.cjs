// A prebuilt binary at work, run in a Node of its platform (this machine's, an arm64 one under
// qemu, node.exe under wine): loads pqnode from PACKAGE_ROOT (dist/ beside prebuilds/, no
// build/), then connects over TCP and SSL, queries, pipelines and cancels while Node's own
// crypto and tls work in the same process, and writes what it saw as JSON to OUT_FILE (or
// stdout). test/73.prebuild.test.ts and test/74.prebuild-platforms.test.ts hold it to account.
//
// Environment: PACKAGE_ROOT, TCP_DSN (no SSL), SSL_DSN, CERT and KEY (the server's
// certificate, for a TLS echo of Node's own), OUT_FILE (optional).
const fs = require('fs');
const crypto = require('crypto');
const tls = require('tls');
const path = require('path');

const pqnode = require(path.join(process.env.PACKAGE_ROOT, 'dist', 'index.js'));
const { native } = require(path.join(process.env.PACKAGE_ROOT, 'dist', 'native.js'));

function tlsEcho(cert, key) {
  return new Promise((resolve, reject) => {
    const server = tls.createServer({ cert, key }, (socket) => socket.pipe(socket));
    server.listen(0, '127.0.0.1', () => {
      const client = tls.connect({ port: server.address().port, host: '127.0.0.1', servername: 'localhost', ca: cert }, () => {
        client.end('hello over node tls');
      });
      let echoed = '';
      client.on('data', (data) => {
        echoed += data;
      });
      client.on('end', () => {
        server.close();
        resolve({ echoed, protocol: client.getProtocol(), authorized: client.authorized });
      });
      client.on('error', reject);
    });
  });
}

function write(text) {
  // under wine, Node's writes to a pipe fail: the caller may ask for a file instead
  if (process.env.OUT_FILE) fs.writeFileSync(process.env.OUT_FILE, text);
  else process.stdout.write(text);
}

(async () => {
  const out = { platform: `${process.platform}-${process.arch}`, node: process.versions.node };
  // the native modules in the process, as Node's own report lists them (every platform),
  // and the C library it runs on (Linux)
  const report = process.report.getReport();
  out.binaries = report.sharedObjects.filter((file) => file.endsWith('.node'));
  out.glibc = report.header.glibcVersionRuntime;
  out.libpqVersion = native().libpqVersion();
  out.features = Object.fromEntries(
    ['pipeline', 'chunkedRows', 'cancelCreate', 'sendPipelineSync', 'closePrepared'].map((name) => [name, native().hasFeature(name)]),
  );

  // autocommit: after a failed batch the next one starts afresh (no transaction to roll back)
  const tcp = await pqnode.connect(process.env.TCP_DSN, { autocommit: true });
  out.tcp = { ssl: tcp.info.ssl, rows: (await tcp.query('select 40 + 2 as answer')).rows };
  // an explicit pipeline: two batches, the first failing part-way
  out.pipeline = await tcp.pipeline(async (p) => {
    const first = p.query('select 1 as one');
    const failing = p.query('select 1 / 0').then(
      () => 'none',
      (error) => error.constructor.name,
    );
    const skipped = p.query('select 2').then(
      () => 'none',
      (error) => error.constructor.name,
    );
    await p.sync();
    const after = await p.query('select $1::text as echoed', ['after the sync']);
    return { first: (await first).rows, failing: await failing, skipped: await skipped, after: after.rows };
  });
  // many statements at once on one connection
  out.concurrent = (await Promise.all(Array.from({ length: 50 }, (_, i) => tcp.query('select $1::int as i', [i])))).map(
    (result) => result.rows[0].i,
  );
  await tcp.close();

  const cert = fs.readFileSync(process.env.CERT);
  const key = fs.readFileSync(process.env.KEY);
  const ssl = await pqnode.connect(process.env.SSL_DSN);
  const second = await pqnode.connect(process.env.SSL_DSN);
  // both OpenSSLs at work at once: queries over libpq's SSL while Node hashes and shakes hands
  const [queries, echo, digest] = await Promise.all([
    Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? ssl : second).query('select $1::int * 2 as doubled, repeat($2, 1000) as filler', [i, 'x'])),
    ),
    tlsEcho(cert, key),
    Promise.resolve(crypto.createHash('sha256').update('pqnode').digest('hex')),
  ]);
  out.sslQueries = queries.map((result) => result.rows[0].doubled);
  out.echo = echo;
  out.digest = digest;
  out.hmac = crypto.createHmac('sha256', 'k').update('v').digest('hex');
  out.ssl = ssl.info.ssl;
  out.pgStatSsl = (await ssl.query('select ssl, version from pg_stat_ssl where pid = pg_backend_pid()')).rows[0];
  // cancel goes over a connection of its own, which libpq 18 also encrypts;
  // the outcome is taken at once: the query may fail before cancel() returns
  const slow = ssl.query('select pg_sleep(30)').then(
    () => 'finished',
    (error) => error.constructor.name,
  );
  await new Promise((resolve) => setTimeout(resolve, 500));
  await ssl.cancel();
  out.cancelled = await slow;
  // the cancelled statement aborted the transaction it ran in; after a rollback all is well
  await ssl.rollback();
  out.afterCancel = (await ssl.query('select 7 as seven')).rows;
  await ssl.close();
  await second.close();
  write(JSON.stringify(out));
})().catch((error) => {
  const message = String((error && error.stack) || error);
  if (process.env.OUT_FILE) fs.writeFileSync(process.env.OUT_FILE, JSON.stringify({ error: message }));
  process.stderr.write(message);
  process.exit(1);
});
