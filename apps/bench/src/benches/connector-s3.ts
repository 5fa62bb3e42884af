/**
 * S3 objects: objects/s claimed, read, run through a no-op consumer task and
 * acked (`@ergon/connectors-s3` under `@ergon/tasks`' runner: a lease marker
 * per object, read-after-write claims on s3rver, ack as a move under the
 * done prefix), beside a raw `@aws-sdk/client-s3` loop that does the same
 * work by hand (lists a page, claims each object with a lease marker and
 * reads the markers back after a settle, reads and parses each object, copies
 * it under the done prefix, deletes objects and markers in batches), at the
 * same concurrency and in-flight bound, in the same run (see `connector-rounds.ts`). On a
 * private s3rver in a process of its own, its data in memory (/dev/shm)
 * where there is such a directory. The raw loop checks all of a round's
 * markers against one listing; the connector lists again (after the last key
 * written) when that listing is older than `claimSettle / 2`, as its
 * read-after-write claims require: a few listings per hundred objects more
 * on a loaded machine, where writes take longer.
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
  DeleteObjectsCommand,
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

/** Objects claimed per round by the raw loop: as many as the connector may hold (`maxInFlight`). */
const RAW_PAGE = 100;
/** How long the raw loop lets claim markers settle before reading them back (the connector's `claimSettle` default). */
const CLAIM_SETTLE_MS = 50;

/** The lease markers under `leases`, key → ETag. */
async function markers(s3: S3Client, leases: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: leases, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) out.set(o.Key as string, o.ETag ?? '');
    token = page.NextContinuationToken;
  } while (token);
  return out;
}

/**
 * The raw client doing the connector's work by hand, so that consumers could
 * share the prefix: list a page of objects, claim each with a lease marker
 * (a PUT with `If-None-Match: *`; s3rver ignores the condition, so, as the
 * connector does there, the markers are listed again after a settle and a
 * claim holds where the ETag is still its own), then read and parse each
 * object, move it (copy under the done prefix), and delete the objects and
 * their markers in one `DeleteObjects`; ms until `count` moved.
 */
async function raw(s3: S3Client, prefix: string, count: number): Promise<number> {
  const t0 = performance.now();
  const base = prefix.slice(0, -1);
  const done = `${base}.done/`;
  const leases = `${base}.leases/`;
  let moved = 0;
  while (moved < count) {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, MaxKeys: RAW_PAGE }),
    );
    const keys = (page.Contents ?? []).map((o) => o.Key as string);
    const before = await markers(s3, leases);
    const written = new Map<string, string>();
    await pool(
      keys.filter((key) => !before.has(`${leases}${key.slice(prefix.length)}`)),
      CONCURRENCY,
      async (key) => {
        const marker = `${leases}${key.slice(prefix.length)}`;
        const reply = await s3.send(
          new PutObjectCommand({
            Bucket: BUCKET,
            Key: marker,
            Body: JSON.stringify({ owner: 'raw', expiresAt: new Date(Date.now() + 30_000).toISOString() }),
            ContentType: 'application/json',
            IfNoneMatch: '*',
          }),
        );
        written.set(key, reply.ETag ?? '');
      },
    );
    await new Promise((resolve) => setTimeout(resolve, CLAIM_SETTLE_MS));
    const after = await markers(s3, leases);
    const claimed = [...written].filter(
      ([key, etag]) => after.get(`${leases}${key.slice(prefix.length)}`) === etag,
    );
    await pool(claimed, CONCURRENCY, async ([key]) => {
      const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      JSON.parse(await (object.Body as { transformToString(): Promise<string> }).transformToString());
      await s3.send(
        new CopyObjectCommand({
          Bucket: BUCKET,
          Key: `${done}${key.slice(prefix.length)}`,
          CopySource: `${BUCKET}/${key}`,
        }),
      );
    });
    // The objects before their markers, as the connector deletes them: nobody claims a moved object.
    for (const which of [(key: string) => key, (key: string) => `${leases}${key.slice(prefix.length)}`]) {
      if (claimed.length === 0) break;
      await s3.send(
        new DeleteObjectsCommand({
          Bucket: BUCKET,
          Delete: { Objects: claimed.map(([key]) => ({ Key: which(key) })), Quiet: true },
        }),
      );
    }
    moved += claimed.length;
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
          peer: 'raw @aws-sdk/client-s3 loop: list, claim with lease markers, get and parse, copy, batch delete',
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
