import { ErrorCode } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { NatsConnector } from './connector.js';
import { type NatsServiceOptions, resolveNatsOptions } from './options.js';
import { NatsService } from './service.js';

const base = { url: 'nats://127.0.0.1:4222', stream: 'ORDERS', subject: 'orders' };

describe('NATS options', () => {
  it('fill in the defaults and are frozen', () => {
    const options = resolveNatsOptions(base);
    expect(options).toMatchObject({
      consumer: 'ergon',
      name: 'nats:ORDERS',
      deadLetterSubject: 'orders.dead-letter',
      deadLetterStream: 'ORDERS_DEAD_LETTER',
      declare: true,
      storage: 'file',
      ackWaitMs: 30_000,
      maxDeliveries: 5,
      maxAckPending: 10_000,
      duplicateWindowMs: 120_000,
    });
    expect(Object.isFrozen(options)).toBe(true);
  });

  it.each<[string, Partial<NatsServiceOptions>]>([
    ['a url of another scheme', { url: 'http://127.0.0.1:4222' }],
    ['a stream name with a dot', { stream: 'ORDERS.X' }],
    ['a wildcard subject', { subject: 'orders.>' }],
    ['a subject with a space', { subject: 'orders new' }],
    ['no subject', { subject: undefined as unknown as string }],
    ['zero deliveries', { maxDeliveries: 0 }],
    ['an ack wait too short to renew', { ackWait: '100ms' }],
    ['a dead-letter subject equal to the subject', { deadLetterSubject: 'orders' }],
    ['an unknown storage', { storage: 'disk' as 'file' }],
  ])('refuse %s with INVALID_ARGUMENT', (_what, change) => {
    expect(() => resolveNatsOptions({ ...base, ...change })).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_ARGUMENT }),
    );
  });

  it('refuse a duration that does not parse with INVALID_DURATION', () => {
    expect(() => resolveNatsOptions({ ...base, ackWait: 'soon' })).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_DURATION }),
    );
  });

  it('make the connector refuse a missing service and a bad in-flight bound', () => {
    expect(() => new NatsConnector({ service: {} as NatsService })).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_ARGUMENT }),
    );
    expect(() => new NatsConnector({ service: new NatsService(base), maxInFlight: 0 })).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_ARGUMENT }),
    );
  });
});
