/**
 * S3 objects: objects/s claimed, read, run through a no-op consumer task and
 * acked (`@ergon/connectors-s3` under `@ergon/tasks`' runner: a lease marker
 * per object, read-after-write claims on s3rver, ack as a move under the
 * done prefix), beside a raw `@aws-sdk/client-s3` loop that lists a page,
 * reads and parses each object and moves it (copy, then delete), at the
 * same concurrency, in the same run (see `connector-rounds.ts`). On a
 * private s3rver in a process of its own, its data in memory (/dev/shm)
 * where there is such a directory.
 *
 * @module
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { createS3Connector } from '@ergon/connectors-s3';
import { ConsumerPolicy, consumer } from '@ergon/tasks';
import type { Bench, BenchContext } from '../lib/bench.js';
import { makeRow } from '../lib/results.js';
import { uniqueName } from '../lib/services.js';
import { alternateRounds, type ConnectorSide, roundExtras, roundLog, timeAcks } from './connector-rounds.js';

const CONCURRENCY = 32;
const BUCKET = 'ergon-bench';
const MESSAGES = { full: 3000, quick: 1000, smoke: 20 } as const;
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** s3rver in a child process; resolves with its endpoint and a stop function. */
async function privateS3rver(): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'ergon-bench-s3rver-'));
  const child: ChildProcess = fork(new URL('../workers/s3rver.js', import.meta.url), [dir], {
    execArgv: ['--openssl-legacy-provider'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const [message] = (await once(child, 'message')) as [{ port: number }];
  return {
    endpoint: `http://127.0.0.1:${message.port}`,
    stop: async () => {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Runs `work` on each item, `limit` at once. */
async function pool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/** A fresh prefix holding `count` small JSON objects; returns the prefix. */
async function fill(s3: S3Client, count: number, label: string): Promise<string> {
  const prefix = `${uniqueName(`s3-${label}`)}/`;
  const ns = Array.from({ length: count }, (_, n) => n);
  await pool(ns, 64, (n) =>
    s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: `${prefix}m-${String(n).padStart(6, '0')}`,
        Body: JSON.stringify({ n, sku: 'A-1', quantity: 2 }),
        ContentType: 'application/json',
      }),
    ),
  );
  return prefix;
}

/** The raw client: list a page, then read, parse and move (copy + delete) each object; ms until `count` moved. */
async function raw(s3: S3Client, prefix: string, count: number): Promise<number> {
  const t0 = performance.now();
  const done = `${prefix.slice(0, -1)}.done/`;
  let moved = 0;
  while (moved < count) {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, MaxKeys: 250 }));
    const keys = (page.Contents ?? []).map((o) => o.Key as string);
    await pool(keys, CONCURRENCY, async (key) => {
      const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      JSON.parse(await (object.Body as { transformToString(): Promise<string> }).transformToString());
      await s3.send(
        new CopyObjectCommand({
          Bucket: BUCKET,
          Key: `${done}${key.slice(prefix.length)}`,
          CopySource: `${BUCKET}/${key}`,
        }),
      );
      await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    });
    moved += keys.length;
  }
  return performance.now() - t0;
}

/** Ergon: a no-op consumer task over the connector; ms until `count` transactions were acked. */
async function ergon(endpoint: string, prefix: string, count: number): Promise<number> {
  const t0 = performance.now();
  const input = createS3Connector({
    bucket: BUCKET,
    endpoint,
    credentials: CREDENTIALS,
    prefix,
    maxInFlight: 100,
    concurrency: CONCURRENCY,
    fetchWait: '200ms',
  });
  const task = consumer({
    name: 'bench-s3',
    connectors: { input },
    policies: { consumer: new ConsumerPolicy({ concurrency: 100, batchSize: 100, limit: count }) },
    processTransaction: async () => undefined,
  });
  return timeAcks(task, count, t0);
}

export const connectorS3: Bench = {
  id: 'connector-s3',
  rows: [{ name: 'connector-s3', unit: 'messages/s', better: 'higher' }],
  run: async (context: BenchContext) => {
    const count = MESSAGES[context.mode];
    const server = await privateS3rver();
    const s3 = client(server.endpoint);
    try {
      await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
      const side = (consume: ConnectorSide['consume']): ConnectorSide => ({
        fill: (n, label) => fill(s3, n, label),
        consume,
      });
      const rates = await alternateRounds(
        {
          raw: side((prefix, n) => raw(s3, prefix, n)),
          ergon: side((prefix, n) => ergon(server.endpoint, prefix, n)),
        },
        count,
        Math.min(count, 100),
      );
      const best = (values: number[]) => Math.max(...values);
      context.log(roundLog(rates, '@aws-sdk/client-s3'));
      return [
        makeRow('connector-s3', {
          unit: 'messages/s',
          better: 'higher',
          ergon: best(rates.ergon),
          peer: 'raw @aws-sdk/client-s3 loop: list, get and parse, copy + delete each object',
          peerValue: best(rates.raw),
          extra: { size: count, concurrency: CONCURRENCY, server: 's3rver', ...roundExtras(rates) },
        }),
      ];
    } finally {
      s3.destroy();
      await server.stop();
    }
  },
};
