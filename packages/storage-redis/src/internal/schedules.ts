/**
 * Schedules on Redis (`schedules.ts` of the contract): a hash per schedule
 * (`<base>schedule:<id>`: state JSON, revision, createdAt, updatedAt) and an
 * index sorted set (`<base>schedules`, score 0, listed in id order), all under
 * the home partition's hash tag. Creating, the compare-and-set and deleting are Lua
 * scripts (`create-schedule-2`, `update-schedule-1`, `delete-schedule-2`).
 *
 * @module
 */
import {
  type CreateScheduleResult,
  type DeleteScheduleRequest,
  ErgonError,
  ErrorCode,
  type NewSchedule,
  type ScheduleLog,
  type ScheduleQuery,
  type ScheduleRecord,
  type ScheduleState,
  type UpdateScheduleRequest,
} from '@ergon/core';
import type { RedisClient } from './connection.js';
import { toStoreError } from './errors.js';
import type { KeyLayout } from './keys.js';
import type { ScriptRunner } from './runner.js';
import type { ScriptName } from './scripts.js';

/** How many ids one listing round reads while a type filter skips others. */
const SCAN_PAGE = 200;

type Stored = [
  state: string | null,
  revision: string | null,
  createdAt: string | null,
  updatedAt: string | null,
];

function corrupt(id: string, cause?: unknown): ErgonError {
  return new ErgonError(ErrorCode.STORE_CORRUPT, `schedule ${JSON.stringify(id)} is damaged in Redis`, {
    cause,
    details: { scheduleId: id },
  });
}

/** A stored schedule's fields as a record. @throws STORE_CORRUPT for fields no version writes. */
function decode(id: string, [state, revision, createdAt, updatedAt]: Stored): ScheduleRecord {
  let parsed: ScheduleState;
  try {
    parsed = JSON.parse(state ?? '') as ScheduleState;
  } catch (error) {
    throw corrupt(id, error);
  }
  if (typeof parsed !== 'object' || parsed === null || typeof parsed.cron !== 'string') throw corrupt(id);
  return {
    id,
    type: parsed.type,
    queue: parsed.queue,
    cron: parsed.cron,
    timezone: parsed.timezone,
    input: parsed.input,
    priority: parsed.priority,
    overlap: parsed.overlap,
    catchup: parsed.catchup,
    paused: parsed.paused === true,
    nextAt: parsed.nextAt ?? undefined,
    lastFlowId: parsed.lastFlowId ?? undefined,
    bufferedAt: parsed.bufferedAt ?? undefined,
    revision: Number(revision),
    createdAt: Number(createdAt),
    updatedAt: Number(updatedAt),
  };
}

/** The state as the JSON a schedule's hash holds. */
function encode(state: ScheduleState): string {
  return JSON.stringify({
    type: state.type,
    queue: state.queue,
    cron: state.cron,
    timezone: state.timezone,
    input: state.input,
    priority: state.priority,
    overlap: state.overlap,
    catchup: state.catchup,
    paused: state.paused,
    nextAt: state.nextAt,
    lastFlowId: state.lastFlowId,
    bufferedAt: state.bufferedAt,
  });
}

/** The schedules of one Redis store. */
export class RedisSchedules implements ScheduleLog {
  readonly #client: RedisClient;
  readonly #runner: ScriptRunner;
  readonly #keys: KeyLayout;

  constructor(runner: ScriptRunner, keys: KeyLayout) {
    this.#client = runner.client;
    this.#runner = runner;
    this.#keys = keys;
  }

  get #index(): string {
    return `${this.#keys.base}schedules`;
  }

  #hash(id: string): string {
    return `${this.#keys.base}schedule:${id}`;
  }

  /** {@inheritDoc @ergon/core!ScheduleLog.createSchedule} */
  createSchedule(request: NewSchedule): Promise<CreateScheduleResult> {
    return this.#call('create schedule', async () => {
      const [created, ...stored] = (await this.#script(
        'create-schedule',
        [this.#index, this.#hash(request.id)],
        [request.id, encode(request.state), String(request.now)],
      )) as [number, ...Stored];
      return { schedule: decode(request.id, stored), created: created === 1 };
    });
  }

  /** {@inheritDoc @ergon/core!ScheduleLog.getSchedule} */
  getSchedule(id: string): Promise<ScheduleRecord | undefined> {
    return this.#call('get schedule', async () => {
      const stored = (await this.#client.hmget(
        this.#hash(id),
        'state',
        'revision',
        'createdAt',
        'updatedAt',
      )) as Stored;
      return stored[0] === null ? undefined : decode(id, stored);
    });
  }

  /** {@inheritDoc @ergon/core!ScheduleLog.listSchedules} */
  listSchedules(query: ScheduleQuery): Promise<ScheduleRecord[]> {
    return this.#call('list schedules', async () => {
      const found: ScheduleRecord[] = [];
      let after = query.after;
      while (found.length < query.limit) {
        const want = query.types ? SCAN_PAGE : query.limit - found.length;
        const ids = await this.#client.zrangebylex(
          this.#index,
          after === undefined ? '-' : `(${after}`,
          '+',
          'LIMIT',
          0,
          want,
        );
        if (ids.length === 0) break;
        const pipeline = this.#client.pipeline();
        for (const id of ids) pipeline.hmget(this.#hash(id), 'state', 'revision', 'createdAt', 'updatedAt');
        const replies = (await pipeline.exec()) ?? [];
        for (const [i, id] of ids.entries()) {
          const [error, stored] = replies[i] ?? [];
          if (error) throw error;
          // Deleted between the two reads.
          if (!stored || (stored as Stored)[0] === null) continue;
          const schedule = decode(id, stored as Stored);
          if (query.types && !query.types.includes(schedule.type)) continue;
          found.push(schedule);
          if (found.length === query.limit) break;
        }
        if (ids.length < want) break;
        after = ids[ids.length - 1];
      }
      return found;
    });
  }

  /** {@inheritDoc @ergon/core!ScheduleLog.updateSchedule} */
  updateSchedule(request: UpdateScheduleRequest): Promise<ScheduleRecord | undefined> {
    return this.#call('update schedule', async () => {
      const stored = (await this.#script(
        'update-schedule',
        [this.#hash(request.id)],
        [String(request.revision), encode(request.state), String(request.now)],
      )) as Stored | null;
      return stored ? decode(request.id, stored) : undefined;
    });
  }

  /** {@inheritDoc @ergon/core!ScheduleLog.deleteSchedule} */
  deleteSchedule(request: DeleteScheduleRequest): Promise<boolean> {
    return this.#call('delete schedule', async () => {
      const deleted = await this.#script(
        'delete-schedule',
        [this.#index, this.#hash(request.id)],
        [request.id],
      );
      return Number(deleted) > 0;
    });
  }

  async #call<T>(action: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw toStoreError(error, { action });
    }
  }

  #script(name: ScriptName, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    return this.#runner.write(name, this.#keys, keys, args);
  }
}
