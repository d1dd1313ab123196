/**
 * A first-in, first-out queue whose oldest item is taken without moving the others.
 *
 * Array.prototype.shift moves every element one place down, and when the array has lived
 * long enough to be in V8's old space each move of a newer object is a write barrier: with
 * a hundred statements in flight, taking the finished one cost more than the rest of its
 * completion. Here the taken slot is cleared and the start moves on; the array is emptied
 * when the queue is, and compacted when the taken slots outnumber the kept ones.
 */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  /** the oldest item, left in place */
  first(): T | undefined {
    return this.#head < this.#items.length ? this.#items[this.#head] : undefined;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** removes and returns the oldest item */
  shift(): T | undefined {
    const items = this.#items;
    if (this.#head >= items.length) return undefined;
    const item = items[this.#head];
    items[this.#head] = undefined;
    this.#head++;
    if (this.#head === items.length) {
      items.length = 0;
      this.#head = 0;
    } else if (this.#head >= COMPACT_AFTER && this.#head * 2 >= items.length) {
      this.#items = items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  includes(item: T): boolean {
    const items = this.#items;
    for (let index = this.#head; index < items.length; index++) {
      if (items[index] === item) return true;
    }
    return false;
  }

  /** removes every item and returns them, oldest first */
  drain(): T[] {
    const items = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#head = 0;
    return items;
  }
}

// taken slots kept before the array is compacted: compaction copies the kept items, so it
// waits until there are many more taken slots than a full pipeline holds
const COMPACT_AFTER = 1024;
