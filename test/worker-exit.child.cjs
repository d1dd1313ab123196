// A process whose workers open pqnode connections and end in the middle of something:
// worker.terminate() or process.exit() while idle, during a query, while bytea rows are
// decoded, during a COPY, a connect or a cancel (one the server answers, or one stuck on a
// network that stopped answering), or after a connection was garbage-collected while open.
// It must outlive them all. Run by test/47.worker-threads.test.ts, one scenario per
// process, so that a crash (a signal, a fatal error) fails that test and nothing else:
//
//   node --expose-gc test/worker-exit.child.cjs '{"dist": ".../dist", "dsn": "...", "scenario": "query",
//     "ending": "terminate", "mainLoads": false, "sequential": 6, "parallel": 3}'
//
// Its last line of output is {"done": true, "codes": [...], "pids": [...], "errors": [...],
// "libpq": [...], "slowestEndMs": n}: each worker's exit code, the backends the workers had,
// what went wrong on the way, the libpq versions the workers ran with, and the longest a
// worker took to end once it was in the scenario's state.
'use strict';
const net = require('node:net');
const path = require('node:path');
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
const { stallingProxy } = require('./support/stalling-proxy.cjs');

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------
// the worker: gets into the scenario's state, says so, and then is ended

async function inWorker() {
  const { connect } = require(path.join(workerData.dist, 'index.js'));
  const { native } = require(path.join(workerData.dist, 'native.js'));
  const { scenario, ending } = workerData;
  let told = false;
  // `pids`: the backends of the worker's connections
  const ready = (...pids) => {
    if (told) return;
    told = true;
    parentPort.postMessage({ ready: true, pids, libpq: native().libpqVersion() });
    if (ending === 'exit') process.exit(0);
  };
  // errors of the work left running are expected: the worker ends under it
  const ignore = () => undefined;

  if (scenario === 'connect') {
    // a server that accepts and never answers: PQconnectPoll is still waiting when the worker ends
    connect(`postgresql://postgres@127.0.0.1:${workerData.silentPort}/postgres`).catch(ignore);
    await sleep(30);
    ready();
    return;
  }
  // a stuck cancel's connection goes through a proxy of its own that the main thread stalls
  const conn = await connect(scenario === 'stuck-cancel' ? workerData.proxiedDsn : workerData.dsn, { autocommit: true });
  const pid = conn.info.backendPid;
  switch (scenario) {
    case 'idle':
      await conn.query('select 1');
      ready(pid);
      break;
    case 'query':
      conn.query('select pg_sleep(5)').catch(ignore);
      await sleep(20);
      ready(pid);
      break;
    case 'copy-from': {
      await conn.query('create temp table sink (n int)');
      let sent = 0;
      // a source that never ends, yielding to the loop now and then so that the worker can be ended
      async function* forever() {
        for (let i = 0; ; i++) {
          yield `${i}\n`;
          sent++;
          if (i % 200 === 0) await new Promise((resolve) => setImmediate(resolve));
        }
      }
      conn.copyFrom('copy sink from stdin', forever()).catch(ignore);
      while (sent < 2000) await sleep(5);
      ready(pid);
      break;
    }
    case 'copy-to': {
      // rows keep arriving while the worker is ended
      const chunks = conn.copyTo('copy (select generate_series(1, 50000000)) to stdout');
      try {
        let received = 0;
        for await (const chunk of chunks) {
          received += chunk.length;
          if (received > 1_000_000) ready(pid);
        }
      } catch {
        // ended under it
      }
      break;
    }
    case 'bytea': {
      // results of many bytea values (Buffers made in C++), arriving and decoded while the worker ends
      const statement = "select decode(repeat('ab', 64), 'hex') as b from generate_series(1, 20000)";
      await conn.query(statement);
      for (;;) {
        const running = conn.query(statement).catch(ignore);
        await sleep(2);
        ready(pid);
        await running;
      }
    }
    case 'collected': {
      // connections dropped while open: their finalizers close them as the worker goes on
      const open = async () => {
        const dropped = await connect(workerData.dsn);
        return { dropped: new WeakRef(dropped), droppedPid: dropped.info.backendPid };
      };
      const { dropped, droppedPid } = await open();
      const turn = () => new Promise((resolve) => setImmediate(resolve));
      for (let collected = false; !collected; ) {
        // collected in a turn of its own: deref() keeps the object for the rest of its turn
        await turn();
        global.gc();
        await turn();
        collected = dropped.deref() === undefined;
      }
      ready(pid, droppedPid);
      break;
    }
    case 'cancel':
      conn.query('select pg_sleep(5)').catch(ignore);
      await sleep(20);
      // the cancel request is still on its way when the worker ends
      conn.cancel().catch(ignore);
      ready(pid);
      break;
    case 'stuck-cancel': {
      await conn.query('select 1');
      const stalled = new Promise((resolve) => parentPort.once('message', resolve));
      parentPort.postMessage({ stall: true });
      await stalled;
      // neither the statement nor the cancel request reaches the server, and nothing answers:
      // before libpq 17 the cancel blocks a thread in PQcancel, after it a polled socket waits
      conn.query('select pg_sleep(5)').catch(ignore);
      conn.cancel().catch(ignore);
      await sleep(50);
      ready(pid);
      break;
    }
    default:
      throw new Error(`unknown scenario ${scenario}`);
  }
}

// ---------------------------------------------------------------------------------------
// the main thread: runs the workers one after another, then several at once

function silentServer() {
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.resume();
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: server.address().port,
        close() {
          for (const socket of sockets) socket.destroy();
          server.close();
        },
      }),
    );
  });
}

async function inMain() {
  const config = JSON.parse(process.argv[2]);
  const pids = [];
  const errors = [];
  // the versions of libpq the workers ran with
  const libpq = new Set();
  // the main thread's own use of pqnode, when it has one, must survive its workers
  let mainConn = null;
  if (config.mainLoads) {
    const { connect } = require(path.join(config.dist, 'index.js'));
    mainConn = await connect(config.dsn, { autocommit: true });
  }
  const silent = config.scenario === 'connect' ? await silentServer() : null;

  const proxies = [];
  let slowestEndMs = 0;
  const runWorker = async (index) => {
    const proxy = config.scenario === 'stuck-cancel' ? await stallingProxy(config.dsn) : null;
    if (proxy) proxies.push(proxy);
    return new Promise((resolve) => {
      const worker = new Worker(__filename, {
        workerData: { ...config, index, silentPort: silent ? silent.port : 0, proxiedDsn: proxy ? proxy.dsn : '' },
      });
      let readyAt = 0;
      worker.on('message', (message) => {
        if (message.pids) pids.push(...message.pids);
        if (message.libpq) libpq.add(message.libpq);
        if (message.failed) errors.push(`worker ${index}: ${message.failed}`);
        if (message.stall) {
          proxy.stall();
          worker.postMessage('stalled');
        }
        if (message.ready) readyAt = Date.now();
        if (message.ready && config.ending === 'terminate') worker.terminate();
      });
      worker.on('error', (error) => errors.push(`worker ${index}: ${error && error.stack ? error.stack : error}`));
      worker.on('exit', (code) => {
        if (readyAt > 0) slowestEndMs = Math.max(slowestEndMs, Date.now() - readyAt);
        resolve(code);
      });
    });
  };

  const codes = [];
  for (let i = 0; i < config.sequential; i++) codes.push(await runWorker(i));
  const together = Array.from({ length: config.parallel }, (_, i) => runWorker(config.sequential + i));
  codes.push(...(await Promise.all(together)));

  if (mainConn !== null) {
    const { rows } = await mainConn.query('select 7 as n');
    if (rows[0].n !== 7) errors.push(`the main thread's connection answered ${JSON.stringify(rows)}`);
    await mainConn.close();
  }
  if (silent) silent.close();
  // The network comes back for the stuck cancel requests: a thread blocked in PQcancel
  // returns now, into the addon that its worker, when it alone had loaded it, left behind.
  for (const proxy of proxies) proxy.close();
  if (proxies.length > 0) await sleep(500);
  const report = { done: true, codes, pids, errors, libpq: [...libpq], slowestEndMs };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

if (isMainThread) {
  inMain().catch((error) => {
    process.stderr.write(`worker-exit child: ${error && error.stack ? error.stack : error}\n`);
    process.exitCode = 1;
  });
} else {
  inWorker().catch((error) => {
    // a failure before the scenario's state was reached: the run is worth nothing
    parentPort.postMessage({ failed: String(error && error.stack ? error.stack : error) });
    process.exit(3);
  });
}
