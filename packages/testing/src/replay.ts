/**
 * A vitest helper over the executor's `replayCheck`: asserts that recorded
 * histories replay on the current flow code, and fails the test with one line
 * per divergent flow (its position, both keys, the code location). This
 * package cannot import the executor (it is the executor's dev dependency),
 * so the test passes `replayCheck` in; the part used is declared here.
 *
 * @module
 */
import { expect } from 'vitest';

/** One flow's verdict, as `replayCheck` reports it (the fields the helper reads). */
export interface ReplayVerdict {
  /** `ok`, `diverged`, `unknown-type` or `error`. */
  readonly status: string;
  /** The flow. */
  readonly flowId: string;
  /** Its type. */
  readonly type: string;
  /** What went wrong, for people (absent when `ok`). */
  readonly message?: string;
}

/** The part of `replayCheck`'s report the helper reads. */
export interface ReplayReport<V extends ReplayVerdict = ReplayVerdict> {
  /** True when every flow replays. */
  readonly passed: boolean;
  /** Flows checked. */
  readonly checked: number;
  /** The flows that do not replay. */
  readonly problems: readonly V[];
}

/** `replayCheck` of `@ergon/executor`, or anything of its shape. */
export type ReplayCheckFn<O, V extends ReplayVerdict> = (options: O) => Promise<ReplayReport<V>>;

/**
 * Runs `check(options)` and fails the test unless every history replays on the given code,
 * with one line per problem. Resolves with the report (to assert more, say that flows were
 * checked at all: `expect(report.checked).toBeGreaterThan(0)`).
 *
 * @example
 * ```ts
 * import { replayCheck } from '@ergon/executor';
 * await expectReplays(replayCheck, { store, flows: [orderFlowV2] });
 * ```
 */
export async function expectReplays<O, V extends ReplayVerdict>(
  check: ReplayCheckFn<O, V>,
  options: O,
): Promise<ReplayReport<V>> {
  const report = await check(options);
  if (report.problems.length > 0) {
    const lines = report.problems.map((p) => `  ${p.message ?? `flow ${p.flowId} (${p.type}): ${p.status}`}`);
    // One line per flow, whole: a matcher's diff would cut them short.
    throw new Error(
      `${report.problems.length} of ${report.checked} recorded flows do not replay on this code:\n${lines.join('\n')}`,
    );
  }
  return report;
}

/**
 * Runs `check(options)` and fails the test unless exactly the flows `flowIds` diverge (in any
 * order): for a test that a change touches the flows it should, and only those.
 */
export async function expectDiverges<O, V extends ReplayVerdict>(
  check: ReplayCheckFn<O, V>,
  options: O,
  flowIds: readonly string[],
): Promise<ReplayReport<V>> {
  const report = await check(options);
  expect(report.problems.map((p) => p.flowId).sort(), 'the flows that do not replay on this code').toEqual(
    [...flowIds].sort(),
  );
  return report;
}
