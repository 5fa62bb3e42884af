// Shared by the S3 tests: the endpoint (a private s3rver on a free loopback
// port, started by the file that needs it, over real HTTP with the real AWS
// client; or any endpoint given by ERGON_S3_URL), prefixes unique per test,
// and their cleanup.
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { type CreateS3ConnectorOptions, createS3Connector, type S3Connector } from '../src/index.js';

/**
 * `ERGON_S3_URL`: an S3-compatible endpoint to test against instead of a
 * private s3rver, as `http(s)://ACCESS_KEY:SECRET@host:port/bucket`
 * (credentials default to AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, the
 * bucket to `ergon-test`, created when missing).
 */
export const EXTERNAL_URL = process.env.ERGON_S3_URL || undefined;

/** Where the tests' S3 is, once {@link useS3} started it. */
export interface S3Target {
  readonly endpoint: string;
  readonly bucket: string;
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  /** Present for the private s3rver: ends every open connection server-side (a dropped network); resolves how many. */
  readonly dropConnections?: () => Promise<number>;
}

function external(url: string): S3Target {
  const parsed = new URL(url);
  const bucket = parsed.pathname.replace(/^\/|\/$/g, '') || 'ergon-test';
  const credentials = {
    accessKeyId: decodeURIComponent(parsed.username) || process.env.AWS_ACCESS_KEY_ID || '',
    secretAccessKey: decodeURIComponent(parsed.password) || process.env.AWS_SECRET_ACCESS_KEY || '',
  };
  return { endpoint: `${parsed.protocol}//${parsed.host}`, bucket, credentials };
}

const SERVER = fileURLToPath(new URL('./fixtures/s3rver.mjs', import.meta.url));

/**
 * The S3 of this test file: `ERGON_S3_URL`, or a private s3rver in a child
 * process on a free loopback port, its data in a temporary directory (in
 * memory under /dev/shm where there is one), stopped after the file.
 */
export function useS3(): { readonly current: S3Target } {
  const state: { current: S3Target } = { current: undefined as unknown as S3Target };
  let server: ChildProcess | undefined;
  let directory: string | undefined;
  beforeAll(async () => {
    if (EXTERNAL_URL) {
      state.current = external(EXTERNAL_URL);
      return;
    }
    directory = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'ergon-s3rver-'));
    // s3rver 3.7 makes ListObjectsV2 continuation tokens with DES, which OpenSSL 3 (Node ≥ 17) has only as legacy.
    const child = fork(SERVER, [directory], {
      execArgv: ['--openssl-legacy-provider'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    server = child;
    const [{ port }] = (await once(child, 'message')) as [{ port: number }];
    state.current = {
      endpoint: `http://127.0.0.1:${port}`,
      bucket: 'ergon-test',
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      dropConnections: async () => {
        const answer = once(child, 'message') as Promise<[{ dropped: number }]>;
        child.send({ type: 'drop' });
        return (await answer)[0].dropped;
      },
    };
  });
  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = once(server, 'exit');
      server.kill();
      await exited;
    }
    if (directory) rmSync(directory, { recursive: true, force: true });
  });
  return state;
}

/** Connector options on the target, for a prefix. */
export function connectorOptions(target: S3Target, prefix: string): CreateS3ConnectorOptions {
  return {
    bucket: target.bucket,
    endpoint: target.endpoint,
    credentials: target.credentials,
    createBucket: true,
    prefix,
  };
}

/** A prefix no other test uses: `t-<random>/` (its state prefixes are `t-<random>.done/`, …). */
export function uniquePrefix(): string {
  return `t-${randomUUID().slice(0, 13)}/`;
}

/** Deletes every object whose key starts with `base` (a prefix and its state prefixes). */
export async function deleteUnder(target: S3Target, base: string): Promise<void> {
  const admin: S3Connector = createS3Connector(connectorOptions(target, 'ergon-admin/'));
  try {
    await admin.start();
    const keys = (await admin.service.listAll(base)).map((o) => o.key);
    await admin.service.deleteMany(keys);
  } finally {
    await admin.stop();
  }
}
