// The notifications a connection receives, handed to every notifies() iterator. Each
// iterator has a queue of its own from the moment it is made, so that nothing that arrives
// before its first next() is lost and no iterator takes a notification from another.
//
// A notification counts as taken once the `value` of the result that carried it is read.
// A next() abandoned by a timeout race (Promise.race with a timer) resolves later with a
// result nobody reads: its notification goes to the next next() instead of being lost.
import { InterfaceError, OperationalError } from '../errors';

/** A notification sent with NOTIFY or pg_notify(). */
export interface Notification {
  channel: string;
  payload: string;
  /** the process id of the backend that sent it */
  pid: number;
}

export interface NotifiesOptions {
  /**
   * Notifications an iterator keeps while nobody takes them (default 10,000). One that falls
   * further behind is ended: its next next() throws, instead of memory growing without bound.
   */
  maxQueued?: number;
}

const DEFAULT_MAX_QUEUED = 10_000;

interface Waiter {
  resolve(result: IteratorResult<Notification>): void;
  reject(error: Error): void;
}

/** A notification handed to a next(), and whether its value was read. */
interface Handed {
  notification: Notification;
  read: boolean;
}

function resultOf(handed: Handed): IteratorResult<Notification> {
  return {
    done: false,
    get value(): Notification {
      handed.read = true;
      return handed.notification;
    },
  };
}

class Subscriber {
  /** arrived and not handed to any next() yet, oldest first */
  readonly queue: Notification[] = [];
  /** the next() calls waiting now, oldest first */
  readonly waiters: Waiter[] = [];
  /** handed to a next() and not known to be read */
  handed: Handed[] = [];
  /** set once the iterator can yield nothing more: an error to throw, or null to end */
  ending: Error | null | undefined;
  #recheckScheduled = false;

  constructor(readonly maxQueued: number) {}

  /** False when this subscriber fell too far behind and was ended. */
  deliver(notification: Notification): boolean {
    if (this.waiters.length > 0) {
      this.#hand(notification);
      return true;
    }
    if (this.queue.length >= this.maxQueued) {
      this.queue.length = 0;
      this.finish(new OperationalError(`more than ${this.maxQueued} notifications waited unread: the iterator was ended (see notifies({ maxQueued }))`));
      return false;
    }
    this.queue.push(notification);
    return true;
  }

  /** The next() call: its result now, or a promise of it. */
  next(): Promise<IteratorResult<Notification>> | undefined {
    this.#reclaimUnread();
    const queued = this.queue.shift();
    if (queued === undefined) return undefined;
    const handed = { notification: queued, read: false };
    this.handed.push(handed);
    return Promise.resolve(resultOf(handed));
  }

  wait(waiter: Waiter): void {
    this.waiters.push(waiter);
  }

  finish(error: Error | null): void {
    if (this.ending !== undefined) return;
    this.ending = error;
    if (this.waiters.length === 0) return;
    for (const waiter of this.waiters.splice(0)) {
      if (error === null) waiter.resolve({ done: true, value: undefined });
      else waiter.reject(error);
    }
    // thrown once; after that the iterator is simply done, as a generator would be
    this.ending = null;
  }

  clear(): void {
    this.queue.length = 0;
    this.handed = [];
  }

  #hand(notification: Notification): void {
    const waiter = this.waiters.shift() as Waiter;
    const handed = { notification, read: false };
    this.handed.push(handed);
    waiter.resolve(resultOf(handed));
    // Another next() waits too: the first may have been abandoned. Once whoever awaited it
    // has run (microtasks come first), an unread notification goes to the next waiter.
    if (this.waiters.length > 0 && !this.#recheckScheduled) {
      this.#recheckScheduled = true;
      setImmediate(() => {
        this.#recheckScheduled = false;
        this.#reclaimUnread();
        while (this.waiters.length > 0 && this.queue.length > 0) this.#hand(this.queue.shift() as Notification);
      });
    }
  }

  /** Notifications handed out and never read go back to the front of the queue, in order. */
  #reclaimUnread(): void {
    if (this.handed.length === 0) return;
    const unread = this.handed.filter((handed) => !handed.read).map((handed) => handed.notification);
    this.handed = [];
    if (unread.length > 0) this.queue.unshift(...unread);
  }
}

export class NotificationHub {
  readonly #subscribers = new Set<Subscriber>();
  /** why the connection ended: null when it was closed, an error when it was lost */
  #ended: Error | null | undefined;

  publish(notification: Notification): void {
    for (const subscriber of this.#subscribers) {
      if (!subscriber.deliver(notification)) this.#subscribers.delete(subscriber);
    }
  }

  /** The connection ended: iterators end (`null`, closed by the caller) or throw `error` (lost). */
  end(error: Error | null): void {
    if (this.#ended !== undefined) return;
    this.#ended = error;
    for (const subscriber of this.#subscribers) {
      // what was queued before the end is still handed out first
      if (subscriber.queue.length === 0) subscriber.finish(error);
    }
  }

  iterator(options: NotifiesOptions = {}): AsyncIterableIterator<Notification> {
    const maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
    if (!Number.isSafeInteger(maxQueued) || maxQueued < 1) throw new TypeError('maxQueued must be a positive whole number');
    if (this.#ended === null) throw new InterfaceError('the connection is closed');
    if (this.#ended !== undefined) throw this.#ended;
    const subscriber = new Subscriber(maxQueued);
    this.#subscribers.add(subscriber);
    return new NotificationIterator(subscriber, () => this.#ended, () => this.#subscribers.delete(subscriber));
  }
}

class NotificationIterator implements AsyncIterableIterator<Notification> {
  constructor(
    private readonly subscriber: Subscriber,
    /** how the connection ended, if it has */
    private readonly ended: () => Error | null | undefined,
    private readonly unsubscribe: () => void,
  ) {}

  next(): Promise<IteratorResult<Notification>> {
    const subscriber = this.subscriber;
    const ready = subscriber.next();
    if (ready !== undefined) return ready;
    const ended = this.ended();
    if (subscriber.ending === undefined && ended !== undefined) subscriber.finish(ended);
    if (subscriber.ending === null) return Promise.resolve({ done: true, value: undefined });
    if (subscriber.ending !== undefined) {
      const error = subscriber.ending;
      // thrown once; after that the iterator is simply done, as a generator would be
      subscriber.ending = null;
      this.unsubscribe();
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => subscriber.wait({ resolve, reject }));
  }

  return(): Promise<IteratorResult<Notification>> {
    this.unsubscribe();
    this.subscriber.clear();
    this.subscriber.finish(null);
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Notification> {
    return this;
  }
}
