// The queue of requests in flight: order kept as the ring wraps and grows, nothing kept after it is taken.
import { describe, expect, it } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Fifo } from '../lib/fifo';

/** V8's collector, exposed to this test alone */
function exposedGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** pushes a new object only the queue holds; made in a function of its own so no local keeps it */
function pushTaken(fifo: Fifo<object>): WeakRef<object> {
  const item = { taken: true };
  fifo.push(item);
  return new WeakRef(item);
}

describe('Fifo', () => {
  it('takes items in the order they came, and nothing from an empty queue', () => {
    const fifo = new Fifo<number>();
    expect(fifo.length).toBe(0);
    expect(fifo.first()).toBeUndefined();
    expect(fifo.shift()).toBeUndefined();
    fifo.push(1);
    fifo.push(2);
    expect(fifo.first()).toBe(1);
    expect(fifo.length).toBe(2);
    expect(fifo.shift()).toBe(1);
    expect(fifo.first()).toBe(2);
    expect(fifo.shift()).toBe(2);
    expect(fifo.shift()).toBeUndefined();
    expect(fifo.length).toBe(0);
    fifo.push(3);
    expect(fifo.first()).toBe(3);
    expect(fifo.length).toBe(1);
  });

  it('keeps the order while the queue never empties (the ring wrapping round many times)', () => {
    const fifo = new Fifo<number>();
    const kept = 150;
    for (let i = 0; i < kept; i++) fifo.push(i);
    for (let i = kept; i < 10_000; i++) {
      fifo.push(i);
      expect(fifo.shift()).toBe(i - kept);
      expect(fifo.length).toBe(kept);
    }
    expect(fifo.first()).toBe(10_000 - kept);
    expect(fifo.includes(10_000 - kept)).toBe(true);
    expect(fifo.includes(10_000 - kept - 1)).toBe(false); // taken
    expect(fifo.drain()).toEqual(Array.from({ length: kept }, (_, i) => 10_000 - kept + i));
    expect(fifo.length).toBe(0);
    expect(fifo.first()).toBeUndefined();
  });

  it('keeps the order when the ring grows while its items wrap round its end', () => {
    // every start position in the ring, then growth from there through several doublings
    for (let start = 0; start < 40; start++) {
      const fifo = new Fifo<number>();
      for (let i = 0; i < start; i++) fifo.push(-1);
      for (let i = 0; i < start; i++) fifo.shift();
      let next = 0;
      let expected = 0;
      for (let round = 0; round < 5; round++) {
        // push more than are taken, so the ring fills and grows with its start anywhere
        for (let i = 0; i < 13 * (round + 1); i++) fifo.push(next++);
        for (let i = 0; i < 5; i++) expect(fifo.shift()).toBe(expected++);
        expect(fifo.length).toBe(next - expected);
        expect(fifo.first()).toBe(expected);
      }
      expect(fifo.includes(next - 1)).toBe(true);
      expect(fifo.includes(expected)).toBe(true);
      expect(fifo.includes(expected - 1)).toBe(false);
      expect(fifo.drain()).toEqual(Array.from({ length: next - expected }, (_, i) => expected + i));
      expect(fifo.shift()).toBeUndefined();
    }
  });

  it('drain() returns what is left, oldest first, and leaves the queue empty and usable', () => {
    const fifo = new Fifo<string>();
    for (const item of ['a', 'b', 'c', 'd']) fifo.push(item);
    fifo.shift();
    expect(fifo.drain()).toEqual(['b', 'c', 'd']);
    expect(fifo.length).toBe(0);
    expect(fifo.drain()).toEqual([]);
    fifo.push('e');
    expect(fifo.shift()).toBe('e');
  });

  it('holds no reference to a taken item', async () => {
    const gc = exposedGc();
    const fifo = new Fifo<object>();
    const taken = pushTaken(fifo);
    fifo.push({}); // the queue is not emptied: the ring keeps its slots
    expect(fifo.shift()).toBeDefined();
    // a WeakRef holds its target until the current job ends
    await new Promise((resolve) => setTimeout(resolve, 1));
    gc();
    expect(taken.deref()).toBeUndefined();
    expect(fifo.length).toBe(1);
  });
});
