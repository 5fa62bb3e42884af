/**
 * A real Redis Cluster of a test's own: `redis-server` processes in cluster
 * mode on free loopback ports, each in its own temp dir, joined with
 * `redis-cli --cluster create … --cluster-replicas 1`, ready once every node
 * reports `cluster_state:ok` and every master has its replica. {@link
 * PrivateRedisCluster.stop} kills only the processes it started and removes
 * their directories.
 *
 * @module
 */
import { execFile, spawnSync } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { requireBinary } from './private-server.js';
import { PrivateRedisServer } from './redis-server.js';

const run = promisify(execFile);

/** How to start a {@link PrivateRedisCluster}. */
export interface RedisClusterOptions {
  /** Masters (≥ 3, as `redis-cli --cluster create` requires). Default 3. */
  readonly masters?: number;
  /** Replicas per master. Default 1. */
  readonly replicas?: number;
  /**
   * `cluster-node-timeout` (ms): how long a master may be unreachable before its replica is
   * promoted. Default 1000, so a failover test sees one within a few seconds.
   */
  readonly nodeTimeoutMs?: number;
  /** More `redis-server` arguments for every node. */
  readonly extraArgs?: readonly string[];
}

/** One node as `CLUSTER NODES` reports it. */
export interface ClusterNode {
  /** Its node id. */
  readonly id: string;
  /** Its port on 127.0.0.1. */
  readonly port: number;
  /** `master` or `replica`. */
  readonly role: 'master' | 'replica';
  /** For a replica, its master's node id. */
  readonly masterId: string | undefined;
  /** Whether the cluster marks it failed (`fail` or `fail?`). */
  readonly failed: boolean;
}

/**
 * Whether a private cluster can be started (`redis-server` and `redis-cli` on PATH).
 * Under `CI=true` a missing binary throws (the suite fails); elsewhere it warns and returns false.
 */
export function requireRedisCluster(): boolean {
  const has = (command: string) => spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;
  return (
    requireBinary(
      'redis-server',
      () => has('redis-server'),
      'Redis 7: apt-get install redis-server',
      'Redis Cluster',
    ) &&
    requireBinary(
      'redis-cli',
      () => has('redis-cli'),
      'Redis 7: apt-get install redis-tools',
      'Redis Cluster',
    )
  );
}

/** One node's address, as a cluster client's startup node. */
export interface StartupNode {
  /** Its host (loopback). */
  host: string;
  /** Its port. */
  port: number;
}

/** A Redis Cluster of private `redis-server` processes. */
export class PrivateRedisCluster {
  /** Every node this cluster started, masters first as created (their roles may change by failover). */
  readonly servers: readonly PrivateRedisServer[];

  private constructor(servers: readonly PrivateRedisServer[]) {
    this.servers = servers;
  }

  /** Starts the nodes, creates the cluster and waits until it serves every slot with every replica in sync. */
  static async start(options: RedisClusterOptions = {}): Promise<PrivateRedisCluster> {
    const masters = options.masters ?? 3;
    const replicas = options.replicas ?? 1;
    const args = [
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      'nodes.conf',
      '--cluster-node-timeout',
      String(options.nodeTimeoutMs ?? 1000),
      ...(options.extraArgs ?? []),
    ];
    const started = await Promise.allSettled(
      Array.from({ length: masters * (1 + replicas) }, () => PrivateRedisServer.start(args)),
    );
    const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const cluster = new PrivateRedisCluster(servers);
    try {
      const failed = started.find((s) => s.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      await run(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...servers.map((s) => `127.0.0.1:${s.port}`),
          '--cluster-replicas',
          String(replicas),
          '--cluster-yes',
        ],
        { timeout: 30_000 },
      );
      await cluster.waitUntilHealthy(30_000, masters, masters * replicas);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** Where a cluster client starts: every node, as `{ host, port }`. */
  get startupNodes(): StartupNode[] {
    return this.servers.map((s) => ({ host: '127.0.0.1', port: s.port }));
  }

  /** The server process listening on `port`. */
  server(port: number): PrivateRedisServer {
    const server = this.servers.find((s) => s.port === port);
    if (!server) throw new Error(`no node of this cluster listens on ${port}`);
    return server;
  }

  /** The nodes as one live node sees them (`CLUSTER NODES`). */
  async nodes(): Promise<ClusterNode[]> {
    let lastError: unknown;
    for (const server of this.servers) {
      try {
        const text = await this.cli(server.port, 'CLUSTER', 'NODES');
        return parseClusterNodes(text);
      } catch (error) {
        lastError = error; // that node is down: ask the next
      }
    }
    throw lastError;
  }

  /** The ports of the current masters that are not marked failed. */
  async masterPorts(): Promise<number[]> {
    return (await this.nodes()).filter((n) => n.role === 'master' && !n.failed).map((n) => n.port);
  }

  /**
   * Waits until every live node reports `cluster_state:ok`, `masters` masters are up and
   * `replicas` replicas are linked to them.
   */
  async waitUntilHealthy(timeoutMs: number, masters: number, replicas: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      try {
        const nodes = await this.nodes();
        const live = nodes.filter((n) => !n.failed);
        const ok = await Promise.all(
          live.map(async (n) => (await this.cli(n.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok')),
        );
        const linked = await Promise.all(
          live
            .filter((n) => n.role === 'replica')
            .map(async (n) =>
              (await this.cli(n.port, 'INFO', 'replication')).includes('master_link_status:up'),
            ),
        );
        const upMasters = live.filter((n) => n.role === 'master').length;
        if (ok.every(Boolean) && upMasters >= masters && linked.filter(Boolean).length >= replicas) return;
        last = `${upMasters} masters, ${linked.filter(Boolean).length} linked replicas, state ok on ${ok.filter(Boolean).length}/${live.length}`;
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
      }
      if (Date.now() > deadline) throw new Error(`Redis Cluster not healthy within ${timeoutMs} ms: ${last}`);
      await delay(100);
    }
  }

  /** Runs one command with `redis-cli` against the node on `port`; its text reply. */
  async cli(port: number, ...command: string[]): Promise<string> {
    const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...command], {
      timeout: 5000,
    });
    return stdout;
  }

  /** Kills every node it started (SIGKILL) and removes their directories. */
  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
  }
}

/** `CLUSTER NODES` output as records. */
export function parseClusterNodes(text: string): ClusterNode[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [id = '', address = '', flags = '', master = '-'] = line.split(' ');
      const port = Number(address.split('@')[0]?.split(':').at(-1));
      const flagList = flags.split(',');
      return {
        id,
        port,
        role: flagList.includes('master') ? ('master' as const) : ('replica' as const),
        masterId: master === '-' ? undefined : master,
        failed: flagList.includes('fail') || flagList.includes('fail?'),
      };
    });
}
