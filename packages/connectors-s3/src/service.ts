/**
 * The protocol side of the S3 connector (DESIGN §3): one `S3Client` on one
 * bucket, the handful of calls the connector makes (each failure mapped to
 * a `CONNECTOR_ERROR`), whether the server honours conditional writes, and
 * health. Opening the bucket and the paged requests (listing, deleting) live
 * in `internal/`. Knows nothing of transactions; {@link S3Connector} does.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import {
  CopyObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { HealthStatus, Service } from '@ergon/core';
import { createClient, openBucket } from './internal/bucket.js';
import { isNotFound, isPreconditionFailed, toConnectorError } from './internal/errors.js';
import { deleteKeys, listPage } from './internal/pages.js';
import { type ResolvedServiceOptions, resolveServiceOptions, type S3ServiceOptions } from './options.js';

/** An object as a listing shows it. */
export interface ListedObject {
  /** The object's key. */
  readonly key: string;
  /** Its ETag, as the server reports it. */
  readonly etag: string;
  /** Its size in bytes. */
  readonly size: number;
  /** Server time of the last write (second precision on most servers). */
  readonly lastModified: number;
}

/** An object as read. */
export interface ReadObject {
  /** The whole body. */
  readonly body: Uint8Array;
  /** Its user metadata (`x-amz-meta-*`, names without the prefix). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Its ETag. */
  readonly etag: string;
  /** Its `Content-Type`, when it has one. */
  readonly contentType: string | undefined;
}

/** Options of {@link S3Service.put}. */
export interface PutOptions {
  /** User metadata to store with the object. */
  readonly metadata?: Readonly<Record<string, string>> | undefined;
  /** The `Content-Type` to store. */
  readonly contentType?: string | undefined;
  /** Write only if no object has this key (`If-None-Match: *`). */
  readonly ifAbsent?: boolean | undefined;
  /** Write only if the object's ETag is this (`If-Match`). */
  readonly ifMatch?: string | undefined;
  /** Aborts the request. */
  readonly signal?: AbortSignal | undefined;
}

/** An S3 (or S3-compatible) bucket, with health. */
export class S3Service implements Service {
  /** Stable name, `s3:<bucket>` by default. */
  readonly name: string;
  /** The resolved options. */
  readonly options: ResolvedServiceOptions;
  #client: S3Client | undefined;
  #starting: Promise<void> | undefined;
  #conditional: Promise<boolean> | undefined;

  /** @throws InvalidArgumentError for bad options. */
  constructor(options: S3ServiceOptions) {
    this.options = resolveServiceOptions(options);
    this.name = this.options.name;
  }

  /** The bucket. */
  get bucket(): string {
    return this.options.bucket;
  }

  /** The client. Only after `start`. */
  get client(): S3Client {
    if (!this.#client)
      throw toConnectorError(new Error('the service is not started'), { action: 'use', bucket: this.bucket });
    return this.#client;
  }

  /** Makes the client (unless given) and checks the bucket (creating it with `createBucket`). Idempotent. */
  start(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.#starting ??= this.#open().catch((error: unknown) => {
      this.#starting = undefined;
      this.#dispose();
      throw toConnectorError(error, { action: 'open bucket', bucket: this.bucket });
    });
    return this.#starting;
  }

  /** Releases the client it made (never one you gave). Idempotent; `start` works again after. */
  async stop(): Promise<void> {
    const starting = this.#starting;
    this.#starting = undefined;
    await starting?.catch(() => undefined);
    this.#dispose();
  }

  /** Healthy when the bucket answers a HEAD within a second. */
  async health(): Promise<HealthStatus> {
    if (!this.#starting || !this.#client) return { healthy: false, detail: 'not started (or stopped)' };
    try {
      await this.#starting;
      await this.#client.send(new HeadBucketCommand({ Bucket: this.bucket }), {
        abortSignal: AbortSignal.timeout(1000),
      });
      return { healthy: true };
    } catch (error) {
      return {
        healthy: false,
        detail: toConnectorError(error, { action: 'reach', bucket: this.bucket }).message,
      };
    }
  }

  /** The server's clock as this process sees it (the SDK's measured skew applied), in ms. */
  now(): number {
    const offset =
      (this.#client?.config as { systemClockOffset?: number } | undefined)?.systemClockOffset ?? 0;
    return Date.now() + offset;
  }

  /**
   * Whether the server honours `If-None-Match: *` on PUT: writes a probe
   * marker under `probePrefix` twice and sees whether the second is refused.
   * Asked once per service.
   */
  conditionalWrites(probePrefix: string): Promise<boolean> {
    this.#conditional ??= (async () => {
      const key = `${probePrefix}.probe-${randomUUID()}`;
      try {
        await this.put(key, new Uint8Array(), { ifAbsent: true });
        return (await this.put(key, new Uint8Array(), { ifAbsent: true })) === undefined;
      } catch (error) {
        const code = (error as { details?: { s3Code?: string } }).details?.s3Code;
        if (code === 'NotImplemented' || code === 'InvalidArgument') return false;
        throw error;
      } finally {
        await this.deleteMany([key]).catch(() => undefined);
      }
    })().catch((error: unknown) => {
      this.#conditional = undefined;
      throw error;
    });
    return this.#conditional;
  }

  /** Reads an object; `undefined` when there is none. */
  async get(key: string, signal?: AbortSignal): Promise<ReadObject | undefined> {
    try {
      const reply = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
        abortSignal: signal,
      });
      return {
        body: (await reply.Body?.transformToByteArray()) ?? new Uint8Array(),
        metadata: reply.Metadata ?? {},
        etag: reply.ETag ?? '',
        contentType: reply.ContentType,
      };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw toConnectorError(error, { action: 'read', bucket: this.bucket, key });
    }
  }

  /** An object's metadata and size, without its body; `undefined` when there is none. */
  async head(key: string): Promise<
    | {
        /** The object's user metadata. */
        metadata: Readonly<Record<string, string>>;
        /** Its size in bytes. */
        size: number;
      }
    | undefined
  > {
    try {
      const reply = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { metadata: reply.Metadata ?? {}, size: reply.ContentLength ?? 0 };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw toConnectorError(error, { action: 'look at', bucket: this.bucket, key });
    }
  }

  /** Writes an object; resolves its ETag, or `undefined` when a condition (`ifAbsent`, `ifMatch`) failed. */
  async put(key: string, body: Uint8Array | string, options: PutOptions = {}): Promise<string | undefined> {
    try {
      const reply = await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: options.contentType,
          Metadata: options.metadata ? { ...options.metadata } : undefined,
          IfNoneMatch: options.ifAbsent ? '*' : undefined,
          IfMatch: options.ifMatch,
        }),
        { abortSignal: options.signal },
      );
      return reply.ETag ?? '';
    } catch (error) {
      if ((options.ifAbsent || options.ifMatch) && isPreconditionFailed(error)) return undefined;
      throw toConnectorError(error, { action: 'write', bucket: this.bucket, key });
    }
  }

  /** Copies an object (server side), replacing its metadata when given; false when the source is gone. */
  async copy(from: string, to: string, metadata?: Readonly<Record<string, string>>): Promise<boolean> {
    try {
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: to,
          CopySource: `${this.bucket}/${encodeURIComponent(from).replaceAll('%2F', '/')}`,
          ...(metadata ? { Metadata: { ...metadata }, MetadataDirective: 'REPLACE' as const } : {}),
        }),
      );
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw toConnectorError(error, {
        action: `copy s3://${this.bucket}/${from} to`,
        bucket: this.bucket,
        key: to,
      });
    }
  }

  /** Deletes objects, 1000 per request; missing ones are fine. */
  deleteMany(keys: readonly string[]): Promise<void> {
    return deleteKeys(this, keys);
  }

  /** One page of the keys under `prefix`, after `startAfter`, in key order. */
  list(
    prefix: string,
    options: { startAfter?: string | undefined; maxKeys?: number; signal?: AbortSignal | undefined } = {},
  ): Promise<{
    /** The objects of this page, in key order. */
    objects: ListedObject[];
    /** True when more objects follow (list again after the last key). */
    truncated: boolean;
  }> {
    return listPage(this, prefix, options);
  }

  /** Every key under `prefix` (page after page). */
  async listAll(prefix: string, signal?: AbortSignal): Promise<ListedObject[]> {
    const out: ListedObject[] = [];
    for (let startAfter: string | undefined; ; ) {
      const page = await this.list(prefix, { startAfter, signal });
      out.push(...page.objects);
      if (!page.truncated || page.objects.length === 0) return out;
      startAfter = page.objects[page.objects.length - 1]?.key;
    }
  }

  async #open(): Promise<void> {
    this.#client = createClient(this.options);
    await openBucket(this.#client, this.options.bucket, this.options.createBucket);
  }

  #dispose(): void {
    if (!this.options.client) this.#client?.destroy();
    this.#client = undefined;
  }
}
