// 06 — LISTEN / NOTIFY.
//
// psycopg2:
//
//   conn.set_isolation_level(ISOLATION_LEVEL_AUTOCOMMIT)
//   cur.execute("LISTEN jobs")
//   while True:
//       select.select([conn], [], [], 5)
//       conn.poll()
//       while conn.notifies:
//           n = conn.notifies.pop(0)
//           print(n.pid, n.channel, n.payload)
//
// pqnode has no select()/poll() loop to write: the connection watches its socket on the
// event loop. Notifications arrive as 'notification' events and through the async iterator
// conn.notifies(). Each one is { channel, payload, pid }.
import assert from 'node:assert/strict';
import { connect } from '../dist/index.mjs';

const dsn = process.env.PQNODE_TEST_DSN;
// Listening needs autocommit, as in psycopg2: a LISTEN inside an open transaction only takes
// effect at commit, and notifications are delivered between transactions.
const listener = await connect(dsn, { autocommit: true });
const sender = await connect(dsn, { autocommit: true });
try {
  await listener.listen('jobs'); // LISTEN "jobs" (the name is quoted for you)
  await listener.listen('Audit Log'); // any name works, spaces and capitals included

  // --- the 'notification' event --------------------------------------------------------------
  const seen = [];
  listener.on('notification', (n) => seen.push(`${n.channel}:${n.payload}`));

  // --- the notifies() async iterator -----------------------------------------------------------
  // A consumer loop, as a worker would run it. It ends when the connection closes, or when the
  // loop breaks out.
  const received = [];
  const consumer = (async () => {
    for await (const notification of listener.notifies()) {
      console.log(`  got ${JSON.stringify(notification.payload)} on ${notification.channel} from backend ${notification.pid}`);
      received.push(notification);
      if (notification.payload === 'stop') break;
    }
  })();

  // notify() is pg_notify(channel, payload): the payload is sent as a parameter.
  await sender.notify('jobs', JSON.stringify({ id: 1, task: 'resize', file: 'cat.png' }));
  await sender.notify('Audit Log', "user 'ann' logged in");
  // Plain SQL works too.
  await sender.query("NOTIFY jobs, 'second'");

  // Notifications sent inside a transaction are delivered when it commits, all together.
  await sender.transaction(async (tx) => {
    await tx.notify('jobs', 'third');
    await tx.notify('jobs', 'stop');
  });

  await consumer;
  assert.deepEqual(
    received.map((n) => n.payload),
    ['{"id":1,"task":"resize","file":"cat.png"}', "user 'ann' logged in", 'second', 'third', 'stop'],
  );
  assert.equal(received[0].pid, sender.info.backendPid);
  assert.equal(JSON.parse(received[0].payload).task, 'resize');
  assert.deepEqual(seen, [
    'jobs:{"id":1,"task":"resize","file":"cat.png"}',
    "Audit Log:user 'ann' logged in",
    'jobs:second',
    'jobs:third',
    'jobs:stop',
  ]);

  // --- waiting for one notification, with a timeout -----------------------------------------------
  // events.once() turns the next event into a promise; an AbortSignal gives it a deadline.
  const { once } = await import('node:events');
  const next = once(listener, 'notification', { signal: AbortSignal.timeout(5000) });
  await sender.notify('jobs', 'ping');
  const [ping] = await next;
  assert.equal(ping.payload, 'ping');

  // --- unlisten -----------------------------------------------------------------------------------
  await listener.unlisten('jobs');
  // listen for the next event before sending: it may arrive before notify() resolves
  const nextAudit = once(listener, 'notification', { signal: AbortSignal.timeout(5000) });
  await sender.notify('jobs', 'nobody hears this');
  await sender.notify('Audit Log', 'still listening here');
  const [audit] = await nextAudit;
  assert.equal(audit.channel, 'Audit Log');
  await listener.unlisten(); // UNLISTEN *
} finally {
  await listener.close();
  await sender.close();
}

console.log('06-listen-notify: ok');
