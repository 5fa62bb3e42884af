/**
 * What the store's internal functions work with.
 *
 * @module
 */
import type { Db } from './db.js';
import type { EventListener } from './listener.js';
import type { Notifier } from './notifier.js';
import type { Queries } from './queries.js';

/** The pool and its policies, the prepared statements, and where events go. */
export interface Context {
  readonly db: Db;
  readonly q: Queries;
  /** Sends the events of committed changes. */
  readonly notifier: Notifier;
  /** Hears of the queues flows are created in, for the catch-up after a LISTEN reconnect. */
  readonly listener: EventListener;
}
