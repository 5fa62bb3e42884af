#!/usr/bin/env node
// The test command's lint, typecheck and publint of every workspace package: the commands of each
// package's own `lint`, `typecheck` and `publint` scripts (which `turbo run` starts one package at
// a time, each through pnpm), read from those scripts and run together, one process per tool.
// The type checks share one TypeScript host, so the standard library, @types/node and the
// packages' declarations are parsed once rather than once per package. A script of another shape
// runs as it is. Exits 1 when any check fails, after all have run.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const ts = require('typescript');
const { publint } = await import(require.resolve('publint'));
const { formatMessage } = await import(require.resolve('publint/utils'));

// The workspace's packages (pnpm-workspace.yaml).
const dirs = [
  ...['packages', 'apps', 'examples'].flatMap((group) =>
    readdirSync(join(root, group), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(root, group, entry.name)),
  ),
  join(root, 'examples'),
  join(root, 'docs'),
].filter((dir) => existsSync(join(dir, 'package.json')));
const scriptsOf = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).scripts ?? {};

const failures = [];
const lintPaths = [];
const typecheckConfigs = [];
const publintDirs = [];
const asIs = [];
for (const dir of dirs) {
  const scripts = scriptsOf(dir);
  const lint = /^biome lint((?: [\w./-]+)+)$/.exec(scripts.lint ?? '');
  if (lint)
    lintPaths.push(
      ...lint[1]
        .trim()
        .split(' ')
        .map((path) => relative(root, join(dir, path))),
    );
  else if (scripts.lint) asIs.push({ dir, script: scripts.lint });
  if (scripts.typecheck) {
    const parts = scripts.typecheck.split(' && ').map((part) => /^tsc -p (\S+)(?: --noEmit)?$/.exec(part));
    if (parts.every(Boolean)) typecheckConfigs.push(...parts.map((match) => resolve(dir, match[1])));
    else asIs.push({ dir, script: scripts.typecheck });
  }
  if (scripts.publint === 'publint --strict') publintDirs.push(dir);
  else if (scripts.publint) asIs.push({ dir, script: scripts.publint });
}

// Lint: one biome process over every package's paths (one biome.json at the root holds for all).
try {
  execFileSync(join(root, 'node_modules', '.bin', 'biome'), ['lint', ...lintPaths], {
    cwd: root,
    stdio: 'inherit',
  });
} catch {
  failures.push('lint');
}

// Typecheck: each config as `tsc -p <config> --noEmit` checks it, with source files parsed once
// for every program whose options parse them alike (the key a language service's registry uses).
const registry = ts.createDocumentRegistry();
const parsed = new Map();
for (const config of typecheckConfigs) {
  const command = ts.getParsedCommandLineOfConfigFile(
    config,
    { noEmit: true },
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => console.error(format([diagnostic])),
    },
  );
  if (!command) {
    failures.push(`typecheck ${relative(root, config)}`);
    continue;
  }
  const host = ts.createCompilerHost(command.options);
  const read = host.getSourceFile.bind(host);
  const key = registry.getKeyForCompilationSettings(command.options);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const nodeFormat = typeof languageVersion === 'object' ? languageVersion.impliedNodeFormat : undefined;
    const id = `${key}|${fileName}|${nodeFormat}`;
    if (!parsed.has(id)) parsed.set(id, read(fileName, languageVersion, onError, shouldCreate));
    return parsed.get(id);
  };
  const program = ts.createProgram({
    rootNames: command.fileNames,
    options: command.options,
    projectReferences: command.projectReferences,
    host,
    configFileParsingDiagnostics: ts.getConfigFileParsingDiagnostics(command),
  });
  const diagnostics = ts.sortAndDeduplicateDiagnostics([
    ...program.getConfigFileParsingDiagnostics(),
    ...ts.getPreEmitDiagnostics(program),
  ]);
  if (diagnostics.length > 0) {
    console.error(format(diagnostics));
    failures.push(`typecheck ${relative(root, config)}`);
  }
}

// Publint: the API the `publint --strict` command calls, once per package.
for (const dir of publintDirs) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const { messages } = await publint({ pkgDir: dir, strict: true });
  // --strict: warnings count as errors; suggestions are shown and pass.
  for (const message of messages) console.log(`${pkg.name}: ${message.type}: ${formatMessage(message, pkg)}`);
  if (messages.some((message) => message.type !== 'suggestion')) failures.push(`publint ${pkg.name}`);
}

// Scripts of another shape: as pnpm runs them.
for (const { dir, script } of asIs) {
  try {
    const bin = (at) => join(at, 'node_modules', '.bin');
    execFileSync('sh', ['-c', script], {
      cwd: dir,
      stdio: 'inherit',
      env: { ...process.env, PATH: [bin(dir), bin(root), process.env.PATH].join(delimiter) },
    });
  } catch {
    failures.push(`${relative(root, dir)}: ${script}`);
  }
}

console.log(
  `static checks: biome lint over ${lintPaths.length} paths, ${typecheckConfigs.length} type-check configs, ` +
    `publint of ${publintDirs.length} packages, ${asIs.length} other scripts`,
);
if (failures.length > 0) {
  console.error(`failed: ${failures.join('; ')}`);
  process.exit(1);
}

function format(diagnostics) {
  return ts.formatDiagnostics(diagnostics, {
    getCanonicalFileName: (fileName) => fileName,
    getCurrentDirectory: () => root,
    getNewLine: () => '\n',
  });
}
