/**
 * Loading the user's flows: a module (path relative to the working
 * directory) whose named exports, default export and `flows` array hold flow
 * definitions (`flow(...)`) or classes with a `@Flow()` method.
 *
 * @module
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type AnyFlowDefinition, toFlowDefinition } from '@ergon/executor';
import { CliError } from './errors.js';
import { oneLine } from './format.js';

/** The flow types a module provides, by type name. */
export type FlowRegistry = ReadonlyMap<string, AnyFlowDefinition>;

/**
 * Imports `modulePath` and collects its flow types. Exports that are neither
 * definitions nor decorated classes are ignored (helpers, constants).
 *
 * @throws CliError when the file is missing, fails to load, exports no flow,
 *   or exports two different flows of one name.
 */
export async function loadFlows(modulePath: string): Promise<FlowRegistry> {
  const file = resolve(modulePath);
  if (!statSync(file, { throwIfNoEntry: false })?.isFile()) {
    throw new CliError(`cannot load flows: no file ${modulePath} (paths are relative to ${process.cwd()})`);
  }
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new CliError(`cannot load flows from ${modulePath}: ${oneLine(reason)}`, { cause: error });
  }
  const found = new Map<string, AnyFlowDefinition>();
  const add = (candidate: unknown) => {
    const definition = asDefinition(candidate);
    if (!definition) return;
    const existing = found.get(definition.name);
    if (existing && existing !== definition) {
      throw new CliError(`${modulePath} exports two different flows named '${definition.name}': rename one`);
    }
    found.set(definition.name, definition);
  };
  for (const value of Object.values(exports)) {
    if (Array.isArray(value)) for (const item of value) add(item);
    else add(value);
  }
  if (found.size === 0) {
    throw new CliError(
      `${modulePath} exports no flows: export flow(...) definitions, classes with a @Flow() method, or a \`flows\` array of them`,
    );
  }
  return found;
}

/** The flow type `type` from `registry`. @throws CliError listing the known ones. */
export function findFlow(registry: FlowRegistry, type: string, modulePath: string): AnyFlowDefinition {
  const definition = registry.get(type);
  if (!definition) {
    throw new CliError(
      `${modulePath} has no flow type '${type}': it exports ${[...registry.keys()].map((k) => `'${k}'`).join(', ')}`,
    );
  }
  return definition;
}

function asDefinition(value: unknown): AnyFlowDefinition | undefined {
  const isDefinition =
    typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'flow';
  if (!isDefinition && typeof value !== 'function') return undefined;
  try {
    return toFlowDefinition(value as AnyFlowDefinition);
  } catch {
    // A function or class that is not a flow: not ours to run.
    return undefined;
  }
}
