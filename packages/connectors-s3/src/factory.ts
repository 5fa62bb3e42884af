/**
 * One call to get a connector on a bucket prefix.
 *
 * @module
 */
import { S3Connector } from './connector.js';
import type { S3ConnectorOptions, S3ServiceOptions } from './options.js';
import { S3Service } from './service.js';

/** Options of {@link createS3Connector}: the service's and the connector's together. */
export type CreateS3ConnectorOptions = S3ConnectorOptions &
  Omit<S3ServiceOptions, 'name'> & {
    /** Name of the service for logs. Default `s3:<bucket>`. */
    readonly serviceName?: string | undefined;
  };

/**
 * An {@link S3Connector} on its own {@link S3Service} (stopped with the connector).
 *
 * ```ts
 * const orders = createS3Connector<Order>({ bucket: 'shop', prefix: 'orders/incoming/' });
 * ```
 */
export function createS3Connector<P = unknown>(options: CreateS3ConnectorOptions): S3Connector<P> {
  const {
    bucket,
    client,
    endpoint,
    region,
    credentials,
    forcePathStyle,
    createBucket,
    claims,
    logger,
    serviceName,
    ...rest
  } = options ?? ({} as CreateS3ConnectorOptions);
  const service = new S3Service({
    bucket,
    client,
    endpoint,
    region,
    credentials,
    forcePathStyle,
    createBucket,
    claims,
    logger,
    name: serviceName,
  });
  return new S3Connector<P>({ ...rest, service, stopService: true });
}
