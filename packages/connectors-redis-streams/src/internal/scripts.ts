/**
 * The connector's two Lua scripts, each a multi-step change that must not be
 * interleaved with another consumer's, and one typed function per script
 * that builds its arguments and decodes its reply. They are kept as strings
 * here (not `.lua` files) so the built package needs no copy step; each
 * opens with its KEYS / ARGV / returns header all the same.
 *
 * ioredis sends EVALSHA and falls back to EVAL on NOSCRIPT, so a restarted
 * Redis with an empty script cache needs nothing here.
 *
 * @module
 */
import type { Redis } from 'ioredis';

/** `dead-letter-2`: copy an entry to the dead-letter stream and ack it, at once. */
const DEAD_LETTER = `
-- dead-letter-2: moves one entry to the dead-letter stream and acks it, in one step.
-- KEYS[1]  the stream
-- KEYS[2]  the dead-letter stream
-- ARGV[1]  the consumer group
-- ARGV[2]  the entry id
-- ARGV[3]  '1': only while the entry is pending in the group (so a resent call adds nothing);
--          '0': always (the entry left the pending list already)
-- ARGV[4…] fields added after the entry's own: name, value, …
-- Returns the dead-letter entry's id, or false when the entry was not pending (settled meanwhile).
if ARGV[3] == '1' then
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
  if #pending == 0 then return false end
end
local args = { KEYS[2], '*' }
local found = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
if found[1] then
  for _, value in ipairs(found[1][2]) do args[#args + 1] = value end
end
for i = 4, #ARGV do args[#args + 1] = ARGV[i] end
local id = redis.call('XADD', unpack(args))
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return id
`;

/** `touch-2`: reset (or raise) the idle time of entries this consumer still holds. */
const TOUCH = `
-- touch-2: sets the idle time of entries still pending for this consumer, without
-- counting a delivery; entries another consumer took over are left alone.
-- KEYS[1]  the stream
-- ARGV[1]  the consumer group
-- ARGV[2]  the consumer
-- ARGV[3]  the idle time to set, ms: 0 renews the hold; a large value releases the
--          entries to the next XAUTOCLAIM of any consumer
-- ARGV[4]  the delivery count to set, or '' to leave it (entries read ahead and never
--          handed out are given back as never delivered)
-- ARGV[5…] entry ids
-- Returns the ids that were not pending for this consumer (taken over or settled).
local owned, lost = {}, {}
for i = 5, #ARGV do
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1, ARGV[2])
  if #pending == 0 then lost[#lost + 1] = ARGV[i] else owned[#owned + 1] = ARGV[i] end
end
if #owned > 0 then
  local args = { KEYS[1], ARGV[1], ARGV[2], 0 }
  for _, id in ipairs(owned) do args[#args + 1] = id end
  args[#args + 1] = 'IDLE'
  args[#args + 1] = ARGV[3]
  if ARGV[4] ~= '' then
    args[#args + 1] = 'RETRYCOUNT'
    args[#args + 1] = ARGV[4]
  end
  args[#args + 1] = 'JUSTID'
  redis.call('XCLAIM', unpack(args))
end
return lost
`;

/** Ids per script call: far below Lua's `unpack` limit, short enough not to stall Redis. */
export const SCRIPT_BATCH = 500;

interface ScriptCommands {
  ergonStreamDeadLetter(...args: (string | number)[]): Promise<string | null>;
  ergonStreamTouch(...args: (string | number)[]): Promise<string[]>;
}

/**
 * Defines the scripts on `client` (once per client). Call it before the
 * client's first command: an auto-pipeline already open lacks them.
 */
export function defineScripts(client: Redis): Redis & ScriptCommands {
  const scripted = client as Redis & Partial<ScriptCommands>;
  if (typeof scripted.ergonStreamDeadLetter !== 'function')
    client.defineCommand('ergonStreamDeadLetter', { numberOfKeys: 2, lua: DEAD_LETTER });
  if (typeof scripted.ergonStreamTouch !== 'function')
    client.defineCommand('ergonStreamTouch', { numberOfKeys: 1, lua: TOUCH });
  return client as Redis & ScriptCommands;
}

/** Arguments of {@link deadLetterEntry}. */
export interface DeadLetterCall {
  readonly stream: string;
  readonly deadLetterStream: string;
  readonly group: string;
  readonly entryId: string;
  /** Only while still pending (true), or always (the entry already left the pending list). */
  readonly onlyIfPending: boolean;
  /** Fields appended after the entry's own. */
  readonly fields: readonly string[];
}

/** Runs `dead-letter-2`. Resolves the dead letter's entry id, or `undefined` when the entry was settled meanwhile. */
export async function deadLetterEntry(client: Redis, call: DeadLetterCall): Promise<string | undefined> {
  const id = await defineScripts(client).ergonStreamDeadLetter(
    call.stream,
    call.deadLetterStream,
    call.group,
    call.entryId,
    call.onlyIfPending ? '1' : '0',
    ...call.fields,
  );
  return id ?? undefined;
}

/** Arguments of {@link touchEntries}. */
export interface TouchCall {
  readonly stream: string;
  readonly group: string;
  readonly consumer: string;
  readonly idleMs: number;
  /** The delivery count to set; left as it is when undefined. */
  readonly deliveries?: number | undefined;
  readonly ids: readonly string[];
}

/** Runs `touch-2` in batches. Resolves the ids this consumer no longer holds. */
export async function touchEntries(client: Redis, call: TouchCall): Promise<string[]> {
  const scripted = defineScripts(client);
  const lost: string[] = [];
  for (let from = 0; from < call.ids.length; from += SCRIPT_BATCH) {
    const ids = call.ids.slice(from, from + SCRIPT_BATCH);
    const reply = await scripted.ergonStreamTouch(
      call.stream,
      call.group,
      call.consumer,
      call.idleMs,
      call.deliveries === undefined ? '' : call.deliveries,
      ...ids,
    );
    if (Array.isArray(reply)) lost.push(...reply.map(String));
  }
  return lost;
}
