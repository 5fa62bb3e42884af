// The multi-process tests run children that load the built package (they
// cannot load TypeScript): build dist first when it is stale.
import { fileURLToPath } from 'node:url';
import { buildIfStale } from '@ergon/testing/build';

export default function setup(): void {
  buildIfStale(fileURLToPath(new URL('..', import.meta.url)));
}
