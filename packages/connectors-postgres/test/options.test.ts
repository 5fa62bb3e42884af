// Options are validated in the constructor and frozen; bad ones are typed
// errors that name the option. No server needed.
import { describe, expect, it } from 'vitest';
import { createPostgresQueue, PostgresQueueConnector, type PostgresService } from '../src/index.js';

describe('options', () => {
  it('are resolved with defaults and frozen', () => {
    const queue = createPostgresQueue({ schema: 'shop', table: 'orders' });
    expect(queue.options).toMatchObject({
      schema: 'shop',
      table: 'orders',
      deadLetterTable: 'orders_dead_letter',
      queueSql: '"shop"."orders"',
      visibilityMs: 30_000,
      maxAttempts: 5,
      maxInFlight: 256,
      fetchWaitMs: 1000,
      requireId: false,
    });
    expect(queue.name).toBe('postgres:shop.orders');
    expect(Object.isFrozen(queue.options)).toBe(true);
    expect(Object.isFrozen(queue.service.options)).toBe(true);
  });

  it('refuse schema and table names that are not plain identifiers, with INVALID_ARGUMENT', () => {
    for (const bad of ['Orders', 'orders; DROP TABLE x', '1orders', 'a'.repeat(64), '', 'or"ders']) {
      expect(() => createPostgresQueue({ table: bad }), bad).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
      expect(() => createPostgresQueue({ schema: bad }), bad).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    }
  });

  it('refuse bad durations, counts and urls with a typed code', () => {
    expect(() => createPostgresQueue({ visibilityTimeout: 'soon' })).toThrow(
      expect.objectContaining({ code: 'INVALID_DURATION' }),
    );
    expect(() => createPostgresQueue({ visibilityTimeout: '10ms' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => createPostgresQueue({ maxAttempts: 0 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => createPostgresQueue({ maxInFlight: 1.5 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => createPostgresQueue({ url: 'mysql://x' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => createPostgresQueue({ table: 'q', deadLetterTable: 'q' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('need a PostgresService', () => {
    expect(() => new PostgresQueueConnector({ service: {} as PostgresService })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('refuse a dispatch whose payload is not JSON, before anything is sent', async () => {
    const queue = createPostgresQueue({ url: 'postgres://nobody@127.0.0.1:1/none' });
    const { createTransaction } = await import('@ergon/core');
    await expect(
      queue.dispatchTransactions([createTransaction({ id: 'big', payload: 10n })]),
    ).rejects.toMatchObject({ code: 'CODEC_UNSUPPORTED_TYPE' });
  });

  it('turn an unreachable server into CONNECTOR_ERROR saying what to check', async () => {
    const queue = createPostgresQueue({ url: 'postgres://nobody@127.0.0.1:1/none', connectTimeout: '500ms' });
    const error = await queue.start().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONNECTOR_ERROR' });
    expect((error as Error).message).toContain('is PostgreSQL running');
  });
});
