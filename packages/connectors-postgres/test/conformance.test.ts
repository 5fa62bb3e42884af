// The connector conformance suite of @ergon/testing, unchanged, against the
// real PostgreSQL (ERGON_POSTGRES_URL): each test on a queue table in a
// schema of its own, dropped afterwards.
import { fileURLToPath } from 'node:url';
import {
  type ConformancePayload,
  type ConnectorHarness,
  type DeadLetterRecord,
  describeConnectorConformance,
  type PoisonKind,
} from '@ergon/testing';
import { describe } from 'vitest';
import { createPostgresQueue, type PostgresQueueConnector } from '../src/index.js';
import {
  adminPool,
  dropSchemas,
  POSTGRES_URL,
  postgresAvailable,
  terminateConnections,
  uniqueApplicationName,
  uniqueSchema,
} from './support.js';

type Connector = PostgresQueueConnector<ConformancePayload>;

const CHILD = fileURLToPath(new URL('./fixtures/conformance-child.mjs', import.meta.url));
const MAX_IN_FLIGHT = 8;
const MAX_BYTES = 64 * 1024;

const admin = adminPool();
const schemas = new WeakMap<object, string>();

function harness(): ConnectorHarness<Connector> {
  const schema = uniqueSchema('conf');
  const options = {
    url: POSTGRES_URL,
    schema,
    table: 'queue',
    maxInFlight: MAX_IN_FLIGHT,
    fetchWait: '300ms',
    visibilityTimeout: '2s',
    // Rows must carry a transaction id: one without is refused (capability messagesWithoutId).
    requireId: true,
    maxPayloadBytes: MAX_BYTES,
    maxConnections: 4,
  };
  const make = (label: string): Connector =>
    createPostgresQueue<ConformancePayload>({ ...options, applicationName: uniqueApplicationName(label) });
  const queue = `"${schema}"."queue"`;
  const created: ConnectorHarness<Connector> = {
    connector: make('main'),
    createConsumer: () => make('consumer'),
    maxInFlight: MAX_IN_FLIGHT,
    async readyCount() {
      const result = await admin.query(`SELECT count(*)::int AS n FROM ${queue} WHERE visible_at <= now()`);
      return result.rows[0].n as number;
    },
    async readDeadLetters(): Promise<DeadLetterRecord[]> {
      const result = await admin
        .query(`SELECT id, payload, metadata, reason FROM "${schema}"."queue_dead_letter" ORDER BY seq`)
        .catch(() => ({ rows: [] }));
      return result.rows.map((row) => ({
        ...(row.id === null ? {} : { id: row.id as string }),
        ...(row.payload === null ? {} : { payload: row.payload }),
        metadata: row.metadata as Record<string, string>,
        reason: row.reason as DeadLetterRecord['reason'],
      }));
    },
    health: (connector) => connector.service.health(),
    async createRefusingConnector() {
      // A queue table whose CHECK refuses every row: INSERT fails with 23514.
      const probe = make('refusing-setup');
      await probe.start();
      await probe.stop();
      await admin.query(`CREATE TABLE "${schema}"."refusing" (LIKE ${queue} INCLUDING ALL, CHECK (false))`);
      return createPostgresQueue<ConformancePayload>({
        ...options,
        table: 'refusing',
        createTables: false,
        applicationName: uniqueApplicationName('refusing'),
      });
    },
    async publishRaw(kind: PoisonKind) {
      if (kind === 'missing-id') {
        await admin.query(`INSERT INTO ${queue} (id, payload) VALUES (NULL, $1)`, [
          JSON.stringify({ n: -1, run: 'poison' }),
        ]);
      } else if (kind === 'too-large') {
        const large = JSON.stringify({ n: -1, run: 'poison', pad: 'x'.repeat(MAX_BYTES) });
        await admin.query(`INSERT INTO ${queue} (id, payload) VALUES ('poison-too-large', $1)`, [large]);
      } else {
        throw new Error(`no ${kind} message can reach a jsonb column`);
      }
    },
    async dropConnection(connector) {
      const killed = await terminateConnections(admin, connector.service.options.applicationName);
      if (killed === 0) throw new Error(`no connection named ${connector.service.options.applicationName}`);
    },
    consumerProcess: {
      script: CHILD,
      args: [JSON.stringify({ ...options, applicationName: uniqueApplicationName('child') })],
    },
  };
  schemas.set(created, schema);
  return created;
}

describe.runIf(postgresAvailable)('postgres queue table', () => {
  describeConnectorConformance<Connector>({
    name: 'postgres-queue',
    create: harness,
    teardown: (created) => dropSchemas(admin, [schemas.get(created) as string]),
    capabilities: {
      findTransaction: true,
      refusedPublish: true,
      undecodableMessages: {
        unsupported:
          'payloads are jsonb: PostgreSQL refuses text that is not JSON at INSERT, so an undecodable message never reaches the queue',
      },
      messagesWithoutId: true,
      oversizedMessages: true,
      connectionDrop: true,
      processCrash: true,
    },
  });
});
