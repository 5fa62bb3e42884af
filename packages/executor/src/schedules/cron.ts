/**
 * Cron maths for schedules, on croner: parsing (5 fields, or 6 with seconds
 * first), IANA time zones, next and previous fire times. A configuration
 * that cannot fire is refused here, once, with {@link InvalidScheduleError}.
 *
 * @module
 */
import { Cron } from 'croner';
import { InvalidScheduleError } from './errors.js';

/** Fire times of one cron expression in one time zone. */
export interface CronTimes {
  /** The first fire time strictly after `after` (ms), or undefined when it fires no more. */
  next(after: number): number | undefined;
  /** Up to `count` fire times strictly before `before`, latest first. */
  previous(before: number, count: number): number[];
  /** Up to `count` fire times strictly after `after`, in order. */
  upcoming(after: number, count: number): number[];
}

/** True when `timezone` is an IANA time zone this runtime knows. */
export function isTimeZone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Compiles `cron` in `timezone` and checks that it fires after `now`.
 * @throws InvalidScheduleError (`field` `cron` or `timezone`) for malformed syntax, an unknown
 *   time zone, or an expression that never fires (February 30th).
 */
export function compileCron(scheduleId: string, cron: string, timezone: string, now: number): CronTimes {
  if (typeof timezone !== 'string' || timezone.length === 0 || !isTimeZone(timezone)) {
    throw new InvalidScheduleError(
      scheduleId,
      'timezone',
      `unknown time zone ${JSON.stringify(timezone)}: use an IANA name such as 'UTC' or 'Europe/Berlin'`,
    );
  }
  if (typeof cron !== 'string' || cron.trim().length === 0) {
    throw new InvalidScheduleError(
      scheduleId,
      'cron',
      'a cron expression is required, such as "*/5 * * * *"',
    );
  }
  let parsed: Cron;
  try {
    parsed = new Cron(cron, { paused: true, timezone, mode: '5-or-6-parts' });
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^CronPattern: /, '') : String(error);
    throw new InvalidScheduleError(
      scheduleId,
      'cron',
      `cron expression ${JSON.stringify(cron)} is not valid (${reason}); use 5 fields (minute hour day month ` +
        'weekday) or 6 with seconds first',
      error,
    );
  }
  const times: CronTimes = {
    next: (after) => parsed.nextRun(new Date(after))?.getTime() ?? undefined,
    previous: (before, count) => parsed.previousRuns(count, new Date(before)).map((d) => d.getTime()),
    upcoming: (after, count) => parsed.nextRuns(count, new Date(after)).map((d) => d.getTime()),
  };
  if (times.next(now) === undefined) {
    throw new InvalidScheduleError(
      scheduleId,
      'cron',
      `cron expression ${JSON.stringify(cron)} never fires (a date that does not exist, such as February 30th): ` +
        'check the day and month fields',
    );
  }
  return times;
}
