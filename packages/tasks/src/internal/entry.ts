/**
 * Locates the plain-JavaScript entry files that worker threads and child
 * processes start from.
 *
 * @module
 */

/**
 * The URL of `dist/internal/<name>.js`. From the built package that is a
 * sibling of this file. When this file runs from TypeScript sources (the
 * package's own tests), threads and processes cannot load `.ts`, so the
 * built copy in `dist` is used instead; build the package first.
 */
export function entryUrl(name: string): URL {
  const here = import.meta.url;
  return here.endsWith('.ts')
    ? new URL(`../../dist/internal/${name}.js`, here)
    : new URL(`./${name}.js`, here);
}
