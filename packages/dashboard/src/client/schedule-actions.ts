/**
 * Actions on one schedule: pause or resume it, and start one flow now as a
 * tick would (asks for a second click; the schedule's own ticks are not
 * moved). Used on the Schedules list and on a schedule's page.
 */
import type { ActionResult } from '../api-types.js';
import { confirmFirst, statusLine } from './action-status.js';
import { act } from './api.js';
import { flowLink, h } from './dom.js';

/** What the buttons need of a schedule. */
export interface ScheduleRef {
  readonly id: string;
  readonly paused: boolean;
}

/**
 * Pause/resume and trigger buttons for `schedule`; `status` shows what happened, `done`
 * refreshes the page after an action. Nothing but a note in read-only mode.
 */
export function scheduleButtons(
  schedule: ScheduleRef,
  readOnly: boolean,
  status: HTMLElement,
  done: () => void,
): HTMLElement {
  if (readOnly) return h('span', { class: 'muted small' }, 'read-only');
  const { ok, failed } = statusLine(status);
  const toggle = h(
    'button',
    { type: 'button', class: 'schedule-toggle', 'data-action': schedule.paused ? 'resume' : 'pause' },
    schedule.paused ? 'Resume' : 'Pause',
  );
  toggle.addEventListener('click', async () => {
    toggle.disabled = true;
    try {
      const action = schedule.paused ? 'schedule-resume' : 'schedule-pause';
      const result = await act<ActionResult>(action, { id: schedule.id });
      ok(`Schedule ${schedule.id} ${result.paused ? 'paused' : 'resumed'}.`);
      done();
    } catch (error) {
      failed(error);
      toggle.disabled = false;
    }
  });
  const trigger = h('button', { type: 'button', class: 'schedule-trigger' }, 'Run now');
  confirmFirst(trigger, 'Confirm run now', async () => {
    try {
      const result = await act<ActionResult>('schedule-trigger', { id: schedule.id });
      ok('Started ', result.id ? flowLink(result.id) : 'a flow', '.');
      done();
    } catch (error) {
      failed(error);
    }
    return false;
  });
  return h('span', { class: 'buttons' }, toggle, trigger);
}
