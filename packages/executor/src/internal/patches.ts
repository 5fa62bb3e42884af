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
