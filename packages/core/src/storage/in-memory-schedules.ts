/**
 * The in-memory store's schedules (`schedules.ts`): a map by id; every
 * method atomic because none awaits.
 *
 * @module
 */
import type {
  CreateScheduleResult,
  DeleteScheduleRequest,
  NewSchedule,
  ScheduleLog,
  ScheduleQuery,
  ScheduleRecord,
  UpdateScheduleRequest,
} from './schedules.js';

/** Schedules in process memory. Nothing survives the process. */
export class MemorySchedules implements ScheduleLog {
  readonly #schedules = new Map<string, ScheduleRecord>();

  /** {@inheritDoc ScheduleLog.createSchedule} */
  async createSchedule(request: NewSchedule): Promise<CreateScheduleResult> {
    const existing = this.#schedules.get(request.id);
    if (existing) return { schedule: existing, created: false };
    const schedule: ScheduleRecord = Object.freeze({
      ...request.state,
      id: request.id,
      revision: 1,
      createdAt: request.now,
      updatedAt: request.now,
    });
    this.#schedules.set(request.id, schedule);
    return { schedule, created: true };
  }

  /** {@inheritDoc ScheduleLog.getSchedule} */
  async getSchedule(id: string): Promise<ScheduleRecord | undefined> {
    return this.#schedules.get(id);
  }

  /** {@inheritDoc ScheduleLog.listSchedules} */
  async listSchedules(query: ScheduleQuery): Promise<ScheduleRecord[]> {
    const { after, types, limit } = query;
    return [...this.#schedules.values()]
      .filter((s) => (after === undefined || s.id > after) && (!types || types.includes(s.type)))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, limit);
  }

  /** {@inheritDoc ScheduleLog.updateSchedule} */
  async updateSchedule(request: UpdateScheduleRequest): Promise<ScheduleRecord | undefined> {
    const current = this.#schedules.get(request.id);
    if (!current || current.revision !== request.revision) return undefined;
    const schedule: ScheduleRecord = Object.freeze({
      ...request.state,
      id: request.id,
      revision: current.revision + 1,
      createdAt: current.createdAt,
      updatedAt: request.now,
    });
    this.#schedules.set(request.id, schedule);
    return schedule;
  }

  /** {@inheritDoc ScheduleLog.deleteSchedule} */
  async deleteSchedule(request: DeleteScheduleRequest): Promise<boolean> {
    return this.#schedules.delete(request.id);
  }
}
