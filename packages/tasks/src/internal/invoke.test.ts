import { describe, expect, it } from 'vitest';
import { ignoresContext } from './invoke.js';

describe('ignoresContext', () => {
  it('is true for arrows that declare no parameter or one plain identifier', () => {
    const ignoring: ((tx: unknown) => unknown)[] = [
      () => undefined,
      async () => undefined,
      (tx: unknown) => tx,
      async (tx: unknown) => tx,
      // biome-ignore format: the forms without parentheses are the subject
      tx => tx,
      // biome-ignore format: the forms without parentheses are the subject
      async tx => tx,
      // biome-ignore format: the spacing is the subject
      async(  tx  )=>tx,
    ];
    for (const work of ignoring) expect(ignoresContext(work)).toBe(true);
  });

  it('is false for whatever may read its second argument or has no source', () => {
    const reading = [
      (_tx: unknown, ctx: unknown) => ctx,
      (...args: unknown[]) => args[1],
      (tx: unknown = 1) => tx,
      ({ id }: { id: string }) => id,
      function (this: unknown) {
        // biome-ignore lint/complexity/noArguments: a function's own arguments are the subject
        return arguments[1];
      },
      async function named(tx: unknown) {
        return tx;
      },
      { method: (tx: unknown) => tx }.method.bind(undefined),
      new Proxy(() => undefined, {}),
      Math.max,
    ];
    for (const work of reading) expect(ignoresContext(work as (...args: never[]) => unknown)).toBe(false);
  });
});
