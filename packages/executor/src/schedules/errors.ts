/**
 * Errors of schedules, one class per condition a caller handles.
 *
 * @module
 */
import { ErgonError, ErrorCode, markErrorClass } from '@ergon/core';

/**
 * A schedule's configuration is refused at creation or update: `field` names
 * what is wrong (`cron`, `timezone`, `overlap`, `catchup`, `flow`, ...).
 */
export class InvalidScheduleError extends ErgonError {
  /** The schedule. */
  readonly scheduleId: string;
  /** The option that is wrong. */
  readonly field: string;
  constructor(scheduleId: string, field: string, message: string, cause?: unknown) {
    super(ErrorCode.INVALID_SCHEDULE, `schedule ${JSON.stringify(scheduleId)}: ${message}`, {
      cause,
      details: { scheduleId, field },
    });
    this.scheduleId = scheduleId;
    this.field = field;
  }
}
markErrorClass(InvalidScheduleError, '@ergon/executor/InvalidScheduleError');

/** No schedule with this id exists. */
export class ScheduleNotFoundError extends ErgonError {
  /** The id that was looked for. */
  readonly scheduleId: string;
  constructor(scheduleId: string) {
    super(
      ErrorCode.SCHEDULE_NOT_FOUND,
      `schedule ${JSON.stringify(scheduleId)} not found: check the id (\`ergon schedules list\` shows them)`,
      { details: { scheduleId } },
    );
    this.scheduleId = scheduleId;
  }
}
markErrorClass(ScheduleNotFoundError, '@ergon/executor/ScheduleNotFoundError');

/** A schedule with this id exists with another definition. */
export class ScheduleExistsError extends ErgonError {
  /** The schedule. */
  readonly scheduleId: string;
  constructor(scheduleId: string) {
    super(
      ErrorCode.SCHEDULE_EXISTS,
      `schedule ${JSON.stringify(scheduleId)} exists with another definition: change it with schedules.update, ` +
        'or delete it first',
      { details: { scheduleId } },
    );
    this.scheduleId = scheduleId;
  }
}
markErrorClass(ScheduleExistsError, '@ergon/executor/ScheduleExistsError');
