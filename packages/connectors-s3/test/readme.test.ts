// The README's example is test/readme-example.ts, word for word (typecheck
// covers it); here it runs against the private s3rver (or ERGON_S3_URL) on a
// prefix of its own.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createS3Connector } from '../src/index.js';
import { connectorOptions, deleteUnder, uniquePrefix, useS3 } from './support.js';

const s3 = useS3();
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe('the README example', () => {
  it('is test/readme-example.ts, importing the package by name', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const example = readFileSync(new URL('./readme-example.ts', import.meta.url), 'utf8').replace(
      "'../src/index.js'",
      "'@ergon/connectors-s3'",
    );
    expect(readme).toContain(`\`\`\`ts\n${example}\`\`\``);
  });

  it('runs: two invoice objects through durable flows, then under the done prefix', async () => {
    const prefix = uniquePrefix();
    const dir = await mkdtemp(join(tmpdir(), 'ergon-s3-readme-'));
    cleanups.push(
      () => rm(dir, { recursive: true, force: true }),
      () => deleteUnder(s3.current, prefix.slice(0, -1)),
    );
    vi.stubEnv('INVOICE_BUCKET', s3.current.bucket);
    vi.stubEnv('S3_ENDPOINT', s3.current.endpoint);
    vi.stubEnv('INVOICE_PREFIX', prefix);
    vi.stubEnv('AWS_ACCESS_KEY_ID', s3.current.credentials.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', s3.current.credentials.secretAccessKey);
    vi.stubEnv('SHOP_DB', join(dir, 'shop.db'));
    const printed: unknown[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line: unknown) => void printed.push(line));
    try {
      await import('./readme-example.js');
    } finally {
      vi.unstubAllEnvs();
      log.mockRestore();
    }
    expect(printed).toEqual(['2 invoices settled']);
    const admin = createS3Connector(connectorOptions(s3.current, prefix));
    try {
      await admin.start();
      expect(await admin.service.listAll(prefix)).toEqual([]);
      const done = await admin.service.listAll(admin.options.donePrefix);
      expect(done.map((o) => o.key)).toEqual([
        `${admin.options.donePrefix}inv-1.json`,
        `${admin.options.donePrefix}inv-2.json`,
      ]);
    } finally {
      await admin.stop();
    }
  });
});
