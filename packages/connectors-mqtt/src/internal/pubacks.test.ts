import { describe, expect, it } from 'vitest';
import { encodePubacks } from './pubacks.js';

describe('PUBACKs written as one buffer', () => {
  it('are MQTT 5 PUBACKs with reason Success left out: 0x40, length 2, the packet id big-endian', () => {
    expect([...encodePubacks([1, 0xabcd, 65_535])]).toEqual([
      0x40, 2, 0x00, 0x01, 0x40, 2, 0xab, 0xcd, 0x40, 2, 0xff, 0xff,
    ]);
    expect(encodePubacks([]).length).toBe(0);
  });
});
