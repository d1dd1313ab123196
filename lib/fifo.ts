/**
 * A first-in, first-out queue whose oldest item is taken without moving the others.
 *
 * Array.prototype.shift moves every element one place down, and when the array has lived
 * long enough to be in V8's old space each move of a newer object is a write barrier: with
 * a hundred statements in flight, taking the finished one cost more than the rest of its
 * completion. Here the items sit in a ring: taking one clears its slot and moves the start
 * on. The ring doubles, in place, when it is full, and never shrinks.
 *
 * Every path a busy queue takes runs from its first items on: a branch first reached later
 * (compacting once a thousand slots were taken, say) would throw away the optimised code of
 * every caller it was inlined into, in the middle of the run that made them hot.
 */
export class Fifo<T> {
  /** the ring: its length a power of two, the slots not in use undefined */
  readonly #slots: (T | undefined)[] = emptySlots(INITIAL_CAPACITY);
  /** the slot of the oldest item */
  #head = 0;
  #size = 0;

  get length(): number {
    return this.#size;
  }

  /** the oldest item, left in place */
  first(): T | undefined {
    // undefined when the queue is empty: a slot not in use holds nothing
    return this.#slots[this.#head];
  }

  push(item: T): void {
    const slots = this.#slots;
    if (this.#size === slots.length) this.#grow();
    slots[(this.#head + this.#size) & (slots.length - 1)] = item;
    this.#size++;
  }

  /** removes and returns the oldest item */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const slots = this.#slots;
    const head = this.#head;
    const item = slots[head];
    slots[head] = undefined;
    this.#head = (head + 1) & (slots.length - 1);
    this.#size--;
    return item;
  }

  includes(item: T): boolean {
    const slots = this.#slots;
    const mask = slots.length - 1;
    for (let index = 0; index < this.#size; index++) {
      if (slots[(this.#head + index) & mask] === item) return true;
    }
    return false;
  }

  /** removes every item and returns them, oldest first */
  drain(): T[] {
    const items: T[] = [];
    while (this.#size > 0) items.push(this.shift() as T);
    return items;
  }

  /**
   * Doubles the ring, keeping the same array (its elements of one kind, and the field never
   * reassigned, so code that has read it stays valid): the items that wrapped round to the
   * start move to just past the old end, where the ring now continues.
   */
  #grow(): void {
    const slots = this.#slots;
    const capacity = slots.length;
    for (let index = 0; index < capacity; index++) slots.push(undefined);
    for (let index = 0; index < this.#head; index++) {
      slots[capacity + index] = slots[index];
      slots[index] = undefined;
    }
  }
}

// the ring's first size: a power of two, as every later one
const INITIAL_CAPACITY = 16;

/** `count` slots holding nothing, in an array of packed elements (not holes) */
function emptySlots(count: number): undefined[] {
  const slots: undefined[] = [];
  for (let index = 0; index < count; index++) slots.push(undefined);
  return slots;
}
