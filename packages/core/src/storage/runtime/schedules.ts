/**
 * The runtime wrapper's face of a store's schedules (`schedules.ts`): every
 * argument validated once, so stores keep only the compare-and-set itself.
 * A store without schedules is refused with a message that says so.
 *
 * @module
 */
import { ErrorCode, InvalidArgumentError } from '../../errors.js';
import type { ReadOptions } from '../call-options.js';
import {
  type CreateScheduleResult,
  type DeleteScheduleRequest,
  MAX_SCHEDULE_PAGE,
  type NewSchedule,
  type ScheduleLog,
  type ScheduleQuery,
  type ScheduleRecord,
  type ScheduleState,
  type UpdateScheduleRequest,
} from '../schedules.js';
import { checkId, checkName, checkNames, checkText, checkTime, checkWhole, show } from './validate.js';

/**
 * Longest schedule id: a tick's flow id is the schedule id, `@`, and the tick's
 * ISO time (24 characters), and must stay within the flow id limit (512).
 */
export const MAX_SCHEDULE_ID_LENGTH = 400;

const OVERLAPS: ReadonlySet<unknown> = new Set(['skip', 'buffer-one', 'allow']);

/** How the wrapper runs a call: refused after close, the signal honoured. */
export type RuntimeCall = <T>(
  action: string,
  options: { readonly signal?: AbortSignal | undefined } | undefined,
  run: () => Promise<T>,
) => Promise<T>;

function invalid(message: string): never {
  throw new InvalidArgumentError(message, { code: ErrorCode.INVALID_ARGUMENT });
}

/** A schedule id: a flow id short enough to prefix its ticks' flow ids. */
export function checkScheduleId(value: unknown): void {
  checkId(value, 'schedule id');
  if ((value as string).length > MAX_SCHEDULE_ID_LENGTH) {
    invalid(
      `schedule id must be at most ${MAX_SCHEDULE_ID_LENGTH} characters (got ${(value as string).length})`,
    );
  }
}

/** A catch-up policy: `none`, `latest` or a whole number ≥ 1. */
export function isScheduleCatchup(value: unknown): boolean {
  return value === 'none' || value === 'latest' || (Number.isSafeInteger(value) && (value as number) >= 1);
}

/** A schedule's whole state, definition and cursor. */
export function checkScheduleState(state: ScheduleState): void {
  if (typeof state !== 'object' || state === null) invalid('a schedule state object is required');
  checkName(state.type, 'schedule flow type');
  checkName(state.queue, 'schedule queue');
  checkName(state.cron, 'cron expression');
  checkName(state.timezone, 'schedule time zone');
  checkText(state.input, 'schedule input');
  if (!Number.isSafeInteger(state.priority))
    invalid(`schedule priority must be an integer (got ${show(state.priority)})`);
  if (!OVERLAPS.has(state.overlap)) {
    invalid(`schedule overlap must be 'skip', 'buffer-one' or 'allow' (got ${show(state.overlap)})`);
  }
  if (!isScheduleCatchup(state.catchup)) {
    invalid(`schedule catchup must be 'none', 'latest' or a whole number ≥ 1 (got ${show(state.catchup)})`);
  }
  if (typeof state.paused !== 'boolean')
    invalid(`schedule paused must be true or false (got ${show(state.paused)})`);
  if (state.nextAt !== undefined) checkTime(state.nextAt, 'schedule nextAt');
  if (state.bufferedAt !== undefined) checkTime(state.bufferedAt, 'schedule bufferedAt');
  if (state.lastFlowId !== undefined) checkId(state.lastFlowId, 'schedule lastFlowId');
}

/** The checked schedules of a store. Created by the runtime wrapper. */
export class RuntimeSchedules {
  readonly #store: string;
  readonly #inner: ScheduleLog | undefined;
  readonly #call: RuntimeCall;

  constructor(store: string, inner: ScheduleLog | undefined, call: RuntimeCall) {
    this.#store = store;
    this.#inner = inner;
    this.#call = call;
  }

  /** True when the store keeps schedules. */
  get supported(): boolean {
    return this.#inner !== undefined;
  }

  /** {@inheritDoc ScheduleLog.createSchedule} */
  createSchedule(request: NewSchedule): Promise<CreateScheduleResult> {
    return this.#run('create schedule', request, (inner) => {
      checkScheduleId(request?.id);
      checkScheduleState(request.state);
      checkTime(request.now, 'now');
      return inner.createSchedule(request);
    });
  }

  /** {@inheritDoc ScheduleLog.getSchedule} */
  getSchedule(id: string, options?: ReadOptions): Promise<ScheduleRecord | undefined> {
    return this.#run('get schedule', options, (inner) => {
      checkScheduleId(id);
      return inner.getSchedule(id, options);
    });
  }

  /**
   * Schedules in id order, after `after`, at most `limit` (capped at {@link MAX_SCHEDULE_PAGE}).
   * A type filter of no types lists nothing.
   */
  listSchedules(query: ScheduleQuery): Promise<ScheduleRecord[]> {
    return this.#run('list schedules', query, (inner) => {
      checkWhole(query?.limit, 'schedule list limit', 1);
      const limit = Math.min(query.limit, MAX_SCHEDULE_PAGE);
      if (query.after !== undefined) checkScheduleId(query.after);
      const types = query.types === undefined ? undefined : checkNames(query.types, 'schedule types');
      if (types?.length === 0) return Promise.resolve([]);
      return inner.listSchedules({ ...query, types, limit });
    });
  }

  /** {@inheritDoc ScheduleLog.updateSchedule} */
  updateSchedule(request: UpdateScheduleRequest): Promise<ScheduleRecord | undefined> {
    return this.#run('update schedule', request, (inner) => {
      checkScheduleId(request?.id);
      checkWhole(request.revision, 'schedule revision', 1);
      checkScheduleState(request.state);
      checkTime(request.now, 'now');
      return inner.updateSchedule(request);
    });
  }

  /** {@inheritDoc ScheduleLog.deleteSchedule} */
  deleteSchedule(request: DeleteScheduleRequest): Promise<boolean> {
    return this.#run('delete schedule', request, (inner) => {
      checkScheduleId(request?.id);
      return inner.deleteSchedule(request);
    });
  }

  #run<T>(
    action: string,
    options: { readonly signal?: AbortSignal | undefined } | undefined,
    run: (inner: ScheduleLog) => Promise<T>,
  ): Promise<T> {
    return this.#call(action, options, () => {
      if (!this.#inner) {
        invalid(
          `${action}: the ${this.#store} store keeps no schedules; use a store that does (memory, sqlite, redis, postgres)`,
        );
      }
      return run(this.#inner);
    });
  }
}
