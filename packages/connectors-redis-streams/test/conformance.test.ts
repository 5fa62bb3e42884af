// The connector conformance suite of @ergon/testing, unchanged, against the
// real Redis on 6379 (ERGON_REDIS_URL): one fresh stream per test, deleted
// afterwards. Every capability is supported.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  type ConformancePayload,
  type ConnectorHarness,
  type DeadLetterRecord,
  describeConnectorConformance,
  type PoisonKind,
} from '@ergon/testing';
import { describe } from 'vitest';
import { createJsonCodec, createRedisStreamsConnector, type RedisStreamsConnector } from '../src/index.js';
import { adminClient, REDIS_URL, redisAvailable } from './support.js';

type Connector = RedisStreamsConnector<ConformancePayload>;

const CHILD = fileURLToPath(new URL('./fixtures/conformance-child.mjs', import.meta.url));
const MAX_IN_FLIGHT = 8;
const MAX_BYTES = 64 * 1024;
const CLAIM_IDLE_MS = 1000;

const admin = adminClient();

interface RedisHarness extends ConnectorHarness<Connector> {
  readonly keys: string[];
}

/** A harness on a fresh stream: connectors made alike (each its own consumer and connection name). */
function harness(): RedisHarness {
  const stream = `ergon-test:rs-conformance:${randomUUID()}`;
  const options = {
    url: REDIS_URL,
    stream,
    maxUnacked: MAX_IN_FLIGHT,
    block: '500ms',
    claimIdle: `${CLAIM_IDLE_MS}ms`,
    // Entries must carry a transaction id: one without is refused (capability messagesWithoutId).
    requireId: true,
    maxBytes: MAX_BYTES,
  };
  const make = (): Connector => {
    const { maxBytes, ...rest } = options;
    return createRedisStreamsConnector<ConformancePayload>({
      ...rest,
      codec: createJsonCodec({ maxBytes }),
      connectionName: `ergon-conformance-${randomUUID().slice(0, 8)}`,
    });
  };
  const refusing = `${stream}:not-a-stream`;
  const keys = [stream, `${stream}:dead-letter`, refusing];
  return {
    keys,
    connector: make(),
    createConsumer: make,
    maxInFlight: MAX_IN_FLIGHT,
    async readyCount() {
      // Not yet delivered to the group (all of the stream when it has no group yet) …
      const groups = (await admin.xinfo('GROUPS', stream).catch(() => [])) as unknown[][];
      const group = groups.map(fields).find((g) => g.name === 'ergon');
      const undelivered = group
        ? (await admin.xrange(stream, `(${group['last-delivered-id']}`, '+')).length
        : await admin.xlen(stream);
      // … and given back: pending, but idle past claimIdle (released entries are, at once).
      const released = group
        ? ((await admin.xpending(stream, 'ergon', 'IDLE', CLAIM_IDLE_MS, '-', '+', 1000)) as unknown[]).length
        : 0;
      return undelivered + released;
    },
    async readDeadLetters(): Promise<DeadLetterRecord[]> {
      const reader = make();
      try {
        const letters = await reader.readDeadLetters({ count: 1000 });
        return letters.map((d) => ({
          ...(d.transactionId === undefined ? {} : { id: d.transactionId }),
          ...('payload' in d ? { payload: d.payload } : {}),
          metadata: d.metadata,
          reason: {
            message: d.reason.message,
            ...(d.reason.code === undefined ? {} : { code: d.reason.code }),
          },
        }));
      } finally {
        await reader.stop();
      }
    },
    health: (connector) => connector.service.health(),
    async createRefusingConnector() {
      // A key that holds a string: Redis answers XADD with WRONGTYPE.
      await admin.set(refusing, 'not a stream');
      return createRedisStreamsConnector<ConformancePayload>({ url: REDIS_URL, stream: refusing });
    },
    async publishRaw(kind: PoisonKind) {
      const payload = JSON.stringify({ n: -1, run: 'poison' });
      if (kind === 'undecodable')
        await admin.xadd(stream, '*', 'id', 'poison-undecodable', 'payload', '{not json');
      else if (kind === 'missing-id') await admin.xadd(stream, '*', 'payload', payload);
      else {
        const large = JSON.stringify({ n: -1, run: 'poison', pad: 'x'.repeat(MAX_BYTES) });
        await admin.xadd(stream, '*', 'id', 'poison-too-large', 'payload', large);
      }
    },
    async dropConnection(connector) {
      // Server side, as a network failure would: every connection of this connector's service.
      const name = connector.service.options.connectionName;
      const list = String(await admin.client('LIST'));
      const ids = list
        .split('\n')
        .filter((line) => new RegExp(` name=${name}(:\\S*)? `).test(line))
        .map((line) => /^id=(\d+)/.exec(line)?.[1])
        .filter((id): id is string => id !== undefined);
      if (ids.length === 0) throw new Error(`no connection named ${name} to drop`);
      for (const id of ids) await admin.client('KILL', 'ID', id);
    },
    consumerProcess: { script: CHILD, args: [JSON.stringify(options)] },
  };
}

/** XINFO's flat `[name, value, …]` as an object. */
function fields(flat: unknown[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1]);
  return out;
}

describe.runIf(redisAvailable)('redis streams', () => {
  describeConnectorConformance<Connector>({
    name: 'redis-streams',
    create: harness,
    teardown: async (h) => {
      await admin.del(...(h as RedisHarness).keys);
    },
    capabilities: {
      findTransaction: true,
      refusedPublish: true,
      undecodableMessages: true,
      messagesWithoutId: true,
      oversizedMessages: true,
      connectionDrop: true,
      processCrash: true,
    },
  });
});
