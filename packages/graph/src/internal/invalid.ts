import { ErgonError, ErrorCode } from '@ergon/core';

/** Why a definition was refused; carried as `details.reason`. */
export type InvalidReason =
  | 'bad-graph-name'
  | 'bad-node'
  | 'duplicate-name'
  | 'duplicate-dependency'
  | 'unknown-dependency'
  | 'cycle';

/**
 * The `DAG_INVALID` error for a refused definition. `details` always holds
 * `graph`, `reason` and `nodes` (the names involved), plus `extra`.
 */
export function invalidGraph(
  graph: string,
  reason: InvalidReason,
  message: string,
  options: { nodes: readonly string[]; extra?: Record<string, unknown> },
): ErgonError {
  return new ErgonError(ErrorCode.DAG_INVALID, `graph ${formatName(graph)} is invalid: ${message}`, {
    details: { graph, reason, nodes: [...options.nodes], ...options.extra },
  });
}

/**
 * A node name as it appears in messages: bare when it is a plain word (so a
 * cycle reads `A → B → C → A`), JSON-quoted otherwise so odd names cannot
 * blur the message.
 */
export function formatName(name: string): string {
  return /^[\w.:@/-]+$/.test(name) ? name : JSON.stringify(name);
}
