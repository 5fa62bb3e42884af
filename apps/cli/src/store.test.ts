// `--store` parsing (unit level).
import { describe, expect, it } from 'vitest';
import { CliError } from './errors.js';
import { parseStoreSpec, redactUrl } from './store.js';

describe('parseStoreSpec', () => {
  it('reads SQLite paths in every accepted spelling', () => {
    expect(parseStoreSpec('sqlite:./ergon.db')).toEqual({ kind: 'sqlite', path: './ergon.db' });
    expect(parseStoreSpec('sqlite:data/x.db')).toEqual({ kind: 'sqlite', path: 'data/x.db' });
    expect(parseStoreSpec('sqlite:///var/lib/ergon.db')).toEqual({
      kind: 'sqlite',
      path: '/var/lib/ergon.db',
    });
    expect(parseStoreSpec('./plain.db')).toEqual({ kind: 'sqlite', path: './plain.db' });
  });

  it('reads Redis URLs', () => {
    expect(parseStoreSpec('redis://127.0.0.1:6379/2')).toEqual({
      kind: 'redis',
      url: 'redis://127.0.0.1:6379/2',
    });
    expect(parseStoreSpec('rediss://h:6380')).toEqual({ kind: 'redis', url: 'rediss://h:6380' });
  });

  it('reads PostgreSQL URLs, taking the schema from their schema parameter', () => {
    expect(parseStoreSpec('postgres://postgres@127.0.0.1:5432/test')).toEqual({
      kind: 'postgres',
      url: 'postgres://postgres@127.0.0.1:5432/test',
    });
    expect(parseStoreSpec('postgresql://u:p@db/app?schema=billing&sslmode=disable')).toEqual({
      kind: 'postgres',
      url: 'postgresql://u:p@db/app?sslmode=disable',
      schema: 'billing',
    });
  });

  it('refuses empty and in-memory specs as usage errors', () => {
    for (const bad of ['', ' ', 'sqlite:', 'sqlite::memory:']) {
      expect(() => parseStoreSpec(bad)).toThrow(CliError);
      try {
        parseStoreSpec(bad);
      } catch (error) {
        expect((error as CliError).exitCode).toBe(2);
      }
    }
  });

  it('hides Redis passwords in messages', () => {
    expect(redactUrl('redis://user:secret@host:6379/0')).toBe('redis://user:***@host:6379/0');
    expect(redactUrl('redis://:secret@host')).toBe('redis://:***@host');
    expect(redactUrl('redis://host:6379')).toBe('redis://host:6379');
    expect(redactUrl('postgres://ergon:secret@db:5432/app')).toBe('postgres://ergon:***@db:5432/app');
  });
});
