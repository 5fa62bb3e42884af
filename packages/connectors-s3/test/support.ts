// Shared by the S3 tests: the endpoint (a private s3rver on a free loopback
// port, started by the file that needs it, over real HTTP with the real AWS
// client; or any endpoint given by ERGON_S3_URL), prefixes unique per test,
// and their cleanup.
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import S3rver from 's3rver';
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
  /** Present for the private s3rver: ends every open connection server-side (a dropped network). */
  readonly dropConnections?: () => number;
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

/**
 * The S3 of this test file: `ERGON_S3_URL`, or a private s3rver on a free
 * loopback port with its data in a temporary directory, closed after the file.
 */
export function useS3(): { readonly current: S3Target } {
  const state: { current: S3Target } = { current: undefined as unknown as S3Target };
  let server: S3rver | undefined;
  let directory: string | undefined;
  beforeAll(async () => {
    if (EXTERNAL_URL) {
      state.current = external(EXTERNAL_URL);
      return;
    }
    directory = mkdtempSync(join(tmpdir(), 'ergon-s3rver-'));
    server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
    const { port } = await server.run();
    const http = (server as unknown as { httpServer: Server }).httpServer;
    const sockets = new Set<Socket>();
    http.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    state.current = {
      endpoint: `http://127.0.0.1:${port}`,
      bucket: 'ergon-test',
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      dropConnections: () => {
        const n = sockets.size;
        for (const socket of sockets) socket.destroy();
        return n;
      },
    };
  });
  afterAll(async () => {
    await server?.close();
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
