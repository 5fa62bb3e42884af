/**
 * The checksum frame of stored values: `#c<crc32 as 8 hex digits>:<text>`,
 * where the CRC-32 (IEEE, as zlib computes it) covers the UTF-8 bytes of
 * `<text>`. The codec frames what it encodes and verifies what it decodes, so
 * a value altered at rest is detected wherever it is stored. Text without a
 * frame (written before checksums, or by another producer) is read as it is.
 *
 * @module
 */
import * as zlib from 'node:zlib';

/** Length of `#c` + 8 hex digits + `:`. */
export const FRAME_LENGTH = 11;

const HASH = 0x23; // '#'
const LETTER_C = 0x63; // 'c'
const COLON = 0x3a; // ':'

/** Below this length a table-driven loop in JS beats the call into zlib. */
const NATIVE_FROM = 256;

const TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

// zlib.crc32 exists from Node 20.15 and 22.2; older Node uses the JS loop throughout.
const nativeCrc32 = (zlib as { crc32?: (data: string) => number }).crc32;

/** CRC-32 of the UTF-8 encoding of `text`. */
export function crc32(text: string): number {
  if (nativeCrc32 !== undefined && text.length >= NATIVE_FROM) return nativeCrc32(text);
  return crc32Js(text);
}

/** {@link crc32} in JS, encoding UTF-16 to UTF-8 on the fly (lone surrogates as U+FFFD, as Node does). */
export function crc32Js(text: string): number {
  const t = TABLE;
  let c = -1;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    let u = text.charCodeAt(i);
    if (u < 0x80) {
      c = (t[(c ^ u) & 0xff] as number) ^ (c >>> 8);
      continue;
    }
    if (u >= 0xd800 && u < 0xe000) {
      const low = u < 0xdc00 && i + 1 < length ? text.charCodeAt(i + 1) : 0;
      if (low >= 0xdc00 && low < 0xe000) {
        u = 0x10000 + ((u - 0xd800) << 10) + (low - 0xdc00);
        i++;
      } else {
        u = 0xfffd;
      }
    }
    if (u < 0x800) {
      c = byte(c, 0xc0 | (u >> 6));
    } else if (u < 0x10000) {
      c = byte(c, 0xe0 | (u >> 12));
      c = byte(c, 0x80 | ((u >> 6) & 0x3f));
    } else {
      c = byte(c, 0xf0 | (u >> 18));
      c = byte(c, 0x80 | ((u >> 12) & 0x3f));
      c = byte(c, 0x80 | ((u >> 6) & 0x3f));
    }
    c = byte(c, 0x80 | (u & 0x3f));
  }
  return (c ^ -1) >>> 0;
}

function byte(c: number, b: number): number {
  return (TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
}

/** The character code of each lowercase hex digit, by its value. */
const HEX_CODE = Array.from({ length: 16 }, (_, d) => d.toString(16).charCodeAt(0));

/**
 * `text` in a checksum frame. The frame is made in one call from its character codes: hex digits
 * from `toString(16)` and `padStart`, or a string join per byte, cost more than the CRC of a short
 * value (a step result such as `[1]`).
 */
export function frame(text: string): string {
  const c = crc32(text);
  const h = HEX_CODE;
  return (
    String.fromCharCode(
      HASH,
      LETTER_C,
      h[c >>> 28] as number,
      h[(c >>> 24) & 15] as number,
      h[(c >>> 20) & 15] as number,
      h[(c >>> 16) & 15] as number,
      h[(c >>> 12) & 15] as number,
      h[(c >>> 8) & 15] as number,
      h[(c >>> 4) & 15] as number,
      h[c & 15] as number,
      COLON,
    ) + text
  );
}

/** True when `text` starts like a frame (`#c`); whether the frame is intact is {@link unframe}'s job. */
export function isFramed(text: string): boolean {
  return text.charCodeAt(0) === HASH && text.charCodeAt(1) === LETTER_C;
}

/**
 * The text inside a frame, or undefined when the frame is damaged or its
 * checksum does not match the text (the value was altered).
 */
export function unframe(text: string): string | undefined {
  if (text.length < FRAME_LENGTH || text.charCodeAt(FRAME_LENGTH - 1) !== COLON) return undefined;
  const stated = statedCrc(text);
  if (stated < 0) return undefined;
  const body = text.slice(FRAME_LENGTH);
  return crc32(body) === stated ? body : undefined;
}

/** Each lowercase hex digit's value by character code; -1 for every other character. */
const NIBBLE = (() => {
  const table = new Int8Array(128).fill(-1);
  for (let d = 0; d < 16; d++) table[d.toString(16).charCodeAt(0)] = d;
  return table;
})();

/**
 * The CRC a frame states (its 8 lowercase hex digits after `#c`), or -1 when they are not
 * that: read digit by digit, no slice, pattern or parseInt for every value decoded.
 */
function statedCrc(text: string): number {
  let crc = 0;
  for (let i = 2; i < FRAME_LENGTH - 1; i++) {
    const code = text.charCodeAt(i);
    const digit = code < 128 ? (NIBBLE[code] as number) : -1;
    if (digit < 0) return -1;
    crc = crc * 16 + digit;
  }
  return crc;
}
