/**
 * The two hashes of the partitioned layout: CRC-32 (IEEE) places a flow id in
 * a partition, CRC-16 (XMODEM, as Redis Cluster) finds the slot of a hash tag.
 * Both are part of the stored layout: changing either moves every flow.
 *
 * @module
 */

/** Number of Redis Cluster hash slots. */
export const CLUSTER_SLOTS = 16_384;

const CRC32_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, as zlib) of the UTF-8 bytes of `text`, unsigned. */
export function crc32(text: string): number {
  let crc = -1;
  for (const byte of Buffer.from(text, 'utf8')) {
    crc = (CRC32_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  }
  return (crc ^ -1) >>> 0;
}

/** CRC-16/XMODEM of the UTF-8 bytes of `text` (Redis Cluster's key hash). */
export function crc16(text: string): number {
  let crc = 0;
  for (const byte of Buffer.from(text, 'utf8')) {
    crc ^= byte << 8;
    for (let k = 0; k < 8; k++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The cluster slot of keys whose hash tag is `tag` (the text between the braces). */
export function tagSlot(tag: string): number {
  return crc16(tag) % CLUSTER_SLOTS;
}
