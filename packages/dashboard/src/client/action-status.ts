/**
 * What the action boxes share: a status line that says what an action did or
 * why it was refused, and a button that asks for a second click before it acts.
 */
import { ApiFailure } from './api.js';
import { replace } from './dom.js';

/** Reports into `status`: `ok` what an action did, `failed` why it was refused. */
export function statusLine(status: HTMLElement): {
  ok: (...text: (Node | string)[]) => void;
  failed: (error: unknown) => void;
} {
  const show = (ok: boolean, text: (Node | string)[]) => {
    status.className = `action-status ${ok ? 'ok' : 'error'}`;
    replace(status, ...text);
  };
  return {
    ok: (...text) => show(true, text),
    failed: (error) =>
      show(false, [error instanceof ApiFailure ? `${error.message} [${error.code}]` : String(error)]),
  };
}

/**
 * Makes `button` ask first: its first click changes its label to `confirm` for five seconds,
 * a second click within them runs `action` (the button is disabled while it runs; `action`
 * returns true to keep it disabled after).
 */
export function confirmFirst(
  button: HTMLButtonElement,
  confirm: string,
  action: () => Promise<boolean>,
): void {
  const label = button.textContent ?? '';
  let armed = false;
  button.addEventListener('click', async () => {
    if (!armed) {
      armed = true;
      button.textContent = confirm;
      window.setTimeout(() => {
        armed = false;
        button.textContent = label;
      }, 5000);
      return;
    }
    armed = false;
    button.textContent = label;
    button.disabled = true;
    button.disabled = await action();
  });
}
