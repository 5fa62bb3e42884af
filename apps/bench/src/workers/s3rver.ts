/**
 * A private s3rver for the `connector-s3` row, in a process of its own:
 * serves `argv[2]` (a directory) on a free loopback port and reports
 * `{ type: 'ready', port }`; exits when the bench disconnects. Forked with
 * `--openssl-legacy-provider` (s3rver 3.7 makes listing continuation tokens
 * with DES, legacy in OpenSSL 3), and with empty directories kept (its
 * DELETE removes a key's directory once empty, racing a PUT into it).
 *
 * @module
 */
import { unlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import S3rver from 's3rver';

interface FilesystemStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
}

const require = createRequire(import.meta.url);
const store = require('s3rver/lib/stores/filesystem.js') as {
  prototype: FilesystemStore & Record<string, unknown>;
};
store.prototype.deleteObject = async function deleteObject(
  this: FilesystemStore,
  bucket: string,
  key: string,
) {
  await Promise.all(
    ['object', 'object.md5', 'metadata.json'].map((resource) =>
      unlink(this.getResourcePath(bucket, key, resource)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      }),
    ),
  );
};

const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory: process.argv[2] as string,
});
const { port } = await server.run();
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready', port });
