// The README's outbox example is test/readme-example.ts, word for word
// (typecheck covers it); here it runs against PostgreSQL in a schema of its own.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { adminPool, dropSchemas, POSTGRES_URL, postgresAvailable, uniqueSchema } from './support.js';

const admin = adminPool();
const schemas: string[] = [];
afterEach(() => dropSchemas(admin, schemas.splice(0)));

describe('the README example', () => {
  it('is test/readme-example.ts, importing the package by name', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const example = readFileSync(new URL('./readme-example.ts', import.meta.url), 'utf8').replace(
      "'../src/index.js'",
      "'@ergon/connectors-postgres'",
    );
    expect(readme).toContain(`\`\`\`ts\n${example}\`\`\``);
  });

  it.runIf(postgresAvailable)(
    'runs: the order and its message commit together, and the relay moves the message on',
    async () => {
      const schema = uniqueSchema('readme');
      schemas.push(schema);
      vi.stubEnv('ERGON_POSTGRES_URL', POSTGRES_URL);
      vi.stubEnv('SHOP_SCHEMA', schema);
      const printed: unknown[] = [];
      const log = vi.spyOn(console, 'log').mockImplementation((line: unknown) => void printed.push(line));
      try {
        await import('./readme-example.js');
      } finally {
        vi.unstubAllEnvs();
        log.mockRestore();
      }
      expect(printed).toEqual(['1 messages relayed']);
      const orders = await admin.query(`SELECT id FROM "${schema}".orders`);
      expect(orders.rows).toEqual([{ id: 'order-1' }]);
      const events = await admin.query(`SELECT id, payload, metadata FROM "${schema}".order_events`);
      expect(events.rows).toEqual([
        { id: 'order-placed-order-1', payload: { orderId: 'order-1', total: 25 }, metadata: {} },
      ]);
      expect((await admin.query(`SELECT count(*)::int AS n FROM "${schema}".ergon_outbox`)).rows[0].n).toBe(
        0,
      );
    },
  );
});
