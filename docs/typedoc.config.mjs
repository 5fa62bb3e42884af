// TypeDoc configuration of the API reference (`pnpm docs` at the root, and the
// docs package's test). It documents every public package (each `packages/*`
// that is not private) through every entry of its `exports` map, from the
// published declarations in `dist/` (built by `^build`): exactly the face a
// user imports. Warnings are errors: a broken `{@link}`, a type referenced but
// not exported, and an exported symbol or member without TSDoc fail the build.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packagesDir = fileURLToPath(new URL('../packages/', import.meta.url));

const publicPackages = readdirSync(packagesDir)
  .map((dir) => ({ dir, json: JSON.parse(readFileSync(join(packagesDir, dir, 'package.json'), 'utf8')) }))
  .filter(({ json }) => json.private !== true);

/** `./dist/x.d.ts` of every `exports` entry with types (not `./package.json`). */
const entryPoints = publicPackages.flatMap(({ dir, json }) =>
  Object.values(json.exports ?? {})
    .map((target) => (typeof target === 'object' && target !== null ? target.types : undefined))
    .filter((types) => typeof types === 'string')
    .map((types) => join('../packages', dir, types)),
);

/** Members accepted without TSDoc for now (a debt list that may only shrink: an unused name fails). */
const { notDocumented } = JSON.parse(readFileSync(new URL('./known-gaps.json', import.meta.url), 'utf8'));

/** @type {Partial<import('typedoc').TypeDocOptions>} */
export default {
  name: 'Ergon API reference',
  entryPointStrategy: 'resolve',
  entryPoints,
  basePath: '../packages',
  tsconfig: './tsconfig.api.json',
  plugin: ['./typedoc-plugin.mjs'],
  out: 'api',
  readme: 'none',
  excludePrivate: true,
  excludeInternal: true,
  disableSources: true,
  treatWarningsAsErrors: true,
  packagesRequiringDocumentation: publicPackages.map(({ json }) => json.name),
  intentionallyNotDocumented: notDocumented,
  validation: {
    notExported: true,
    invalidLink: true,
    rewrittenLink: true,
    notDocumented: true,
    unusedMergeModuleWith: true,
  },
};
