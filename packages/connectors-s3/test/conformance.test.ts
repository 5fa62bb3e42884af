// The connector conformance suite of @ergon/testing, unchanged, against a
// private s3rver over real HTTP with the real AWS client (or the endpoint in
// ERGON_S3_URL): each test on a prefix of its own, emptied afterwards.
import { fileURLToPath } from 'node:url';
import {
  type CapabilitySupport,
  type ConformancePayload,
  type ConnectorHarness,
  type DeadLetterRecord,
  describeConnectorConformance,
  type PoisonKind,
} from '@ergon/testing';
import { createS3Connector, type S3Connector } from '../src/index.js';
import { connectorOptions, deleteUnder, EXTERNAL_URL, uniquePrefix, useS3 } from './support.js';

type Connector = S3Connector<ConformancePayload>;

const CHILD = fileURLToPath(new URL('./fixtures/conformance-child.mjs', import.meta.url));
const MAX_IN_FLIGHT = 8;
const MAX_BYTES = 64 * 1024;

const s3 = useS3();
const bases = new WeakMap<object, { base: string; admin: Connector }>();

function harness(): ConnectorHarness<Connector> {
  const prefix = uniquePrefix();
  const options = {
    ...connectorOptions(s3.current, prefix),
    lease: '2s',
    maxInFlight: MAX_IN_FLIGHT,
    fetchWait: '300ms',
    pollInterval: '50ms',
    claimSettle: '30ms',
    maxObjectBytes: MAX_BYTES,
  };
  const make = (): Connector => createS3Connector<ConformancePayload>(options);
  const admin = make();
  const dropConnections = s3.current.dropConnections;
  const created: ConnectorHarness<Connector> = {
    connector: make(),
    createConsumer: make,
    maxInFlight: MAX_IN_FLIGHT,
    readyCount: () => admin.readyCount(),
    async readDeadLetters(): Promise<DeadLetterRecord[]> {
      return (await admin.readDeadLetters()).map((letter) => ({
        ...(letter.id === undefined ? {} : { id: letter.id }),
        ...('payload' in letter ? { payload: letter.payload } : {}),
        metadata: letter.metadata,
        reason: letter.reason,
      }));
    },
    health: (connector) => connector.service.health(),
    // A key over 1024 bytes: S3 answers KeyTooLongError, s3rver cannot make the file (ENAMETOOLONG).
    createRefusingConnector: () =>
      createS3Connector<ConformancePayload>({
        ...options,
        prefix: `${prefix.slice(0, -1)}-${'k'.repeat(1000)}/`,
      }),
    // S3 lists in key order: the poison keys sort before the suite's `conformance-…` keys, as a
    // message published first comes first on a queue.
    async publishRaw(kind: PoisonKind) {
      await admin.start();
      if (kind === 'undecodable') await admin.service.put(`${prefix}0-poison-undecodable`, '{not json');
      else if (kind === 'missing-id')
        await admin.service.put(`${prefix}0 poison without an id`, '{"n":-1,"run":"poison"}');
      else
        await admin.service.put(
          `${prefix}0-poison-too-large`,
          JSON.stringify({ n: -1, pad: 'x'.repeat(MAX_BYTES) }),
        );
    },
    ...(dropConnections
      ? {
          async dropConnection() {
            if ((await dropConnections()) === 0) throw new Error('no connection to drop');
          },
        }
      : {}),
    consumerProcess: { script: CHILD, args: [JSON.stringify(options)] },
  };
  bases.set(created, { base: prefix.slice(0, -1), admin });
  return created;
}

const connectionDrop: CapabilitySupport = EXTERNAL_URL
  ? { unsupported: 'ERGON_S3_URL names a server this test cannot reach into to close connections' }
  : true;

describeConnectorConformance<Connector>({
  name: EXTERNAL_URL ? 's3 (ERGON_S3_URL)' : 's3 (s3rver)',
  create: harness,
  teardown: async (created) => {
    const { base, admin } = bases.get(created) as { base: string; admin: Connector };
    await admin.stop();
    await deleteUnder(s3.current, base);
  },
  capabilities: {
    findTransaction: true,
    refusedPublish: true,
    undecodableMessages: true,
    // The id is the object's key: a key with characters an id cannot hold (a space) is refused.
    messagesWithoutId: true,
    oversizedMessages: true,
    connectionDrop,
    processCrash: true,
  },
});
