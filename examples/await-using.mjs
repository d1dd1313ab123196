// `await using` (explicit resource management): Node 24+. Imported by 01-connect-and-query.mjs
// when the running Node can parse it.
import assert from 'node:assert/strict';
import { connect } from '../dist/index.mjs';

export async function awaitUsingDemo(dsn) {
  let outside;
  {
    await using conn = await connect(dsn);
    outside = conn;
    const { rows } = await conn.query('SELECT 1 AS one');
    assert.equal(rows[0].one, 1);
  }
  // the block has ended: the connection is closed
  assert.equal(outside.closed, true);
  console.log('await using: the connection closed at the end of its block');
}
