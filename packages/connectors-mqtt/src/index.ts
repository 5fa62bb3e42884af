/**
 * `@ergon/connectors-mqtt`: an MQTT 5 topic as a transaction source and
 * sink. An {@link MqttService} owns the client (a persistent session, the
 * group's shared subscription at QoS 1, deferred PUBACKs, publishes awaiting
 * PUBACK, reconnection); an {@link MqttConnector} turns it into transactions
 * (an in-flight bound, ack, requeue and dead letters built from publishes).
 *
 * @module
 */
export { MqttConnector, type MqttConnectorOptions } from './connector.js';
export {
  DEAD_LETTER_PROPERTIES,
  type DeadLetterReason,
  describeReason,
  type MqttDeadLetter,
  readDeadLetter,
} from './dead-letters.js';
export { mqttErrorCode, redactUrl, toConnectorError } from './errors.js';
export { type CreateMqttConnectorOptions, createMqttConnector } from './factory.js';
export {
  type BodyFormat,
  type IncomingMessage,
  MQTT_METADATA,
  MQTT_PROPERTIES,
  type OutgoingMessage,
  type UserProperties,
} from './messages.js';
export type { MqttServiceOptions, ResolvedMqttOptions } from './options.js';
export { type Delivery, MqttService } from './service.js';
