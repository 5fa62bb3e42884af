/**
 * `@ergon/testing`: the storage conformance suite, a fake clock, and helpers
 * for tests of flows and stores.
 *
 * @module
 */

export type { DamageHooks } from './conformance/damaged.js';
export {
  type ConformanceOptions,
  describeExecutionLogConformance,
  type StoreConformanceSkip,
} from './conformance/index.js';
export {
  type CapabilitySupport,
  CONNECTOR_CAPABILITIES,
  type ConformanceConnector,
  type ConformancePayload,
  type ConformanceSkip,
  type ConnectorCapabilities,
  type ConnectorCapability,
  type ConnectorHarness,
  type ConsumerProcess,
  type DeadLetterRecord,
  type PoisonKind,
} from './connector-conformance/harness.js';
export {
  type ConnectorConformanceOptions,
  describeConnectorConformance,
} from './connector-conformance/index.js';
export { eventually, type FreezableOptions, type FreezableStore, freezableStore } from './drive.js';
export { FakeClock } from './fake-clock.js';
export {
  countFileEffects,
  countFlowStatuses,
  type FlowLister,
  type KillPipelineOptions,
  type KillPipelineRun,
  readFileEffects,
  runKillPipeline,
} from './kill-pipeline.js';
export { PrivateMosquitto, requireMosquitto } from './mosquitto.js';
export { PrivateNatsServer, requireNatsServer } from './nats-server.js';
export { type FileEffectPaths, recordFileEffect } from './pipeline-child.js';
export { PrivateServer, type ServerKind } from './private-server.js';
export {
  type ClusterNode,
  PrivateRedisCluster,
  parseClusterNodes,
  type RedisClusterOptions,
  requireRedisCluster,
  type StartupNode,
} from './redis-cluster.js';
export { freePort, PrivateRedisServer, requireRedisServer } from './redis-server.js';
export {
  expectDiverges,
  expectReplays,
  type ReplayCheckFn,
  type ReplayReport,
  type ReplayVerdict,
} from './replay.js';
export { dropSchemasLike, SchemaPool, type SqlQuery, type SqlResult } from './schema-pool.js';
export { requireService, type ServiceCheck } from './services.js';
export { TcpProxy } from './tcp-proxy.js';
