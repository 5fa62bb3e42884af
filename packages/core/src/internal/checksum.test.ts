import * as zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32, crc32Js, frame, unframe } from './checksum.js';

const nativeCrc32 = (zlib as { crc32?: (data: string) => number }).crc32;

describe('checksum', () => {
  it('computes the CRC-32 of the UTF-8 bytes, as zlib does (property)', () => {
    const reference = (text: string) => zlib.crc32?.(text) ?? referenceCrc(Buffer.from(text, 'utf8'));
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' })),
        (text) => {
          expect(crc32Js(text)).toBe(reference(text));
          expect(crc32(text)).toBe(reference(text));
        },
      ),
      { numRuns: 500 },
    );
    expect(crc32Js('123456789')).toBe(0xcbf43926);
  });

  it('uses zlib for long text when Node has it, with the same result', () => {
    const long = 'ab€😀'.repeat(500);
    if (nativeCrc32) expect(crc32(long)).toBe(nativeCrc32(long));
    expect(crc32(long)).toBe(crc32Js(long));
  });

  it('frames text with its CRC-32 as 8 lowercase hex digits, zeros leading (property)', () => {
    expect(frame('123456789')).toBe('#ccbf43926:123456789');
    fc.assert(
      fc.property(fc.string(), (text) => {
        expect(frame(text)).toBe(`#c${crc32(text).toString(16).padStart(8, '0')}:${text}`);
      }),
      { numRuns: 2000 },
    );
  });

  it('unframes an intact frame and refuses a damaged one', () => {
    const framed = frame('[1]');
    expect(unframe(framed)).toBe('[1]');
    expect(unframe(framed.replace('[1]', '[2]'))).toBeUndefined();
    expect(unframe('#cxyz')).toBeUndefined();
    expect(unframe(`#cGGGGGGGG:[1]`)).toBeUndefined();
    // The digits are lowercase hex, eight of them, as frame writes them: nothing else is read as one.
    expect(framed).toBe('#c4c2f32b8:[1]');
    expect(unframe('#c4C2F32B8:[1]')).toBeUndefined();
    expect(unframe(`#c${framed.slice(2, 9)}\u0660:[1]`)).toBeUndefined();
    expect(unframe(`#c${framed.slice(2, 9)}g:[1]`)).toBeUndefined();
    expect(unframe(`#c${framed.slice(2, 9)}/:[1]`)).toBeUndefined();
    expect(unframe(`#c-${framed.slice(3, 10)}:[1]`)).toBeUndefined();
  });
});

function referenceCrc(bytes: Uint8Array): number {
  let c = -1;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ -1) >>> 0;
}
