// The exclusive-create primitive under the claims: one winner, whole content,
// no temporary files left behind.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createExclusive } from '../src/internal/fs-utils.js';
import { tempDirs } from './support.js';

const temp = tempDirs();

describe('createExclusive', () => {
  it('lets exactly one of many racing writers create the file, which holds that writer’s whole text', async () => {
    const dir = await temp();
    const path = join(dir, '7.0.claim');
    const texts = Array.from({ length: 50 }, (_, i) => JSON.stringify({ writer: i, pad: 'x'.repeat(4096) }));
    const won = await Promise.all(texts.map((text) => createExclusive(path, text, false)));
    expect(won.filter(Boolean)).toHaveLength(1);
    expect(await readFile(path, 'utf8')).toBe(texts[won.indexOf(true)]);
    expect(await readdir(dir)).toEqual(['7.0.claim']);
    expect(await createExclusive(path, 'late', true)).toBe(false);
    expect(await readdir(dir)).toEqual(['7.0.claim']);
  });

  it('fails with the file-system error, not false, when the directory is missing', async () => {
    const dir = await temp();
    await expect(createExclusive(join(dir, 'missing', 'x'), 'text', false)).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
});
