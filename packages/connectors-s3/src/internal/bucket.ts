/**
 * Opening the bucket: the `S3Client` the service makes (unless one is
 * given), set for S3-compatible servers when an endpoint is named, and the
 * bucket checked with a HEAD (created when missing, if `createBucket`).
 *
 * @module
 */
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { ResolvedServiceOptions } from '../options.js';
import { s3ErrorCode } from './errors.js';

/** The client given in the options, or a new one made from them. */
export function createClient(options: ResolvedServiceOptions): S3Client {
  const { client, endpoint, region, credentials, forcePathStyle } = options;
  return (
    client ??
    new S3Client({
      region,
      forcePathStyle,
      ...(endpoint === undefined
        ? {}
        : {
            endpoint,
            // S3-compatible servers differ in what checksums they understand: send them only where S3 requires them.
            requestChecksumCalculation: 'WHEN_REQUIRED' as const,
            responseChecksumValidation: 'WHEN_REQUIRED' as const,
          }),
      // A copy: the SDK marks the object it is given (frozen options would break it).
      ...(credentials === undefined ? {} : { credentials: { ...credentials } }),
      requestHandler: { requestTimeout: 30_000, connectionTimeout: 5000 },
    })
  );
}

/** Checks that `bucket` exists; creates it when it does not and `createBucket` is set. */
export async function openBucket(client: S3Client, bucket: string, createBucket: boolean): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (error) {
    const missing = s3ErrorCode(error) === 'NotFound' || s3ErrorCode(error) === 'NoSuchBucket';
    if (!missing || !createBucket) throw error;
    await client.send(new CreateBucketCommand({ Bucket: bucket })).catch((again: unknown) => {
      const code = s3ErrorCode(again);
      if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw again;
    });
  }
}
