/**
 * Declares what the options describe, on every start: the stream and the
 * dead-letter stream (created when missing), and the durable pull consumer
 * (created when missing, its ack wait and ack-pending limit aligned).
 *
 * @module
 */
import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamManager,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { ResolvedNatsOptions } from '../options.js';

const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;

/** Creates the streams and the consumer when missing; conflicting existing streams fail (see the error hints). */
export async function declareTopology(jsm: JetStreamManager, options: ResolvedNatsOptions): Promise<void> {
  const storage = options.storage === 'memory' ? StorageType.Memory : StorageType.File;
  const duplicate_window = nanos(options.duplicateWindowMs);
  await ensureStream(jsm, { name: options.stream, subjects: [options.subject], storage, duplicate_window });
  await ensureStream(jsm, {
    name: options.deadLetterStream,
    subjects: [options.deadLetterSubject],
    storage,
    duplicate_window,
  });
  const wanted = { ack_wait: nanos(options.ackWaitMs), max_ack_pending: options.maxAckPending };
  try {
    const info = await jsm.consumers.info(options.stream, options.consumer);
    const { ack_wait, max_ack_pending } = info.config;
    if (ack_wait !== wanted.ack_wait || max_ack_pending !== wanted.max_ack_pending)
      await jsm.consumers.update(options.stream, options.consumer, wanted);
  } catch (error) {
    if (apiCode(error) !== CONSUMER_NOT_FOUND) throw error;
    await jsm.consumers.add(options.stream, {
      durable_name: options.consumer,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      // The connector counts deliveries and dead-letters past maxDeliveries itself (term + dead-letter subject).
      max_deliver: -1,
      ...wanted,
    });
  }
}

async function ensureStream(
  jsm: JetStreamManager,
  config: Pick<StreamConfig, 'name' | 'subjects' | 'storage' | 'duplicate_window'>,
): Promise<void> {
  try {
    await jsm.streams.info(config.name);
  } catch (error) {
    if (apiCode(error) !== STREAM_NOT_FOUND) throw error;
    await jsm.streams.add(config);
  }
}

function apiCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}
