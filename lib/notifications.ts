// The notifications a connection receives, handed to every notifies() iterator. Each
// iterator has a queue of its own from the moment it is made, so that nothing that arrives
// before its first next() is lost and no iterator takes a notification from another.
import { InterfaceError, OperationalError } from './errors';

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

type Waiter = (result: IteratorResult<Notification>) => void;

class Subscriber {
  readonly queue: Notification[] = [];
  /** the next() calls waiting now; a next() abandoned by a timeout race is among them */
  waiters: { resolve: Waiter; reject: (error: Error) => void }[] = [];
  /** set once the iterator can yield nothing more: an error to throw, or null to end */
  ending: Error | null | undefined;

  constructor(readonly maxQueued: number) {}

  deliver(notification: Notification): boolean {
    if (this.waiters.length > 0) {
      // All waiting next() calls get it: one of them abandoned (Promise.race with a timer)
      // would otherwise swallow it, unseen by the call that comes after.
      for (const waiter of this.waiters.splice(0)) waiter.resolve({ done: false, value: notification });
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
    const queued = subscriber.queue.shift();
    if (queued !== undefined) return Promise.resolve({ done: false, value: queued });
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
    return new Promise((resolve, reject) => subscriber.waiters.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<Notification>> {
    this.unsubscribe();
    this.subscriber.queue.length = 0;
    this.subscriber.finish(null);
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Notification> {
    return this;
  }
}
