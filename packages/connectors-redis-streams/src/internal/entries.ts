/**
 * Stream entries as Redis returns them (read as bytes, so text that is not
 * UTF-8 is seen, not silently replaced), and the shapes of the replies that
 * carry them.
 *
 * @module
 */

/**
 * One entry: its id and its flat `[name, value, name, value, …]` fields, as
 * bytes; `null` when it was deleted.
 */
export interface RawEntry {
  readonly id: string;
  readonly fields: readonly Buffer[] | null;
}

/** An entry delivered to this consumer, with how many times it has been delivered (this time included). */
export interface Delivery extends RawEntry {
  readonly deliveries: number;
}

/** `[[id, fields | null], …]`, the entry list of XRANGE, XCLAIM, XAUTOCLAIM and XREADGROUP. */
export function parseEntries(reply: unknown): RawEntry[] {
  if (!Array.isArray(reply)) return [];
  const out: RawEntry[] = [];
  for (const item of reply) {
    if (!Array.isArray(item)) continue;
    const [id, fields] = item as [Buffer | string, Buffer[] | null];
    out.push({ id: idText(id), fields: Array.isArray(fields) ? fields : null });
  }
  return out;
}

/**
 * XREADGROUP's reply for one stream (`null`, or `[[key, entries]]`) of new
 * entries (`>`): each delivered for the first time. Made as deliveries at
 * once, not as entries copied into deliveries after.
 */
export function parseReadReply(reply: unknown): Delivery[] {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  const entries = (reply as [[unknown, unknown]])[0]?.[1];
  if (!Array.isArray(entries)) return [];
  // Made at its size, not grown a push at a time (a hundred entries grew it five times).
  const out = new Array<Delivery>(entries.length);
  let count = 0;
  for (let i = 0; i < entries.length; i++) {
    const item: unknown = entries[i];
    if (!Array.isArray(item)) continue;
    const [id, fields] = item as [Buffer | string, Buffer[] | null];
    out[count++] = { id: idText(id), fields: Array.isArray(fields) ? fields : null, deliveries: 1 };
  }
  if (count < out.length) out.length = count;
  return out;
}

/** An entry id as text (ASCII digits and a dash; `toString()` without arguments is Buffer's shortest path). */
function idText(id: Buffer | string): string {
  return typeof id === 'string' ? id : id.toString();
}

/** XAUTOCLAIM's reply: the next cursor, the claimed entries, and (Redis 7) ids deleted from the stream. */
export function parseAutoClaimReply(reply: unknown): {
  cursor: string;
  entries: RawEntry[];
  deleted: string[];
} {
  const [cursor, entries, deleted] = (Array.isArray(reply) ? reply : []) as [unknown, unknown, unknown];
  return {
    cursor: cursor === undefined ? '0-0' : String(cursor),
    entries: parseEntries(entries),
    deleted: Array.isArray(deleted) ? deleted.map(String) : [],
  };
}

/** XPENDING's extended reply `[[id, consumer, idle, deliveries], …]`, as id → deliveries. */
export function parsePendingCounts(reply: unknown): Map<string, number> {
  const counts = new Map<string, number>();
  if (!Array.isArray(reply)) return counts;
  for (const item of reply) {
    if (Array.isArray(item)) counts.set(String(item[0]), Number(item[3]));
  }
  return counts;
}

/**
 * Byte-reply variants that ioredis defines for every command at run time
 * but does not type for these three. (Its `callBuffer` loses the command
 * name under auto-pipelining, so it is no way around.)
 */
export interface BufferCommands {
  xreadgroupBuffer(...args: (string | number)[]): Promise<unknown>;
  xclaimBuffer(...args: (string | number)[]): Promise<unknown>;
  xautoclaimBuffer(...args: (string | number)[]): Promise<unknown>;
}

/** `client` seen with its {@link BufferCommands}. */
export function withBufferCommands<C extends object>(client: C): C & BufferCommands {
  return client as C & BufferCommands;
}
