/**
 * Patch markers (`ctx.patched`, `ctx.deprecatePatch`): a history record of kind
 * `patch`, key `patch:<id>#0`, written when new code first reaches a patch.
 * Its result says whether `deprecatePatch` wrote it: replay may pass over a
 * deprecated marker the code no longer reaches, never over a live one.
 *
 * Also where a non-determinism was called from: the code location captured
 * when the cursor refused a call, for `replayCheck` to report.
 *
 * @module
 */
import type { Codec, OperationRecord } from '@ergon/core';
import { validateName } from '../definitions.js';
import { FlowCancelledError } from '../errors.js';
import type { ActivationOptions } from './activation-types.js';
import type { Liveness } from './liveness.js';
import type { Positions } from './positions.js';
import type { Recorder } from './recorder.js';

/** What replaying or writing a marker (a patch's, a version's) needs of its activation. */
export interface MarkerHost {
  readonly flowId: string;
  readonly options: ActivationOptions;
  readonly recorder: Recorder;
  readonly liveness: Liveness;
  readonly positions: Positions;
  /** True once the activation ended. */
  ended(): boolean;
}

/** The operation name of patch `id`. */
export function patchName(id: string): string {
  return `patch:${id}`;
}

/** The encoded result of a marker of patch `id`. */
export function encodeMarker(codec: Codec, id: string, deprecated: boolean): string {
  return codec.encode({ patch: id, deprecated }, `marker of patch ${id}`);
}

/** True when `record` is a marker `deprecatePatch` wrote (an unreadable one counts as not). */
export function isDeprecatedMarker(codec: Codec, record: OperationRecord): boolean {
  if (record.kind !== 'patch' || record.result === undefined) return false;
  try {
    const value = codec.decode(record.result, `marker ${record.key}`) as { deprecated?: unknown } | null;
    return value?.deprecated === true;
  } catch {
    return false;
  }
}

/**
 * `ctx.patched` / `ctx.deprecatePatch` of one activation: the marker replayed in its turn,
 * written when the code runs past the recorded history, or absent (history from code without
 * the patch). The first answer for an id holds for the rest of the activation, and takes no
 * further position.
 */
export class PatchCalls {
  readonly #host: MarkerHost;
  /** What each patch id was answered in this activation. */
  readonly #answers = new Map<string, boolean>();

  constructor(host: MarkerHost) {
    this.#host = host;
  }

  /** Answers a call for patch `id`; `deprecated` for `ctx.deprecatePatch`. */
  async call(id: string, deprecated: boolean): Promise<'marked' | 'fresh' | 'absent'> {
    const memo = this.#answers.get(id);
    if (memo !== undefined) return memo ? 'marked' : 'absent';
    validateName(id, 'patch id');
    const host = this.#host;
    if (host.ended()) throw new FlowCancelledError(host.flowId, 'the flow activation has ended');
    const found = host.positions.patch(patchName(id));
    // `deprecatePatch` means the new code path: later calls of `patched` for it say true.
    this.#answers.set(id, deprecated || found.state !== 'absent');
    if (found.state === 'marked') await host.positions.replayed(found.slot);
    else if (found.state === 'fresh') {
      const { recorder } = host;
      const marker = recorder.final(found.slot, 'patch', {
        result: encodeMarker(host.options.codec, id, deprecated),
      });
      await host.liveness.track(recorder.write(marker));
    }
    return found.state;
  }
}

const locations = new WeakMap<Error, string>();

/** Frames of the engine itself, skipped when looking for the flow code's frame. */
const ENGINE_FRAME = /[\\/](executor[\\/](dist|src)[\\/]|node:|node_modules[\\/]@ergon[\\/]executor[\\/])/;

/** Notes where the call that raised `error` came from: the first stack frame outside the engine. */
export function captureLocation(error: Error): void {
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder);
  const frame = (holder.stack ?? '')
    .split('\n')
    .slice(1)
    .map((line) => line.trim())
    .find((line) => line.startsWith('at ') && !ENGINE_FRAME.test(line));
  if (frame) locations.set(error, frame.slice(3));
}

/** The code location noted for `error`, if any. */
export function locationOf(error: Error): string | undefined {
  return locations.get(error);
}
