/**
 * The default payload encoding of stream entries: plain JSON, readable in
 * `redis-cli` and by producers that are not Ergon. A {@link Codec} like
 * core's, so core's `defaultCodec` (Dates, Maps, BigInts) can replace it.
 *
 * @module
 */
import { type Codec, ErrorCode, InvalidArgumentError, SerializationError } from '@ergon/core';

/** Default size limit of an entry's payload: 1 MiB. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

/** Options of {@link createJsonCodec}. */
export interface JsonCodecOptions {
  /** Largest encoded payload, in UTF-8 bytes, accepted both ways. Default 1 MiB. */
  readonly maxBytes?: number;
}

/**
 * A codec of JSON values. Encoding refuses what JSON cannot hold (`undefined`
 * at the top, BigInt, cycles) and what is over `maxBytes`; decoding refuses
 * text that is not JSON or is over `maxBytes`.
 *
 * @throws InvalidArgumentError for a bad `maxBytes`.
 */
export function createJsonCodec(options: JsonCodecOptions = {}): Codec {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1)
    throw new InvalidArgumentError(
      `json codec: maxBytes must be a whole number ≥ 1 (got ${String(maxBytes)})`,
    );
  const checkSize = (text: string, what: string) => {
    // Cheap bound first: a UTF-16 unit is at most 3 UTF-8 bytes.
    const bytes = text.length * 3 <= maxBytes ? text.length : Buffer.byteLength(text, 'utf8');
    if (bytes > maxBytes) {
      throw new SerializationError(
        ErrorCode.CODEC_TOO_LARGE,
        `${what} is ${bytes} bytes, over the limit of ${maxBytes}: store large data elsewhere and pass a reference, or raise maxBytes`,
        { details: { bytes, maxBytes } },
      );
    }
  };
  return Object.freeze({
    maxBytes,
    encode(value: unknown, what = 'payload'): string {
      let text: string | undefined;
      try {
        text = JSON.stringify(value);
      } catch (error) {
        throw new SerializationError(
          ErrorCode.CODEC_UNSUPPORTED_TYPE,
          `${what} cannot be encoded as JSON (${(error as Error).message}): send JSON values, or use core's defaultCodec on both sides`,
          { cause: error },
        );
      }
      if (text === undefined) {
        throw new SerializationError(
          ErrorCode.CODEC_UNSUPPORTED_TYPE,
          `${what} is not a JSON value (${typeof value}): send JSON values, or use core's defaultCodec on both sides`,
        );
      }
      checkSize(text, what);
      return text;
    },
    decode<T>(text: string, what = 'payload'): T {
      checkSize(text, what);
      try {
        return JSON.parse(text) as T;
      } catch (error) {
        throw new SerializationError(
          ErrorCode.CODEC_MALFORMED,
          `${what} is not JSON (${(error as Error).message}): the producer must write JSON to the payload field`,
          { cause: error },
        );
      }
    },
  });
}
