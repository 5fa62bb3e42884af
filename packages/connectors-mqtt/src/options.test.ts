import { ErrorCode } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { MqttConnector } from './connector.js';
import { type MqttServiceOptions, resolveMqttOptions } from './options.js';
import { MqttService } from './service.js';

const base = { url: 'mqtt://127.0.0.1:1883', topic: 'orders' };

describe('MQTT options', () => {
  it('fill in the defaults and are frozen', () => {
    const options = resolveMqttOptions({ ...base, group: 'fulfilment', clientId: 'fulfilment-1' });
    expect(options).toMatchObject({
      name: 'mqtt:orders',
      group: 'fulfilment',
      clientId: 'fulfilment-1',
      deadLetterTopic: 'orders/dead-letter',
      sessionExpiryMs: 86_400_000,
      receiveMaximum: 64,
    });
    expect(Object.isFrozen(options)).toBe(true);
  });

  it('give a publisher a random client id', () => {
    expect(resolveMqttOptions(base).clientId).toMatch(/^ergon-/);
  });

  it.each<[string, Partial<MqttServiceOptions>]>([
    ['a url of another scheme', { url: 'http://127.0.0.1:1883' }],
    ['a wildcard topic', { topic: 'orders/#' }],
    ['a shared-subscription topic', { topic: '$share/g/orders' }],
    ['a group with a slash', { group: 'a/b', clientId: 'x' }],
    ['a consumer without a client id', { group: 'fulfilment' }],
    ['a receive maximum of zero', { receiveMaximum: 0 }],
    ['a session expiry under a second', { sessionExpiry: '10ms' }],
    ['a dead-letter topic equal to the topic', { deadLetterTopic: 'orders' }],
  ])('refuse %s with INVALID_ARGUMENT', (_what, change) => {
    expect(() => resolveMqttOptions({ ...base, ...change })).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_ARGUMENT }),
    );
  });

  it('make the connector refuse a missing service and a bad delivery limit', () => {
    expect(() => new MqttConnector({ service: {} as MqttService })).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_ARGUMENT }),
    );
    expect(() => new MqttConnector({ service: new MqttService(base), maxDeliveries: 0 })).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_ARGUMENT }),
    );
  });
});
