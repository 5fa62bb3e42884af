/**
 * Flow versions: a flow type defined with a `version` records it when an
 * instance first runs, as a marker at position 0 (kind `patch`, key
 * `version:<v>#0`). A worker serves the recorded versions its `versions`
 * option names (by default each definition's own); a flow recorded under
 * another is released with {@link VersionNotServedError} as its visible
 * reason, never failed for it. Histories recorded before the type had a
 * version carry no marker and are served by every worker.
 *
 * @module
 */
import type { OperationRecord, RuntimeExecutionLog } from '@ergon/core';
import type { AnyFlowDefinition } from '../definitions.js';
import { VersionNotServedError } from '../errors.js';
import { encodeMarker, type MarkerHost } from './patches.js';

/** The operation name of the marker of version `version`. */
export function versionName(version: string): string {
  return `version:${version}`;
}

/** True for a version marker. */
export function isVersionMarker(record: OperationRecord): boolean {
  return record.kind === 'patch' && record.position === 0 && record.key.startsWith('version:');
}

/** The version `history` was recorded under, or undefined (no marker: recorded unversioned). */
export function recordedVersion(history: readonly OperationRecord[]): string | undefined {
  const first = history.find((r) => r.position === 0);
  if (!first || !isVersionMarker(first)) return undefined;
  const hash = first.key.lastIndexOf('#');
  return first.key.slice('version:'.length, hash < 0 ? undefined : hash);
}

/**
 * A versioned flow type's marker at position 0, as an activation starts: taken when recorded,
 * recorded when the flow runs for the first time; a history recorded unversioned keeps its
 * positions.
 */
export function takeVersionMarker(host: MarkerHost): void {
  const { options, positions } = host;
  const version = options.definition.options.version;
  if (version === undefined) return;
  const recorded = recordedVersion(options.history);
  if (recorded !== undefined) {
    positions.takeMarker(versionName(recorded));
    positions.skip(0);
    return;
  }
  if (options.history.length > 0) return;
  const slot = positions.takeMarker(versionName(version));
  if (options.replayOnly) return;
  // Deferred like a completed step's record: stored before the flow's next store call, or with
  // its finish or suspension, in order. (Written on its own, it could land after the finish of a
  // flow that ended first, and be refused.)
  const { recorder } = host;
  recorder.defer(recorder.final(slot, 'patch', { result: encodeMarker(options.codec, version, false) }));
}

/** Per flow type, the recorded versions a worker serves. */
export type ServedVersions = ReadonlyMap<string, readonly string[]>;

/**
 * The served versions of a worker: `versions[type]` where given, else the definition's own
 * version. Types without either are absent (every recorded version served).
 */
export function servedVersions(
  flows: ReadonlyMap<string, AnyFlowDefinition>,
  versions: Readonly<Record<string, readonly string[]>> = {},
): ServedVersions {
  const served = new Map<string, readonly string[]>();
  for (const [type, definition] of flows) {
    const given = versions[type];
    if (given) served.set(type, Object.freeze([...given]));
    else if (definition.options.version !== undefined)
      served.set(type, Object.freeze([definition.options.version]));
  }
  return served;
}

/**
 * The live workers that serve version `recorded` of `type`, from the `versions` their registry
 * entries report in `stats` (a worker without versions there serves every recorded version of
 * its types). Empty when none does, or when the registry cannot be read.
 */
export async function liveServers(
  store: RuntimeExecutionLog,
  type: string,
  recorded: string,
): Promise<string[]> {
  try {
    const workers = await store.listWorkers();
    return workers
      .filter((w) => {
        if (!w.types.includes(type)) return false;
        let served: unknown;
        try {
          served = (JSON.parse(w.stats ?? '{}') as { versions?: Record<string, unknown> }).versions?.[type];
        } catch {
          return false;
        }
        return served === undefined || (Array.isArray(served) && served.includes(recorded));
      })
      .map((w) => w.id);
  } catch {
    return [];
  }
}

/** The refusal of a flow whose recorded version this worker does not serve, or undefined. */
export function unservedVersion(
  flow: { readonly id: string; readonly type: string },
  history: readonly OperationRecord[],
  context: { readonly served: ServedVersions | undefined; readonly workerId: string },
): VersionNotServedError | undefined {
  const served = context.served?.get(flow.type);
  if (!served) return undefined;
  const recorded = recordedVersion(history);
  if (recorded === undefined || served.includes(recorded)) return undefined;
  return new VersionNotServedError({
    flowId: flow.id,
    type: flow.type,
    recorded,
    served,
    workerId: context.workerId,
  });
}

/** `refusal` with the live workers that serve its recorded version (read from the registry). */
export async function withLiveServers(
  store: RuntimeExecutionLog,
  refusal: VersionNotServedError,
): Promise<VersionNotServedError> {
  const live = await liveServers(store, refusal.type, refusal.recorded);
  const workerId = typeof refusal.details.workerId === 'string' ? refusal.details.workerId : 'this worker';
  return new VersionNotServedError({
    flowId: refusal.flowId,
    type: refusal.type,
    recorded: refusal.recorded,
    served: refusal.served,
    workerId,
    liveServers: live,
  });
}
