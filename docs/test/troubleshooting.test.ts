// Every code of @ergon/core's ErrorCode map has a troubleshooting entry, in the
// map's order, saying what it means and what to do; the page names no code that
// does not exist. A new code without an entry fails here.
import { readFileSync } from 'node:fs';
import { ErrorCode, NON_RETRYABLE_CODES } from '@ergon/core';
import { describe, expect, it } from 'vitest';

const page = readFileSync(new URL('../troubleshooting.md', import.meta.url), 'utf8');
const sections = [...page.matchAll(/^## `([A-Z_]+)`\n([\s\S]*?)(?=^## |(?![\s\S]))/gm)].map(
  ([, code, body]) => ({
    code: code as string,
    body: body as string,
  }),
);

describe('troubleshooting.md', () => {
  it('has one section per error code, in the order of the ErrorCode map', () => {
    expect(sections.map((s) => s.code)).toEqual(Object.keys(ErrorCode));
  });

  it.each(Object.values(ErrorCode))('says what %s means, whether a retry helps, and what to do', (code) => {
    const section = sections.find((s) => s.code === code);
    expect(section?.body).toMatch(/\*\*Means\*\*:\s+\S/);
    expect(section?.body).toMatch(/\*\*Do\*\*:\s+\S/);
    // The page's retry advice agrees with the engine's rule (NON_RETRYABLE_CODES).
    const retry = /\*\*Retry\*\*: (yes|no)/.exec(section?.body ?? '')?.[1];
    expect(retry).toBe(NON_RETRYABLE_CODES.has(code) ? 'no' : 'yes');
  });

  it('links every code from the table at the top to its section', () => {
    for (const code of Object.keys(ErrorCode))
      expect(page).toContain(`[\`${code}\`](#${code.toLowerCase()})`);
  });
});
