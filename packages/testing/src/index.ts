/**
 * `@ergon/testing`: the storage conformance suite, a fake clock, and helpers
 * for tests of flows and stores.
 *
 * @module
 */
export { type ConformanceOptions, describeExecutionLogConformance } from './conformance/index.js';
export { eventually, type FreezableOptions, type FreezableStore, freezableStore } from './drive.js';
export { FakeClock } from './fake-clock.js';
export { freePort, PrivateRedisServer, requireRedisServer } from './redis-server.js';
export { requireService, type ServiceCheck } from './services.js';
