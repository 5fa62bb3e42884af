/**
 * Object formats: how an object's bytes become payloads (JSON, JSON lines as
 * many transactions, raw bytes) and a payload becomes an object.
 *
 * @module
 */
import { ErrorCode, InvalidArgumentError, SerializationError } from '@ergon/core';
import type { ObjectFormat } from './options.js';

/** One payload read from an object, or why one part of it cannot be one. */
export interface DecodedEntry {
  /** The line number (from 1) in a JSON-lines object; undefined for the other formats. */
  readonly line: number | undefined;
  /** The payload, when it decoded. */
  readonly payload?: unknown;
  /** Why it did not (a `SerializationError` with a `CODEC_*` code). */
  readonly error?: unknown;
  /** The line's text (JSON lines), kept for its dead letter. */
  readonly text?: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The content type written for each format. */
export const CONTENT_TYPES: Readonly<Record<ObjectFormat, string>> = Object.freeze({
  json: 'application/json',
  'json-lines': 'application/x-ndjson',
  bytes: 'application/octet-stream',
});

function malformed(what: string, cause: unknown, hint: string): SerializationError {
  return new SerializationError(
    ErrorCode.CODEC_MALFORMED,
    `${what} is not ${hint} (${cause instanceof Error ? cause.message : String(cause)})`,
    { cause },
  );
}

/**
 * The payloads of an object: one for `json` and `bytes`, one per non-empty
 * line for `json-lines`. A whole-object failure (not UTF-8, not JSON) is a
 * single entry with `error`; in JSON lines each bad line is its own.
 */
export function decodeObject(body: Uint8Array, format: ObjectFormat, key: string): DecodedEntry[] {
  if (format === 'bytes') return [{ line: undefined, payload: new Uint8Array(body) }];
  let text: string;
  try {
    text = utf8.decode(body);
  } catch (error) {
    return [{ line: undefined, error: malformed(`object ${key}`, error, 'UTF-8 text') }];
  }
  if (format === 'json') {
    try {
      return [{ line: undefined, payload: JSON.parse(text) }];
    } catch (error) {
      return [
        {
          line: undefined,
          error: malformed(`object ${key}`, error, 'JSON: the producer must write one JSON value'),
        },
      ];
    }
  }
  const out: DecodedEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).replace(/\r$/, '');
    if (line.trim() === '') continue;
    try {
      out.push({ line: i + 1, payload: JSON.parse(line), text: line });
    } catch (error) {
      out.push({
        line: i + 1,
        error: malformed(`line ${i + 1} of object ${key}`, error, 'JSON'),
        text: line,
      });
    }
  }
  return out;
}

/**
 * The body of a dispatched payload.
 *
 * @throws SerializationError (`CODEC_UNSUPPORTED_TYPE`, `CODEC_TOO_LARGE`), InvalidArgumentError for `bytes` that are not bytes.
 */
export function encodePayload(
  payload: unknown,
  format: ObjectFormat,
  options: { readonly what: string; readonly maxBytes: number },
): {
  /** The object's body. */
  readonly body: Uint8Array | string;
  /** Its `Content-Type`. */
  readonly contentType: string;
} {
  const { what, maxBytes } = options;
  let body: Uint8Array | string;
  if (format === 'bytes') {
    if (typeof payload === 'string') body = payload;
    else if (payload instanceof Uint8Array) body = payload;
    else
      throw new InvalidArgumentError(
        `${what} must be a Uint8Array or a string for format 'bytes' (got ${typeof payload})`,
        {
          code: ErrorCode.INVALID_ARGUMENT,
        },
      );
  } else {
    let text: string | undefined;
    try {
      text = JSON.stringify(payload);
    } catch (error) {
      throw new SerializationError(
        ErrorCode.CODEC_UNSUPPORTED_TYPE,
        `${what} cannot be written as JSON (${(error as Error).message}): send JSON values (a BigInt as a string)`,
        { cause: error },
      );
    }
    if (text === undefined)
      throw new SerializationError(
        ErrorCode.CODEC_UNSUPPORTED_TYPE,
        `${what} is not a JSON value (${typeof payload})`,
      );
    body = format === 'json-lines' ? `${text}\n` : text;
  }
  const bytes = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.byteLength;
  if (bytes > maxBytes)
    throw new SerializationError(
      ErrorCode.CODEC_TOO_LARGE,
      `${what} is ${bytes} bytes, over maxObjectBytes (${maxBytes}): raise maxObjectBytes, or store it elsewhere and pass a reference`,
      { details: { bytes, maxBytes } },
    );
  return { body, contentType: CONTENT_TYPES[format] };
}
