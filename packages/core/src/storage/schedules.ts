/**
 * The schedules part of the storage contract (DESIGN §9): cron schedules that
 * start one flow per tick across every worker. A store keeps each schedule's
 * definition and its cursor (the next tick not yet handled, the flow of the
 * last started tick, a paused flag, a buffered tick) so every worker sees the
 * same state; the engine computes cron times (the store never parses cron).
 *
 * Exactly once per tick comes from two things together: the tick's flow id is
 * derived from the schedule id and the tick time (so `createFlow`'s
 * idempotency makes a repeated start a no-op), and the cursor only moves by
 * compare-and-set on the schedule's `revision` (so two workers never both
 * advance it). A worker creates the tick's flow first and advances the cursor
 * second: a crash between the two re-creates the same flow (nothing doubled)
 * and then advances (nothing lost).
 *
 * Optional: a store offers it as its `schedules` member. The runtime wrapper
 * validates every argument once, as for the rest of the contract.
 *
 * @module
 */
import type { ReadOptions, StoreCallOptions } from './call-options.js';

/**
 * What a tick does while the flow of the previous tick is still running:
 * `skip` it; `buffer-one` (keep at most one tick waiting, started when that
 * flow finishes; later ticks meanwhile are dropped); `allow` (start anyway).
 */
export type ScheduleOverlap = 'skip' | 'buffer-one' | 'allow';

/**
 * Which missed ticks start after downtime (a tick is missed when it is more
 * than the grace late): `none`, the `latest` one, or up to N of the most recent.
 */
export type ScheduleCatchup = 'none' | 'latest' | number;

/** A schedule as its owner defines it. */
export interface ScheduleDefinition {
  /** Unique id; the prefix of every flow id it starts. */
  readonly id: string;
  /** The flow type each tick starts. */
  readonly type: string;
  /** The queue of the started flows. */
  readonly queue: string;
  /** The cron expression (5 fields, or 6 with seconds first). Opaque to stores. */
  readonly cron: string;
  /** IANA time zone the expression is read in (`UTC`, `Europe/Berlin`). */
  readonly timezone: string;
  /** Encoded input of every started flow. */
  readonly input: string;
  /** Priority of the started flows. */
  readonly priority: number;
  /** What a tick does while the previous tick's flow runs. */
  readonly overlap: ScheduleOverlap;
  /** Which missed ticks start after downtime. */
  readonly catchup: ScheduleCatchup;
}

/** Where a schedule stands: what workers advance. */
export interface ScheduleCursor {
  /** Paused: no tick starts, and none is caught up on resume. */
  readonly paused: boolean;
  /** The next tick not yet handled (ms); undefined when the expression fires no more. */
  readonly nextAt: number | undefined;
  /** The flow the last started tick created. */
  readonly lastFlowId: string | undefined;
  /** A tick held back by `buffer-one` until `lastFlowId` finishes (ms). */
  readonly bufferedAt: number | undefined;
}

/** A stored schedule. */
export interface ScheduleRecord extends ScheduleDefinition, ScheduleCursor {
  /** Bumped by every change: the key of {@link ScheduleLog.updateSchedule}'s compare-and-set. */
  readonly revision: number;
  /** When it was created (ms). */
  readonly createdAt: number;
  /** When it last changed (ms). */
  readonly updatedAt: number;
}

/** The state a schedule is created with, or replaced by. */
export type ScheduleState = Omit<ScheduleDefinition, 'id'> & ScheduleCursor;

/** Input of {@link ScheduleLog.createSchedule}. */
export interface NewSchedule extends StoreCallOptions {
  /** The schedule's id. */
  readonly id: string;
  /** Its definition and first cursor (revision 1). */
  readonly state: ScheduleState;
  /** The caller's current time (ms). */
  readonly now: number;
}

/** What {@link ScheduleLog.createSchedule} returns. */
export interface CreateScheduleResult {
  /** The schedule as stored: the new one, or the one that had the id. */
  readonly schedule: ScheduleRecord;
  /** False when a schedule with the id existed (nothing was written). */
  readonly created: boolean;
}

/** Input of {@link ScheduleLog.updateSchedule}. */
export interface UpdateScheduleRequest extends StoreCallOptions {
  /** The schedule. */
  readonly id: string;
  /** The revision the caller read; the update applies only if it is still current. */
  readonly revision: number;
  /** The whole new state (definition and cursor). */
  readonly state: ScheduleState;
  /** The caller's current time (ms), recorded as `updatedAt`. */
  readonly now: number;
}

/** Input of {@link ScheduleLog.listSchedules}. */
export interface ScheduleQuery extends StoreCallOptions {
  /** Only schedules of these flow types (all when absent). */
  readonly types?: readonly string[] | undefined;
  /** Only ids after this one (the last id of the previous page). */
  readonly after?: string | undefined;
  /** At most this many (1 to {@link MAX_SCHEDULE_PAGE}). */
  readonly limit: number;
}

/** Input of {@link ScheduleLog.deleteSchedule}. */
export interface DeleteScheduleRequest extends StoreCallOptions {
  /** The schedule. */
  readonly id: string;
}

/** Most schedules one `listSchedules` call returns. */
export const MAX_SCHEDULE_PAGE = 1000;

/** A store's schedules. Every method is atomic. */
export interface ScheduleLog {
  /**
   * Creates the schedule at revision 1, or returns the one with that id unchanged
   * (`created: false`); never two with one id.
   */
  createSchedule(request: NewSchedule): Promise<CreateScheduleResult>;

  /** The schedule, or undefined. */
  getSchedule(id: string, options?: ReadOptions): Promise<ScheduleRecord | undefined>;

  /** Schedules in id order, after `after`, at most `limit`. */
  listSchedules(query: ScheduleQuery): Promise<ScheduleRecord[]>;

  /**
   * Compare-and-set: when the schedule exists at `revision`, replaces its state, sets
   * `revision + 1` and `updatedAt = now`, and returns it; otherwise (unknown id, or
   * someone changed it since it was read) writes nothing and returns undefined. Of two
   * callers holding the same revision, at most one succeeds.
   */
  updateSchedule(request: UpdateScheduleRequest): Promise<ScheduleRecord | undefined>;

  /** Deletes the schedule (flows it started stay). False when there was none. */
  deleteSchedule(request: DeleteScheduleRequest): Promise<boolean>;
}
