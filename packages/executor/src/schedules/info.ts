/**
 * A schedule as a caller sees it: its definition with the input decoded, and
 * its cursor as dates, with the next fire times.
 *
 * @module
 */
import type { Codec, ScheduleCatchup, ScheduleOverlap, ScheduleRecord } from '@ergon/core';
import { compileCron } from './cron.js';

/** A schedule as a caller sees it. */
export interface ScheduleInfo {
  /** The schedule's id. */
  readonly id: string;
  /** The flow type each tick starts. */
  readonly flowType: string;
  /** Queue of the started flows. */
  readonly queue: string;
  /** The cron expression. */
  readonly cron: string;
  /** Its time zone. */
  readonly timezone: string;
  /** Input of the started flows, decoded. */
  readonly input: unknown;
  /** Priority of the started flows. */
  readonly priority: number;
  /** The overlap policy. */
  readonly overlap: ScheduleOverlap;
  /** The catch-up policy. */
  readonly catchup: ScheduleCatchup;
  /** Paused: nothing starts until resumed. */
  readonly paused: boolean;
  /** The next tick not yet handled; undefined when paused or when it fires no more. */
  readonly nextRunAt: Date | undefined;
  /** The next fire times from the cursor on (up to 5); empty when paused. */
  readonly upcoming: readonly Date[];
  /** The flow of the last started tick. */
  readonly lastFlowId: string | undefined;
  /** A tick waiting (`buffer-one`) for the last flow to finish. */
  readonly bufferedAt: Date | undefined;
  /** Bumped by every change. */
  readonly revision: number;
  /** When it was created. */
  readonly createdAt: Date;
  /** When it last changed. */
  readonly updatedAt: Date;
}

/** A stored schedule as a {@link ScheduleInfo}: the input decoded, the next five fire times. */
export function toScheduleInfo(codec: Codec, s: ScheduleRecord): ScheduleInfo {
  const upcoming =
    s.paused || s.nextAt === undefined
      ? []
      : [s.nextAt, ...compileCron(s.id, s.cron, s.timezone, s.nextAt - 1).upcoming(s.nextAt, 4)];
  return {
    id: s.id,
    flowType: s.type,
    queue: s.queue,
    cron: s.cron,
    timezone: s.timezone,
    input: codec.decode(s.input),
    priority: s.priority,
    overlap: s.overlap,
    catchup: s.catchup,
    paused: s.paused,
    nextRunAt: s.paused || s.nextAt === undefined ? undefined : new Date(s.nextAt),
    upcoming: upcoming.map((t) => new Date(t)),
    lastFlowId: s.lastFlowId,
    bufferedAt: s.bufferedAt === undefined ? undefined : new Date(s.bufferedAt),
    revision: s.revision,
    createdAt: new Date(s.createdAt),
    updatedAt: new Date(s.updatedAt),
  };
}
