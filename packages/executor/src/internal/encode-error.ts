/**
 * Errors are recorded through the codec; one that holds unencodable parts
 * (sockets, functions, cycles) is recorded by its name, message, stack and code.
 *
 * @module
 */
import { type Codec, toError } from '@ergon/core';

/** Encodes `error` for the history or the flow record. Never throws for an Error. */
export function encodeError(codec: Codec, error: unknown): string {
  try {
    return codec.encode(error, 'error');
  } catch {
    const e = toError(error);
    const plain = Object.assign(new Error(e.message), { name: e.name, stack: e.stack });
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' || typeof code === 'number') Object.assign(plain, { code });
    return codec.encode(plain, 'error');
  }
}
