/**
 * `client.schedules`: cron schedules that start one flow per tick, kept in
 * the store so every worker fires them (DESIGN §9). Create, read, list with
 * next fire times, pause, resume, update and delete. Configurations that
 * cannot work are refused here with {@link InvalidScheduleError}.
 *
 * @module
 */
import {
  type Clock,
  type Codec,
  InvalidArgumentError,
  type RuntimeExecutionLog,
  type ScheduleCatchup,
  type ScheduleOverlap,
  type ScheduleRecord,
  type ScheduleState,
} from '@ergon/core';
import { toFlowDefinition } from '../decorators.js';
import { type FlowDefinition, validateName } from '../definitions.js';
import { compileCron } from './cron.js';
import { InvalidScheduleError, ScheduleExistsError, ScheduleNotFoundError } from './errors.js';
import { checkDefinition, sameDefinition, validateQueue } from './definition.js';
import { stateOf } from './firing.js';
import { type ScheduleInfo, toScheduleInfo } from './info.js';
import { schedulesChanged } from './notify.js';

/** Options of {@link Schedules.create}. */
export interface CreateScheduleOptions<I = unknown> {
  /** Unique id (up to 400 characters of a flow id's alphabet); each tick's flow id is `<id>@<ISO tick time>`. */
  readonly id: string;
  /** The flow each tick starts: its definition, or its type name (then checked against the registered workers). */
  readonly flow: FlowDefinition<I, unknown> | string;
  /** Cron expression: 5 fields (minute hour day month weekday), or 6 with seconds first. */
  readonly cron: string;
  /** IANA time zone the expression is read in. Default `'UTC'`. */
  readonly timezone?: string;
  /** Input of every started flow. */
  readonly input?: I;
  /** While the previous tick's flow runs: `'skip'` (default), `'buffer-one'` or `'allow'`. */
  readonly overlap?: ScheduleOverlap;
  /**
   * Missed ticks (more than `SCHEDULE_GRACE_MS` late, after downtime) that still start:
   * `'none'`, `'latest'` (default) or up to N of the most recent.
   */
  readonly catchup?: ScheduleCatchup;
  /** Queue of the started flows. Default the definition's, or `'default'`. */
  readonly queue?: string;
  /** Priority of the started flows. Default 0. */
  readonly priority?: number;
  /** Create it paused. Default false. */
  readonly paused?: boolean;
}

/** Options of {@link Schedules.update}: what changes. A new cron or time zone restarts the count from now. */
export interface UpdateScheduleOptions {
  /** New cron expression. */
  readonly cron?: string;
  /** New time zone. */
  readonly timezone?: string;
  /** New input of the flows started from now on. */
  readonly input?: unknown;
  /** New overlap policy. */
  readonly overlap?: ScheduleOverlap;
  /** New catch-up policy. */
  readonly catchup?: ScheduleCatchup;
  /** New queue of the started flows. */
  readonly queue?: string;
  /** New priority of the started flows. */
  readonly priority?: number;
}

/** Options of {@link Schedules.list}. */
export interface ListSchedulesOptions {
  /** Only schedules of this flow type. */
  readonly type?: string;
  /** At most this many (default 100, at most 1000). */
  readonly limit?: number;
  /** The `nextCursor` of the previous page. */
  readonly cursor?: string;
}

/** Compare-and-set attempts of one change before giving up (others kept changing it). */
const MAX_ATTEMPTS = 20;

/** Schedules in a store. Reach it as `client.schedules`. */
export class Schedules {
  readonly #store: RuntimeExecutionLog;
  readonly #clock: Clock;
  readonly #codec: Codec;

  /** @internal Built by the client. */
  constructor(deps: { readonly store: RuntimeExecutionLog; readonly clock: Clock; readonly codec: Codec }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#codec = deps.codec;
  }

  /**
   * Creates a schedule; its first tick is the first fire time after now. Creating it again
   * with the same definition returns it unchanged.
   * @throws InvalidScheduleError for a cron expression that is malformed or never fires, an
   *   unknown time zone, a bad overlap or catch-up policy, or a flow type no registered worker
   *   runs; ScheduleExistsError when the id has another definition.
   */
  async create<I>(options: CreateScheduleOptions<I>): Promise<ScheduleInfo> {
    if (typeof options !== 'object' || options === null) {
      throw new InvalidArgumentError('schedules.create needs an options object ({ id, flow, cron, ... })');
    }
    const id = options.id;
    const now = this.#clock.now();
    const { type, queue, input } = await this.#flowOf(id, options);
    const definition = checkDefinition(id, {
      type,
      queue,
      cron: options.cron,
      timezone: options.timezone ?? 'UTC',
      input,
      priority: options.priority ?? 0,
      overlap: options.overlap ?? 'skip',
      catchup: options.catchup ?? 'latest',
    });
    const paused = options.paused ?? false;
    if (typeof paused !== 'boolean')
      throw new InvalidScheduleError(id, 'paused', 'paused must be true or false');
    const times = compileCron(id, definition.cron, definition.timezone, now);
    const state: ScheduleState = {
      ...definition,
      paused,
      nextAt: times.next(now),
      lastFlowId: undefined,
      bufferedAt: undefined,
    };
    const { schedule, created } = await this.#store.schedules.createSchedule({ id, state, now });
    if (!created && !sameDefinition(schedule, state)) throw new ScheduleExistsError(id);
    schedulesChanged(this.#store);
    return toScheduleInfo(this.#codec, schedule);
  }

  /** The schedule. @throws ScheduleNotFoundError. */
  async get(id: string): Promise<ScheduleInfo> {
    return toScheduleInfo(this.#codec, await this.#read(id));
  }

  /** Schedules in id order, with their next fire times, paged by `cursor`. */
  async list(options: ListSchedulesOptions = {}): Promise<{
    /** The schedules of this page. */
    schedules: ScheduleInfo[];
    /** Pass as `cursor` for the next page; undefined on the last one. */
    nextCursor?: string | undefined;
  }> {
    const limit = options.limit ?? 100;
    const types = options.type === undefined ? undefined : [validateName(options.type, 'flow type')];
    const page = await this.#store.schedules.listSchedules({
      types,
      after: options.cursor,
      limit: limit + 1,
    });
    const shown = page.slice(0, limit);
    return {
      schedules: shown.map((s) => toScheduleInfo(this.#codec, s)),
      nextCursor: page.length > limit ? shown[shown.length - 1]?.id : undefined,
    };
  }

  /** Pauses: no tick starts until resumed. Pausing a paused schedule changes nothing. @throws ScheduleNotFoundError. */
  pause(id: string): Promise<ScheduleInfo> {
    return this.#change(id, (s) => (s.paused ? undefined : { paused: true }));
  }

  /**
   * Resumes a paused schedule from the next fire time after now: ticks that fell in the pause
   * do not start. Resuming a running schedule changes nothing. @throws ScheduleNotFoundError.
   */
  resume(id: string): Promise<ScheduleInfo> {
    return this.#change(id, (s, now) =>
      s.paused ? { paused: false, nextAt: compileCron(id, s.cron, s.timezone, now).next(now) } : undefined,
    );
  }

  /**
   * Changes a schedule's definition. A new cron expression or time zone takes effect from
   * the next fire time after now; the rest applies to the ticks started from now on.
   * @throws InvalidScheduleError, ScheduleNotFoundError.
   */
  update(id: string, changes: UpdateScheduleOptions): Promise<ScheduleInfo> {
    if (typeof changes !== 'object' || changes === null) {
      throw new InvalidArgumentError('schedules.update needs an object of changes ({ cron, input, ... })');
    }
    const input =
      'input' in changes ? this.#codec.encode(changes.input, `input of schedule ${id}`) : undefined;
    return this.#change(id, (s, now) => {
      const definition = checkDefinition(id, {
        type: s.type,
        queue: changes.queue === undefined ? s.queue : validateQueue(id, changes.queue),
        cron: changes.cron ?? s.cron,
        timezone: changes.timezone ?? s.timezone,
        input: input ?? s.input,
        priority: changes.priority ?? s.priority,
        overlap: changes.overlap ?? s.overlap,
        catchup: changes.catchup ?? s.catchup,
      });
      const times = compileCron(id, definition.cron, definition.timezone, now);
      const retimed = definition.cron !== s.cron || definition.timezone !== s.timezone;
      return retimed ? { ...definition, nextAt: times.next(now) } : definition;
    });
  }

  /** Deletes a schedule; flows it started stay. @throws ScheduleNotFoundError. */
  async delete(id: string): Promise<void> {
    if (!(await this.#store.schedules.deleteSchedule({ id }))) throw new ScheduleNotFoundError(id);
  }

  async #read(id: string): Promise<ScheduleRecord> {
    const schedule = await this.#store.schedules.getSchedule(id);
    if (!schedule) throw new ScheduleNotFoundError(id);
    return schedule;
  }

  /** Read, change, compare-and-set; again while someone else changed it in between. */
  async #change(
    id: string,
    change: (s: ScheduleRecord, now: number) => Partial<ScheduleState> | undefined,
  ): Promise<ScheduleInfo> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.#read(id);
      const now = this.#clock.now();
      const changed = change(current, now);
      if (!changed) return toScheduleInfo(this.#codec, current);
      const updated = await this.#store.schedules.updateSchedule({
        id,
        revision: current.revision,
        state: { ...stateOf(current), ...changed },
        now,
      });
      if (updated) {
        schedulesChanged(this.#store);
        return toScheduleInfo(this.#codec, updated);
      }
    }
    throw new InvalidArgumentError(
      `schedule ${JSON.stringify(id)} kept changing under this update (${MAX_ATTEMPTS} attempts); try again`,
    );
  }

  /** The flow type, queue and encoded input of a new schedule. */
  async #flowOf<I>(
    id: string,
    options: CreateScheduleOptions<I>,
  ): Promise<{ type: string; queue: string; input: string }> {
    const { flow } = options;
    if (typeof flow === 'string') {
      const type = validateName(flow, 'flow type');
      await this.#checkTypeKnown(id, type);
      const queue = validateQueue(id, options.queue ?? 'default');
      return { type, queue, input: this.#codec.encode(options.input, `input of schedule ${id}`) };
    }
    if (typeof flow !== 'object' && typeof flow !== 'function') {
      throw new InvalidScheduleError(id, 'flow', 'flow must be a flow definition or a flow type name');
    }
    const def = toFlowDefinition(flow) as FlowDefinition<I, unknown>;
    const queue = validateQueue(id, options.queue ?? def.options.queue);
    const stored = def.storeInput ? def.storeInput(options.input as I) : options.input;
    return { type: def.name, queue, input: this.#codec.encode(stored, `input of schedule ${id}`) };
  }

  /** Refuses a type name no registered worker runs, when workers are registered at all. */
  async #checkTypeKnown(id: string, type: string): Promise<void> {
    const workers = (await this.#store.listWorkers()).filter((w) => w.kind === 'worker');
    if (workers.length === 0 || workers.some((w) => w.types.includes(type))) return;
    const known = [...new Set(workers.flatMap((w) => w.types))].sort().join(', ');
    throw new InvalidScheduleError(
      id,
      'flow',
      `no registered worker runs flow type '${type}' (they run: ${known}); check the name, or pass the flow ` +
        'definition to schedule a type before its workers start',
    );
  }
}
