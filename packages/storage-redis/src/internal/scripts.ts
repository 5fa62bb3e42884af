/**
 * Loads the Lua scripts from `src/scripts` (copied to `dist/scripts` by the
 * build), resolving `--- @include "name"` lines, and runs them as ioredis
 * runs its custom commands: EVAL on a connection's first use of a script,
 * EVALSHA after, and EVAL again when Redis answers NOSCRIPT (a restarted Redis,
 * a flushed script cache).
 *
 * They are not defined as ioredis custom commands: ioredis copies every
 * defined command onto each pipeline it builds, auto-pipelining's included,
 * and with thirty scripts that copy cost a worker ~45 µs of CPU per store call.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { deadlinesOf, ScriptCommand } from './deadlines.js';

/** The scripts, by name without the `-<numKeys>` suffix. */
export const SCRIPT_NAMES = [
  'create-flow',
  'create-flow-claim',
  'import-flow',
  'claim',
  'claim-flow',
  'renew-lease',
  'release-lease',
  'record-operation',
  'set-progress',
  'consume-signal',
  'send-signal',
  'suspend',
  'finish-flow',
  'finish-claim',
  'apply-writes',
  'apply-claim',
  'request-cancel',
  'purge',
  'list-flows',
  'next-wake-at',
  'heartbeat-worker',
  'remove-worker',
  'configure-queue',
  'queue-state',
  'create-schedule',
  'update-schedule',
  'delete-schedule',
  'open-store',
  'place-flow',
  'admit',
  'admitted',
  'expire-leases',
] as const;

/** A script's name. */
export type ScriptName = (typeof SCRIPT_NAMES)[number];

/** One loaded script: its text with includes resolved, its SHA1, and how many KEYS it takes. */
export interface LoadedScript {
  readonly name: ScriptName;
  readonly numberOfKeys: number;
  readonly lua: string;
  readonly sha: string;
  /** The sockets this script was sent on in full (EVAL): later calls on them send its SHA1. */
  readonly sentOn: WeakSet<object>;
}

const SCRIPTS_DIR = new URL('../scripts/', import.meta.url);
const INCLUDE_LINE = /^--- @include "([a-z0-9/-]+)"[ \t]*$/gm;
const FILE_NAME = /^([a-z-]+)-(\d+)\.lua$/;

/**
 * Replaces each `--- @include "path"` line with that file (relative to the
 * scripts folder, `.lua` added), depth first, each file at most once per
 * script: includes are pasted by this loader, never by hand.
 */
export async function resolveIncludes(
  source: string,
  readInclude: (path: string) => Promise<string>,
  seen: Set<string> = new Set(),
): Promise<string> {
  const parts: string[] = [];
  let last = 0;
  for (const match of source.matchAll(INCLUDE_LINE)) {
    const path = match[1] ?? '';
    parts.push(source.slice(last, match.index));
    last = match.index + match[0].length;
    // Paths inside an include are written without the folder ("keys"), in a
    // script with it ("includes/keys"): both name the same file.
    const normalized = path.startsWith('includes/') ? path : `includes/${path}`;
    if (seen.has(normalized)) continue;
    seen.add(normalized);
    const text = await readInclude(normalized);
    parts.push(
      `-- >>> ${normalized}\n${await resolveIncludes(text, readInclude, seen)}\n-- <<< ${normalized}`,
    );
  }
  parts.push(source.slice(last));
  return parts.join('');
}

let cache: Promise<ReadonlyMap<ScriptName, LoadedScript>> | undefined;

/** Reads every script once per process. */
export function loadScripts(): Promise<ReadonlyMap<ScriptName, LoadedScript>> {
  cache ??= readAll().catch((error: unknown) => {
    cache = undefined;
    throw error;
  });
  return cache;
}

async function readAll(): Promise<ReadonlyMap<ScriptName, LoadedScript>> {
  const read = (path: string) => readFile(new URL(`${path}.lua`, SCRIPTS_DIR), 'utf8');
  const scripts = new Map<ScriptName, LoadedScript>();
  for (const file of await readdir(SCRIPTS_DIR)) {
    const match = FILE_NAME.exec(file);
    if (!match) continue;
    const name = match[1] as ScriptName;
    if (!SCRIPT_NAMES.includes(name))
      throw new Error(`unexpected Lua script ${file} in ${SCRIPTS_DIR.pathname}`);
    const source = await readFile(new URL(file, SCRIPTS_DIR), 'utf8');
    const lua = await resolveIncludes(source, read);
    const sha = createHash('sha1').update(lua).digest('hex');
    scripts.set(name, { name, numberOfKeys: Number(match[2]), lua, sha, sentOn: new WeakSet() });
  }
  const missing = SCRIPT_NAMES.filter((name) => !scripts.has(name));
  if (missing.length > 0) {
    throw new Error(
      `Lua scripts missing from ${SCRIPTS_DIR.pathname}: ${missing.join(', ')} (was the build's copy step run?)`,
    );
  }
  return scripts;
}

/** What running a script needs of a client or a pipeline (ioredis' Redis, Cluster and Pipeline have it). */
export interface ScriptHost<R> {
  evalsha(sha: string, numberOfKeys: number, ...keysAndArgs: string[]): R;
  eval(lua: string, numberOfKeys: number, ...keysAndArgs: string[]): R;
}

/** True for Redis' answer to an EVALSHA of a script it does not hold. */
export function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/**
 * Sends EVALSHA or EVAL (`first`: the SHA1 or the text) with `keysAndArgs`. On a standalone
 * client without key prefix, auto-pipelining or friendly error stacks, the command is built
 * here with its arguments as they are (all strings): ioredis' command methods copy them with
 * `Array.prototype.flat`, about 0.15 µs per argument, several µs per flow in a batch of writes
 * (apply-writes sends ~17 arguments per flow); its `commandTimeout` is kept by the client's
 * `Deadlines` (deadlines.ts), not a timer per command. Any other client goes through its method.
 */
function send(
  client: ScriptHost<Promise<unknown>>,
  name: 'evalsha' | 'eval',
  first: string,
  numberOfKeys: number,
  keysAndArgs: string[],
): Promise<unknown> {
  if (!(client instanceof Redis) || !isPlain(client)) {
    return client[name](first, numberOfKeys, ...keysAndArgs);
  }
  const command = new ScriptCommand(name, [first, String(numberOfKeys), ...keysAndArgs]);
  const reply = client.sendCommand(command) as Promise<unknown>;
  const timeout = client.options.commandTimeout;
  if (typeof timeout === 'number' && !command.failed) deadlinesOf(client, timeout).watch(command);
  return reply;
}

/** True for a client whose command methods add nothing to a command: no key prefix, no auto-pipelining, no error stacks. */
function isPlain(client: Redis): boolean {
  const { keyPrefix, enableAutoPipelining, showFriendlyErrorStack } = client.options;
  return !keyPrefix && !enableAutoPipelining && !showFriendlyErrorStack;
}

/**
 * Runs `script` with its KEYS then ARGV in `keysAndArgs`. The first call on a
 * client's connection sends the script (EVAL), so a connection to a restarted
 * Redis never pays a NOSCRIPT round trip first, and a call resent after a
 * dropped reply is the call that ran; then EVALSHA, and EVAL when Redis does
 * not hold the script (NOSCRIPT: the script did not run). A cluster client
 * (no one socket) always starts with EVALSHA.
 */
export function runScript(
  client: ScriptHost<Promise<unknown>> & { readonly stream?: object },
  script: LoadedScript,
  keysAndArgs: string[],
): Promise<unknown> {
  const socket = client.stream;
  if (socket !== undefined && !script.sentOn.has(socket)) {
    script.sentOn.add(socket);
    return send(client, 'eval', script.lua, script.numberOfKeys, keysAndArgs).catch((error: unknown) => {
      // It may never have reached Redis: send it in full again next time.
      script.sentOn.delete(socket);
      throw error;
    });
  }
  return send(client, 'evalsha', script.sha, script.numberOfKeys, keysAndArgs).catch((error: unknown) => {
    if (!isNoScript(error)) throw error;
    return send(client, 'eval', script.lua, script.numberOfKeys, keysAndArgs);
  });
}
