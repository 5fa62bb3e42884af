import type { ChangeMessage } from '../../api-types.js';
import { ApiFailure } from '../api.js';
import { h, replace } from '../dom.js';

/** What a route shows. */
export interface Page {
  /** The page's root element. */
  readonly el: HTMLElement;
  /** Loads or reloads its data (called at first and on each live update). */
  refresh(): Promise<void>;
  /** The flow it shows, so the event stream also watches that flow. */
  readonly flowId?: string | undefined;
  /** Whether a live change concerns it; by default, when lists and counts may have changed. */
  wants?(change: ChangeMessage): boolean;
  /** Called when the page is left. */
  dispose?(): void;
}

/** Runs `load` and shows a failure in `box` instead of throwing. */
export async function guarded(box: HTMLElement, load: () => Promise<void>): Promise<void> {
  try {
    await load();
    box.querySelector(':scope > .load-error')?.remove();
  } catch (error) {
    const message =
      error instanceof ApiFailure ? `${error.message} [${error.code}]` : `could not load: ${String(error)}`;
    const shown = box.querySelector(':scope > .load-error');
    if (shown) replace(shown, message);
    else box.prepend(h('p', { class: 'error load-error' }, message));
  }
}
