/**
 * Requests that go a page at a time: a listing page (ListObjectsV2,
 * repeated on a server's transient 5xx a little longer than the SDK does:
 * a listing is safe to repeat), and deletions of 1000 keys a request
 * (DeleteObjects; a key already gone is fine).
 *
 * @module
 */
import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { ListedObject } from '../service.js';
import { toConnectorError } from './errors.js';
import { sleep } from './pool.js';

/** The service's client and bucket; the client is read at each request (it throws when not started). */
export interface BucketClient {
  readonly client: S3Client;
  readonly bucket: string;
}

/** Options of {@link listPage}. */
export interface ListPageOptions {
  readonly startAfter?: string | undefined;
  readonly maxKeys?: number;
  readonly signal?: AbortSignal | undefined;
}

const DELETE_PAGE = 1000;
const LIST_ATTEMPTS = 5;

/** One page of the keys under `prefix`, after `startAfter`, in key order. */
export async function listPage(
  s3: BucketClient,
  prefix: string,
  options: ListPageOptions,
): Promise<{ objects: ListedObject[]; truncated: boolean }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await listOnce(s3, prefix, options);
    } catch (error) {
      // A listing is safe to repeat: ride out a server's transient failures (5xx) a little longer than the SDK does.
      const status = (error as { details?: { httpStatus?: number } }).details?.httpStatus ?? 0;
      if (options.signal?.aborted || status < 500 || attempt >= LIST_ATTEMPTS) throw error;
      await sleep(50 * attempt, options.signal);
    }
  }
}

async function listOnce(
  s3: BucketClient,
  prefix: string,
  options: ListPageOptions,
): Promise<{ objects: ListedObject[]; truncated: boolean }> {
  try {
    const reply = await s3.client.send(
      new ListObjectsV2Command({
        Bucket: s3.bucket,
        Prefix: prefix,
        StartAfter: options.startAfter || undefined,
        MaxKeys: options.maxKeys ?? 1000,
      }),
      { abortSignal: options.signal },
    );
    const objects = (reply.Contents ?? []).map((o) => ({
      key: o.Key ?? '',
      etag: o.ETag ?? '',
      size: o.Size ?? 0,
      lastModified: o.LastModified?.getTime() ?? 0,
    }));
    return { objects, truncated: reply.IsTruncated === true };
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw toConnectorError(error, { action: 'list', bucket: s3.bucket, key: prefix });
  }
}

/** Deletes `keys`, 1000 per request; missing ones are fine. */
export async function deleteKeys(s3: BucketClient, keys: readonly string[]): Promise<void> {
  for (let from = 0; from < keys.length; from += DELETE_PAGE) {
    const page = keys.slice(from, from + DELETE_PAGE);
    let reply: { Errors?: { Key?: string; Code?: string; Message?: string }[] };
    try {
      reply = await s3.client.send(
        new DeleteObjectsCommand({
          Bucket: s3.bucket,
          Delete: { Objects: page.map((Key) => ({ Key })), Quiet: true },
        }),
      );
    } catch (error) {
      throw toConnectorError(error, { action: 'delete objects from', bucket: s3.bucket, key: page[0] });
    }
    const failed = (reply.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
    if (failed.length > 0) {
      const [first] = failed;
      throw toConnectorError(
        Object.assign(new Error(first?.Message ?? 'delete refused'), { Code: first?.Code }),
        {
          action: `delete ${failed.length} objects from`,
          bucket: s3.bucket,
          key: first?.Key,
        },
      );
    }
  }
}
