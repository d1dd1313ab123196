// An EventEmitter whose listeners are typed by a map of event names to argument lists, so
// that `conn.on('notice', (notice) => ...)` gives `notice` its type instead of any. Other
// event names still work, with listeners of unknown arguments.
import { EventEmitter } from 'node:events';

/** A map from event names to the arguments their listeners get. */
export type EventMap<Events> = { [E in keyof Events]: unknown[] };

type EventName<Events> = keyof Events & (string | symbol);
type Listener<Events extends EventMap<Events>, E extends EventName<Events>> = (...args: Events[E]) => void;
/** what the implementations take: any listener at all */
type AnyListener = (...args: never) => void;

export class TypedEventEmitter<Events extends EventMap<Events>> extends EventEmitter {
  override on<E extends EventName<Events>>(event: E, listener: Listener<Events, E>): this;
  override on(event: string | symbol, listener: (...args: unknown[]) => void): this;
  override on(event: string | symbol, listener: AnyListener): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  override once<E extends EventName<Events>>(event: E, listener: Listener<Events, E>): this;
  override once(event: string | symbol, listener: (...args: unknown[]) => void): this;
  override once(event: string | symbol, listener: AnyListener): this {
    return super.once(event, listener as (...args: unknown[]) => void);
  }

  override off<E extends EventName<Events>>(event: E, listener: Listener<Events, E>): this;
  override off(event: string | symbol, listener: (...args: unknown[]) => void): this;
  override off(event: string | symbol, listener: AnyListener): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }

  override addListener<E extends EventName<Events>>(event: E, listener: Listener<Events, E>): this;
  override addListener(event: string | symbol, listener: (...args: unknown[]) => void): this;
  override addListener(event: string | symbol, listener: AnyListener): this {
    return super.addListener(event, listener as (...args: unknown[]) => void);
  }

  override removeListener<E extends EventName<Events>>(event: E, listener: Listener<Events, E>): this;
  override removeListener(event: string | symbol, listener: (...args: unknown[]) => void): this;
  override removeListener(event: string | symbol, listener: AnyListener): this {
    return super.removeListener(event, listener as (...args: unknown[]) => void);
  }

  override prependListener<E extends EventName<Events>>(event: E, listener: Listener<Events, E>): this;
  override prependListener(event: string | symbol, listener: (...args: unknown[]) => void): this;
  override prependListener(event: string | symbol, listener: AnyListener): this {
    return super.prependListener(event, listener as (...args: unknown[]) => void);
  }

  override prependOnceListener<E extends EventName<Events>>(event: E, listener: Listener<Events, E>): this;
  override prependOnceListener(event: string | symbol, listener: (...args: unknown[]) => void): this;
  override prependOnceListener(event: string | symbol, listener: AnyListener): this {
    return super.prependOnceListener(event, listener as (...args: unknown[]) => void);
  }
}
