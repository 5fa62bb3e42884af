/**
 * The JSON of the dashboard's schedules, queues and flow-control answers
 * (`api/schedules`, `api/schedule`, `api/queues`), and why a flow waits.
 * Times are epoch milliseconds. Re-exported by `api-types.ts`.
 *
 * @module
 */
import type { FlowStatus, ScheduleCatchup, ScheduleOverlap, WaitingFor } from '@ergon/core';
import type { FlowRow } from './api-types.js';
import type { ValuePreview } from './internal/values.js';

/** What the store offers beyond flows: cron schedules and flow control (queue limits). */
export interface StoreFeatures {
  /** The store keeps cron schedules (`client.schedules`). */
  readonly schedules: boolean;
  /** The store keeps queue limits and enforces them (`client.queues`, `capabilities.flowControl`). */
  readonly flowControl: boolean;
}

/** Why a flow that could run by time is not running yet (flow control), for a list row. */
export interface WaitingReason {
  /** `queue-concurrency`, `rate-limit`, `key-concurrency` or `debounce`. */
  readonly reason: WaitingFor;
  /** The reason in words (`queue concurrency limit`). */
  readonly text: string;
}

/** Why one flow waits, with the limit it waits on and what counts against it now. */
export interface WaitingView extends WaitingReason {
  /** The flow's queue. */
  readonly queue: string;
  /** Its concurrency key, when it has one. */
  readonly key?: string | undefined;
  /** Flows running now that count against the limit (the queue's, or the key's). */
  readonly running?: number | undefined;
  /** The limit: the queue's concurrency, the rate's starts per window, or the key's limit. */
  readonly limit?: number | undefined;
  /** For a rate limit: starts in the window ending now. */
  readonly recentStarts?: number | undefined;
  /** For a rate limit: the window (ms). */
  readonly periodMs?: number | undefined;
  /** For a debounce: when the flow starts unless more calls come. */
  readonly runAt?: number | undefined;
}

/** One schedule, as the Schedules page lists it. */
export interface ScheduleView {
  /** The schedule's id: every flow it starts has the id `<id>@<tick time>`. */
  readonly id: string;
  /** The flow type each tick starts. */
  readonly flowType: string;
  /** Queue of the started flows. */
  readonly queue: string;
  /** Priority of the started flows. */
  readonly priority: number;
  /** The cron expression. */
  readonly cron: string;
  /** The IANA time zone it is read in. */
  readonly timezone: string;
  /** While the previous tick's flow runs: `skip`, `buffer-one` or `allow`. */
  readonly overlap: ScheduleOverlap;
  /** Missed ticks that start after downtime: `none`, `latest` or up to N. */
  readonly catchup: ScheduleCatchup;
  /** Paused: no tick starts until resumed. */
  readonly paused: boolean;
  /** The next tick; undefined when paused or when the expression fires no more. */
  readonly nextRunAt?: number | undefined;
  /** The next fire times (up to 5); empty when paused. */
  readonly upcoming: readonly number[];
  /** The flow of the last started tick. */
  readonly lastFlowId?: string | undefined;
  /** That tick's time (from the flow's id). */
  readonly lastTickAt?: number | undefined;
  /** That flow's status, when it could be read (it may have been purged). */
  readonly lastStatus?: FlowStatus | undefined;
  /** A tick held back (`buffer-one`) until the last flow finishes. */
  readonly bufferedAt?: number | undefined;
  /** Bumped by every change. */
  readonly revision: number;
  /** When it was created. */
  readonly createdAt: number;
  /** When it last changed. */
  readonly updatedAt: number;
}

/** `GET api/schedules`: one page of schedules, in id order. */
export interface ScheduleListPage {
  /** False when the store keeps no schedules (then the list is empty). */
  readonly supported: boolean;
  /** The schedules of this page. */
  readonly schedules: readonly ScheduleView[];
  /** Pass as `cursor` for the next page. */
  readonly nextCursor?: string | undefined;
  /** Server time spent, in ms. */
  readonly ms: number;
}

/** `GET api/schedule?id=`: one schedule, its input and the flows it started. */
export interface ScheduleDetail extends ScheduleView {
  /** A preview of the input every tick's flow gets. */
  readonly input: ValuePreview;
  /** The flows it started (ticks and runs started from the dashboard), newest first. */
  readonly flows: readonly FlowRow[];
  /** True when it started more flows than listed. */
  readonly moreFlows: boolean;
  /** The server's clock when this was read. */
  readonly now: number;
  /** Which actions would be accepted (all false in read-only mode). */
  readonly actions: {
    /** Pause: it is running. */
    readonly pause: boolean;
    /** Resume: it is paused. */
    readonly resume: boolean;
    /** Start one flow now, as a tick would, without moving the schedule. */
    readonly trigger: boolean;
  };
}

/** A concurrency key of a queue and what runs and waits under it. */
export interface QueueKeyView {
  /** The key. */
  readonly key: string;
  /** Its flows running now (unexpired lease), as the store counts them. */
  readonly running: number;
  /** Its pending flows among those read. */
  readonly queued: number;
  /** Its running limit: a flow's own `concurrencyLimit`, else the queue's `keyConcurrency`. */
  readonly limit?: number | undefined;
  /** Its fair-share weight, when the queue sets one. */
  readonly weight?: number | undefined;
}

/** One queue: its limits (flow control) and what counts against them now. */
export interface QueueView {
  /** The queue's name. */
  readonly name: string;
  /** Its limits, when it has any. */
  readonly limits?:
    | {
        /** At most this many of its flows running at once. */
        readonly concurrency?: number | undefined;
        /** At most `limit` starts in any window of `periodMs`. */
        readonly rate?:
          | {
              /** Starts per window. */
              readonly limit: number;
              /** The window (ms). */
              readonly periodMs: number;
            }
          | undefined;
        /** At most this many running per concurrency key. */
        readonly keyConcurrency?: number | undefined;
        /** Fair-share weights of keys (default 1). */
        readonly keyWeights?: Readonly<Record<string, number>> | undefined;
      }
    | undefined;
  /** Its flows running now (unexpired lease), as the store counts them. */
  readonly running: number;
  /** Starts in the rate window ending now (0 without a rate). */
  readonly recentStarts: number;
  /** Pending flows that may run by time, among those read. */
  readonly ready: number;
  /** Pending flows not due yet (a delay, a backoff, a debounce), among those read. */
  readonly delayed: number;
  /** True when the queue has more unfinished flows than were read. */
  readonly capped: boolean;
  /** Of the newest pending flows, how many wait on each reason (reasons with none left out). */
  readonly waiting: readonly (WaitingReason & {
    /** Pending flows waiting on it. */
    readonly count: number;
  })[];
  /** Its busiest concurrency keys (running, then queued). */
  readonly keys: readonly QueueKeyView[];
  /** True when more keys have flows than listed. */
  readonly moreKeys: boolean;
  /** Live workers that claim from it. */
  readonly workers: number;
}

/** `GET api/queues`. */
export interface QueuesPage {
  /** False when the store has no flow control (then queues have no limits and counts are zero). */
  readonly supported: boolean;
  /** The queues: named by workers, schedules, unfinished flows, and the request's `queue`. */
  readonly queues: readonly QueueView[];
  /** True when more queues were found than shown. */
  readonly moreQueues: boolean;
  /** Server time spent, in ms. */
  readonly ms: number;
}
