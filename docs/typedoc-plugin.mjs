// A local TypeDoc plugin for the API reference, which is built from the
// packages' published declarations (`packages/<dir>/dist/**.d.ts`, what a
// user's editor shows) in one program:
//
// - it names each module after the package it documents: TypeDoc would name it
//   by its path (`core/dist`); this gives it the specifier a user imports
//   (`@ergon/core`, `@ergon/testing/simulation`), which is also what
//   `{@link @ergon/core!RetryPolicy}` references resolve against;
// - it restores the "referenced but not exported" check for every public
//   package: TypeDoc runs that check only for the documenting project's own
//   package (here `@ergon/docs`), so a public type that uses a type its package
//   does not export would otherwise pass unnoticed. The exceptions accepted for
//   now are listed in known-gaps.json; an entry that no longer applies fails too.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Application, Converter, makeRecursiveVisitor, ReflectionKind } from 'typedoc';

const packagesDir = fileURLToPath(new URL('../packages/', import.meta.url));
const manifests = new Map(
  readdirSync(packagesDir).map((dir) => [
    dir,
    JSON.parse(readFileSync(join(packagesDir, dir, 'package.json'), 'utf8')),
  ]),
);
const publicPackages = new Set([...manifests.values()].filter((m) => m.private !== true).map((m) => m.name));
/** `package:Name` entries accepted for now (see known-gaps.json); an unused one is reported. */
const knownNotExported = JSON.parse(
  readFileSync(new URL('./known-gaps.json', import.meta.url), 'utf8'),
).notExported;

/** `core/dist` → `@ergon/core`; `testing/dist/simulation` → `@ergon/testing/simulation`. */
function packageSpecifier(moduleName) {
  const match = /^([^/]+)\/dist(?:\/(.+))?$/.exec(moduleName);
  const name = match ? manifests.get(match[1])?.name : undefined;
  if (!name) return undefined;
  return match[2] ? `${name}/${match[2]}` : name;
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (_context, reflection) => {
    if (!reflection.kindOf(ReflectionKind.Module)) return;
    const name = packageSpecifier(reflection.name);
    if (name) reflection.name = name;
  });

  app.on(Application.EVENT_VALIDATE_PROJECT, (project) => {
    if (!app.options.getValue('validation').notExported) return;
    const warned = new Set();
    const used = new Set();
    let owner;
    const visitor = makeRecursiveVisitor({
      reference(type) {
        if (type.reflection || type.externalUrl || type.isIntentionallyBroken()) return;
        if (!publicPackages.has(type.package)) return;
        const key = `${type.package}:${type.qualifiedName}`;
        if (knownNotExported.includes(key)) {
          used.add(key);
          return;
        }
        if (warned.has(key)) return;
        warned.add(key);
        app.logger.validationWarning(
          `${type.qualifiedName}, defined in ${type.package}, is referenced by ${owner.getFriendlyFullName()} but not exported by its package (so not in the documentation)`,
        );
      },
    });
    for (const reflection of Object.values(project.reflections)) {
      owner = reflection;
      reflection.type?.visit(visitor);
      reflection.default?.visit?.(visitor);
      for (const t of reflection.extendedTypes ?? []) t.visit(visitor);
      for (const t of reflection.implementedTypes ?? []) t.visit(visitor);
    }
    for (const key of knownNotExported) {
      if (!used.has(key))
        app.logger.validationWarning(
          `known-gaps.json lists ${key} as not exported, but nothing refers to it any more: remove the entry`,
        );
    }
  });
}
