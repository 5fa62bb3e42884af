/**
 * UUIDv7: time-ordered ids, so flows list in creation order and index well.
 *
 * The random bits come from a pool filled 4 KiB at a time (as Node's own `randomUUID` does):
 * a `randomBytes(16)` per id cost about 2 µs, ten times the rest, on the path of every
 * scheduled flow and every transaction made without an id.
 *
 * @module
 */
import { randomFillSync } from 'node:crypto';

/** Random bytes an id takes: 74 random bits, the version and variant bits set over them. */
const RANDOM_BYTES = 10;
const POOL_SIZE = 4096 - (4096 % RANDOM_BYTES);
const pool = Buffer.allocUnsafe(POOL_SIZE);
let taken = POOL_SIZE;
const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));
const TWO_32 = 2 ** 32;
const MAX_MS = 2 ** 48 - 1;

/**
 * A new RFC 9562 UUIDv7 string: `now` (whole ms since the epoch, 48 bits) then random bits.
 * @throws RangeError for a time outside 0 … 2⁴⁸ − 1 ms.
 */
export function uuidv7(now: number = Date.now()): string {
  const ms = Math.floor(now);
  if (!(ms >= 0 && ms <= MAX_MS)) throw new RangeError(`uuidv7: time ${now} is outside 0 … 2^48 - 1 ms`);
  if (taken === POOL_SIZE) {
    randomFillSync(pool);
    taken = 0;
  }
  const r = taken;
  taken += RANDOM_BYTES;
  const high = Math.floor(ms / TWO_32);
  const low = ms - high * TWO_32;
  const time = high.toString(16).padStart(4, '0') + low.toString(16).padStart(8, '0');
  const b = (i: number) => HEX[pool[r + i] as number] as string;
  return (
    `${time.slice(0, 8)}-${time.slice(8)}-` +
    `7${HEX[(pool[r] as number) & 0x0f]?.[1]}${b(1)}-` +
    `${HEX[((pool[r + 2] as number) & 0x3f) | 0x80]}${b(3)}-` +
    `${b(4)}${b(5)}${b(6)}${b(7)}${b(8)}${b(9)}`
  );
}
