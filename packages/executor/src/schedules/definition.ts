/**
 * Checks of a schedule's definition that stores do not make: its policies
 * named in the caller's terms, and whether a stored schedule has a definition.
 *
 * @module
 */
import {
  isScheduleCatchup,
  type ScheduleOverlap,
  type ScheduleRecord,
  type ScheduleState,
} from '@ergon/core';
import { validateName } from '../definitions.js';
import { InvalidScheduleError } from './errors.js';

/** A schedule's definition: its state without the cursor. */
export type ScheduleDefinitionState = Omit<ScheduleState, 'paused' | 'nextAt' | 'lastFlowId' | 'bufferedAt'>;

const OVERLAPS: readonly ScheduleOverlap[] = ['skip', 'buffer-one', 'allow'];

/** Checks the policies of a definition; returns it. @throws InvalidScheduleError. */
export function checkDefinition(id: string, d: ScheduleDefinitionState): ScheduleDefinitionState {
  if (!OVERLAPS.includes(d.overlap)) {
    throw new InvalidScheduleError(
      id,
      'overlap',
      `overlap must be 'skip', 'buffer-one' or 'allow' (got ${JSON.stringify(d.overlap)})`,
    );
  }
  if (!isScheduleCatchup(d.catchup)) {
    throw new InvalidScheduleError(
      id,
      'catchup',
      `catchup must be 'none', 'latest' or a whole number ≥ 1 of missed ticks (got ${JSON.stringify(d.catchup)})`,
    );
  }
  if (!Number.isSafeInteger(d.priority)) {
    throw new InvalidScheduleError(id, 'priority', `priority must be an integer (got ${String(d.priority)})`);
  }
  return d;
}

/** A queue name of a schedule. @throws InvalidScheduleError. */
export function validateQueue(id: string, queue: string): string {
  try {
    return validateName(queue, 'queue name');
  } catch (error) {
    throw new InvalidScheduleError(id, 'queue', (error as Error).message, error);
  }
}

/** True when the stored schedule has the definition of `state`. */
export function sameDefinition(s: ScheduleRecord, state: ScheduleState): boolean {
  return (
    s.type === state.type &&
    s.queue === state.queue &&
    s.cron === state.cron &&
    s.timezone === state.timezone &&
    s.input === state.input &&
    s.priority === state.priority &&
    s.overlap === state.overlap &&
    s.catchup === state.catchup
  );
}
