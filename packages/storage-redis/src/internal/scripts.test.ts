import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { loadScripts, resolveIncludes, SCRIPT_NAMES } from './scripts.js';

describe('Lua script loader', () => {
  it('pastes each include once, depth first, wherever it is first asked for', async () => {
    const files: Record<string, string> = {
      'includes/a': '--- @include "b"\nlocal a = 1',
      'includes/b': 'local b = 2',
    };
    const read = async (path: string) => files[path] ?? '';
    const text = await resolveIncludes(
      '--- @include "includes/a"\n--- @include "includes/b"\nreturn a + b',
      read,
    );
    expect(text.match(/local b = 2/g)).toHaveLength(1);
    expect(text.indexOf('local b = 2')).toBeLessThan(text.indexOf('local a = 1'));
    expect(text).not.toContain('@include');
  });

  it('loads every script with includes resolved and the KEYS count from its file name', async () => {
    const scripts = await loadScripts();
    expect([...scripts.keys()].sort()).toEqual([...SCRIPT_NAMES].sort());
    for (const script of scripts.values()) {
      expect(script.lua, script.name).not.toContain('@include');
    }
    expect(scripts.get('record-operation')?.numberOfKeys).toBe(2);
    // Redis Cluster routes a script by its first key: one with none would go to a random node.
    for (const script of scripts.values()) expect(script.numberOfKeys, script.name).toBeGreaterThan(0);
    expect(scripts.get('consume-signal')?.numberOfKeys).toBe(4);
  });

  it('opens every script with a header documenting KEYS, ARGV and the output', async () => {
    const dir = new URL('../scripts/', import.meta.url);
    const files = (await readdir(dir)).filter((f) => f.endsWith('.lua'));
    expect(files.length).toBe(SCRIPT_NAMES.length);
    for (const file of files) {
      const text = await readFile(new URL(file, dir), 'utf8');
      expect(text.startsWith('--[['), file).toBe(true);
      const header = text.slice(0, text.indexOf(']]'));
      expect(header, file).toMatch(/KEYS/);
      expect(header, file).toMatch(/ARGV\[1\]/);
      expect(header, file).toMatch(/Output:/);
      const numKeys = Number(/-(\d+)\.lua$/.exec(file)?.[1]);
      for (let k = 1; k <= numKeys; k++) expect(header, `${file} KEYS[${k}]`).toContain(`KEYS[${k}]`);
      expect(header, file).not.toContain(`KEYS[${numKeys + 1}]`);
    }
  });
});
