import { ErrorCode } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { amqpErrorCode, redactUrl, toConnectorError } from './errors.js';
import { resolveAmqpOptions } from './options.js';

const URL = 'amqp://guest:secret@127.0.0.1:5672';

describe('options', () => {
  it('resolves defaults: durable, persistent, default exchange, a dead-letter queue beside the queue', () => {
    const options = resolveAmqpOptions({ url: URL, queue: 'orders' });
    expect(options).toMatchObject({
      name: 'amqp:orders',
      exchange: '',
      routingKey: 'orders',
      deadLetterQueue: 'orders.dead-letter',
      deadLetterExchange: '',
      declare: true,
      durable: true,
      persistent: true,
      prefetch: 50,
      reconnect: { initialMs: 100, maxMs: 10_000, multiplier: 2 },
    });
    expect(options.connectionName).toBe(`ergon:amqp:orders:${process.pid}`);
    expect(Object.isFrozen(options)).toBe(true);
  });

  it('refuses bad options with INVALID_ARGUMENT naming the option', () => {
    const bad = (extra: object) => () => resolveAmqpOptions({ url: URL, queue: 'q', ...extra });
    const invalid = expect.objectContaining({ code: ErrorCode.INVALID_ARGUMENT });
    expect(() => resolveAmqpOptions({ url: 'http://x', queue: 'q' })).toThrow(invalid);
    expect(bad({ queue: '' })).toThrow(/queue/);
    expect(bad({ prefetch: 0 })).toThrow(/prefetch/);
    expect(bad({ exchangeType: 'nope' })).toThrow(/exchangeType/);
    expect(bad({ durable: 'yes' })).toThrow(/durable/);
    expect(bad({ reconnect: { initialDelay: '5s', maxDelay: '1s' } })).toThrow(/reconnect/);
  });
});

describe('errors', () => {
  it('map amqplib failures to CONNECTOR_ERROR with a hint by code, the url redacted and the cause kept', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5672'), { code: 'ECONNREFUSED' });
    const error = toConnectorError(refused, 'connecting', URL);
    expect(error.code).toBe(ErrorCode.CONNECTOR_ERROR);
    expect(error.message).toContain('is RabbitMQ running');
    expect(error.message).not.toContain('secret');
    expect(error.cause).toBe(refused);
    expect(error.details).toMatchObject({ action: 'connecting', amqpCode: 'ECONNREFUSED' });
    const conflict = toConnectorError(
      Object.assign(new Error('PRECONDITION_FAILED'), { code: 406 }),
      'declaring',
      URL,
    );
    expect(conflict.message).toContain('other settings');
    expect(
      amqpErrorCode(new Error('Handshake terminated by server: 403 (ACCESS-REFUSED) with message')),
    ).toBe('403');
    expect(redactUrl(URL)).toBe('amqp://guest:***@127.0.0.1:5672');
  });
});
