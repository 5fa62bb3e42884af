/**
 * Actions on one flow: send a signal (name and a JSON payload, validated as
 * typed), cancel (asks for a second click), retry (opens the new flow).
 */
import type { ActionResult, FlowDetail } from '../api-types.js';
import { confirmFirst, statusLine } from './action-status.js';
import { act } from './api.js';
import { flowHref, h } from './dom.js';

const NAME = /^[A-Za-z0-9_.:@/-]{1,200}$/;

/** The actions box of `flow`; `done` refreshes the page after an action. */
export function actionsBox(
  flow: FlowDetail,
  readOnly: boolean,
  status: HTMLElement,
  done: () => void,
): HTMLElement {
  if (readOnly) return h('p', { class: 'muted', id: 'actions-readonly' }, 'Read-only: actions are off.');
  const { ok, failed } = statusLine(status);
  const box = h('div', { class: 'actions', id: 'actions' });
  if (flow.actions.signal) box.append(signalForm(flow, ok, failed, done));
  const buttons = h('div', { class: 'buttons' });
  if (flow.actions.cancel) {
    const cancel = h('button', { type: 'button', id: 'cancel', class: 'danger' }, 'Cancel flow');
    confirmFirst(cancel, 'Confirm cancel', async () => {
      try {
        const result = await act<ActionResult>('cancel', { id: flow.id });
        ok(result.status === 'cancelled' ? 'Cancelled.' : `Cancellation requested (${result.status}).`);
        done();
        return true;
      } catch (error) {
        failed(error);
        return false;
      }
    });
    buttons.append(cancel);
  }
  if (flow.actions.retry) {
    const retry = h('button', { type: 'button', id: 'retry' }, 'Retry as a new flow');
    retry.addEventListener('click', async () => {
      retry.disabled = true;
      try {
        const result = await act<ActionResult>('retry', { id: flow.id });
        ok(`Scheduled ${result.id}.`);
        if (result.id) location.hash = flowHref(result.id);
      } catch (error) {
        failed(error);
        retry.disabled = false;
      }
    });
    buttons.append(retry);
  }
  box.append(buttons);
  if (!flow.actions.signal && !flow.actions.cancel && !flow.actions.retry)
    box.append(h('p', { class: 'muted', id: 'actions-none' }, `No action applies to a ${flow.status} flow.`));
  return box;
}

function signalForm(
  flow: FlowDetail,
  sent: (text: string) => void,
  failed: (error: unknown) => void,
  done: () => void,
): HTMLFormElement {
  const waited = flow.waits.flatMap((w) => (w.kind === 'signal' ? [w.name] : []));
  const name = h('input', {
    id: 'signal-name',
    name: 'name',
    placeholder: 'signal name',
    value: waited[0] ?? '',
    list: 'signal-names',
    autocomplete: 'off',
  });
  const payload = h('textarea', {
    id: 'signal-payload',
    rows: 4,
    spellcheck: 'false',
    placeholder: '{"approved": true}',
  });
  const hint = h('p', { class: 'hint', id: 'signal-hint' });
  const send = h('button', { type: 'submit', id: 'signal-send' }, 'Send signal');
  const validate = (): { ok: boolean; value?: unknown } => {
    const text = payload.value.trim();
    let value: unknown;
    let ok = NAME.test(name.value);
    let message = ok ? '' : 'Name: 1–200 of A–Z a–z 0–9 _ . : @ / -';
    if (text !== '') {
      try {
        value = JSON.parse(text);
      } catch (error) {
        ok = false;
        message = `Payload is not JSON: ${(error as Error).message}`;
      }
    }
    hint.textContent = message || (text === '' ? 'No payload (undefined).' : 'Valid JSON.');
    hint.className = `hint ${message ? 'error' : 'ok'}`;
    payload.classList.toggle('invalid', message.startsWith('Payload'));
    send.disabled = !ok;
    return { ok, value };
  };
  name.addEventListener('input', validate);
  payload.addEventListener('input', validate);
  const form = h(
    'form',
    { class: 'signal-form', id: 'signal-form' },
    h('h3', null, 'Send a signal'),
    h('datalist', { id: 'signal-names' }, ...waited.map((n) => h('option', { value: n }))),
    h('label', null, 'Name ', name),
    h('label', { class: 'block' }, 'Payload (JSON) ', payload),
    hint,
    send,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const { ok, value } = validate();
    if (!ok) return;
    send.disabled = true;
    try {
      await act<ActionResult>('signal', { id: flow.id, name: name.value, payload: value });
      sent(`Signal '${name.value}' sent.`);
      done();
    } catch (error) {
      failed(error);
    } finally {
      send.disabled = false;
    }
  });
  validate();
  return form;
}
