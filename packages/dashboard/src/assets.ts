/**
 * The page and its bundled assets. The build bundles the page's script and
 * styles (uPlot's included) into `dist/client/`; they are read once, served
 * from here with long cache lifetimes under a content hash, and nothing is
 * loaded from another origin. The page itself is a static shell: every
 * user-supplied string reaches it as JSON and is set as text, never markup.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One served asset. */
export interface Asset {
  readonly body: Uint8Array;
  readonly type: string;
  /** Content hash, the `?v=` of its URL. */
  readonly hash: string;
}

/** The bundled page's files. */
export interface Assets {
  readonly files: ReadonlyMap<string, Asset>;
  /**
   * The page's HTML for a mount path (the same for every route: the page routes by its URL's
   * hash). Its `<base>` makes the relative asset and API URLs resolve under the mount path
   * with or without a trailing slash.
   */
  html(base: string): string;
}

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};

const FILES = ['app.js', 'app.css', 'favicon.svg'];

/** Loads the bundle. @throws Error when the package was not built (no `dist/client`). */
export function loadAssets(): Assets {
  const dir = clientDir();
  const files = new Map<string, Asset>();
  for (const name of FILES) {
    const body = new Uint8Array(readFileSync(new URL(name, dir)));
    const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
    files.set(name, { body, hash, type: TYPES[name.split('.').pop() ?? ''] ?? 'application/octet-stream' });
  }
  const v = (name: string) => files.get(name)?.hash ?? '';
  const html = (base: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<base href="${escapeAttribute(base)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Ergon</title>
<link rel="icon" href="assets/favicon.svg?v=${v('favicon.svg')}" type="image/svg+xml">
<link rel="stylesheet" href="assets/app.css?v=${v('app.css')}">
<script type="module" src="assets/app.js?v=${v('app.js')}"></script>
</head>
<body>
<div id="app"><noscript>The Ergon dashboard needs JavaScript.</noscript></div>
</body>
</html>
`;
  return { files, html };
}

function escapeAttribute(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** `dist/client/` from the built module, or from the sources (tests run those against a built bundle). */
function clientDir(): URL {
  for (const relative of ['./client/', '../dist/client/']) {
    const url = new URL(relative, import.meta.url);
    if (existsSync(fileURLToPath(new URL('app.js', url)))) return url;
  }
  throw new Error(
    '@ergon/dashboard: the page bundle (dist/client/app.js) is missing: build the package first',
  );
}
