// 13 — Logical replication (change data capture).
//
// psycopg2:
//
//   conn = psycopg2.connect(dsn, connection_factory=LogicalReplicationConnection)
//   cur = conn.cursor()
//   cur.create_replication_slot("orders_cdc", output_plugin="pgoutput")
//   cur.start_replication(slot_name="orders_cdc", decode=False,
//                         options={"proto_version": "1", "publication_names": "orders_pub"})
//   def consume(msg):
//       apply(msg.payload)
//       msg.cursor.send_feedback(flush_lsn=msg.data_start)
//   cur.consume_stream(consume)
//
// pqnode: replicate() is the stream, an async iterator; each message has its LSN, its bytes
// and, with pgoutput, the message decoded with its values typecast. acknowledge() is
// send_feedback(flush_lsn=...): status updates go out on their own, every 10 s, when the
// server asks, and at close().
import assert from 'node:assert/strict';
import { connect, createReplicationSlot, dropReplicationSlot, replicate } from '../dist/index.mjs';

const dsn = process.env.PQNODE_TEST_DSN;
const conn = await connect(dsn, { autocommit: true });
const slot = 'orders_cdc_example';
try {
  await conn.query('CREATE TABLE IF NOT EXISTS orders_example (id int PRIMARY KEY, item text, total numeric, placed timestamptz)');
  await conn.query('DROP PUBLICATION IF EXISTS orders_example_pub');
  await conn.query('CREATE PUBLICATION orders_example_pub FOR TABLE orders_example');
  await dropReplicationSlot(dsn, slot, { ifExists: true });

  // A permanent slot keeps the changes for its consumer, even while no consumer runs.
  const created = await createReplicationSlot(dsn, slot, { plugin: 'pgoutput' });
  console.log(`  slot ${created.slot} starts at ${created.lsn}`);

  await conn.query("INSERT INTO orders_example VALUES (1, 'tea', 4.50, now()), (2, 'cake', 3.20, now())");
  await conn.query("UPDATE orders_example SET total = 5.00 WHERE id = 1");
  await conn.query('DELETE FROM orders_example WHERE id = 2');

  // --- a consumer: applies each transaction, then acknowledges its commit --------------------
  async function consume(transactions) {
    const stream = replicate(dsn, { slot, options: { publication_names: 'orders_example_pub' } });
    const applied = [];
    let pending = [];
    for await (const { lsn, message } of stream) {
      if (message.type === 'insert' || message.type === 'update' || message.type === 'delete') {
        pending.push(`${message.type} ${message.relation.name} ${JSON.stringify(message.new ?? message.key ?? message.old)}`);
      }
      if (message.type === 'commit') {
        applied.push(...pending); // a real consumer writes them somewhere, in one transaction
        pending = [];
        stream.acknowledge(lsn); // the commit's LSN: the server may forget the transaction
        if (--transactions === 0) break; // break closes the stream (a last status update first)
      }
    }
    return applied;
  }

  const first = await consume(2);
  for (const line of first) console.log(`  ${line}`);
  assert.equal(first.length, 3);
  assert.match(first[0], /^insert orders_example \{"id":1,"item":"tea","total":"4.50","placed":"/);

  // A consumer started again resumes after what was acknowledged: only the delete is left.
  const second = await consume(1);
  console.log(`  after a restart: ${second.join(', ')}`);
  assert.deepEqual(second, ['delete orders_example {"id":2,"item":null,"total":null,"placed":null}']);
} finally {
  await dropReplicationSlot(dsn, slot, { ifExists: true, wait: true });
  await conn.query('DROP PUBLICATION IF EXISTS orders_example_pub');
  await conn.query('DROP TABLE IF EXISTS orders_example');
  await conn.close();
}
