// Copies the Lua scripts next to the compiled code: dist/scripts mirrors
// src/scripts, which the loader finds relative to its own module.
import { cp, rm } from 'node:fs/promises';

const from = new URL('../src/scripts/', import.meta.url);
const to = new URL('../dist/scripts/', import.meta.url);
await rm(to, { recursive: true, force: true });
await cp(from, to, { recursive: true, filter: (source) => !source.endsWith('.ts') });
