/**
 * What the numbers were measured on.
 *
 * @module
 */
import { arch, cpus, freemem, loadavg, platform, release, totalmem } from 'node:os';
import { Redis } from 'ioredis';
import { REDIS_URL } from './config.js';
import { pgQuery } from './services.js';

export interface Machine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly freeMemoryGiB: number;
  readonly loadAverage: readonly number[];
  readonly os: string;
  readonly arch: string;
  readonly node: string;
  readonly redis: string | null;
  readonly postgres: string | null;
  readonly redisUrl: string;
}

async function redisVersion(): Promise<string | null> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true, connectTimeout: 2000 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const info = await redis.info('server');
    return info.match(/redis_version:(\S+)/)?.[1] ?? 'unknown';
  } catch {
    return null;
  } finally {
    redis.disconnect();
  }
}

async function postgresVersion(): Promise<string | null> {
  try {
    const rows = await pgQuery('SHOW server_version');
    return String(rows[0]?.server_version ?? 'unknown');
  } catch {
    return null;
  }
}

export async function describeMachine(): Promise<Machine> {
  const list = cpus();
  const gib = (bytes: number) => Math.round((bytes / 2 ** 30) * 10) / 10;
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    memoryGiB: gib(totalmem()),
    freeMemoryGiB: gib(freemem()),
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
    os: `${platform()} ${release()}`,
    arch: arch(),
    node: process.version,
    redis: await redisVersion(),
    postgres: await postgresVersion(),
    redisUrl: REDIS_URL.replace(/\/\/[^@/]*@/, '//***@'),
  };
}
