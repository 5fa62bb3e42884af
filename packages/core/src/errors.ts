/**
 * The Ergon error family: one base class, a stable `code` from one map, and a
 * brand that survives duplicate copies of this package in one process.
 *
 * @module
 */

/**
 * Every stable error code. Callers and tests compare against these, never
 * against message text. Codes are never renamed once published.
 */
export const ErrorCode = {
  /** An argument or option is malformed; the message says which and how to fix it. */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** A duration string or number could not be understood. */
  INVALID_DURATION: 'INVALID_DURATION',
  /** A retry policy was built with values that make no sense. */
  INVALID_RETRY_POLICY: 'INVALID_RETRY_POLICY',
  /**
   * A flow-control setting makes no sense (a negative or fractional limit, a rate of 0, a
   * weight of 0); the message names the setting.
   */
  INVALID_FLOW_CONTROL: 'INVALID_FLOW_CONTROL',
  /** An identifier (flow id, transaction id, key prefix) is malformed. */
  INVALID_ID: 'INVALID_ID',
  /** The codec met a function, which cannot be stored. */
  CODEC_FUNCTION: 'CODEC_FUNCTION',
  /** The codec met a symbol value or symbol key, which cannot be stored. */
  CODEC_SYMBOL: 'CODEC_SYMBOL',
  /** The value refers to itself; durable values must be trees or DAGs. */
  CODEC_CYCLE: 'CODEC_CYCLE',
  /** The value is an instance of a class the codec cannot rebuild. */
  CODEC_UNSUPPORTED_TYPE: 'CODEC_UNSUPPORTED_TYPE',
  /** An object has a `__proto__` own key, refused to rule out prototype pollution. */
  CODEC_UNSAFE_KEY: 'CODEC_UNSAFE_KEY',
  /** The encoded value is over the configured size limit. */
  CODEC_TOO_LARGE: 'CODEC_TOO_LARGE',
  /** The value nests deeper than the codec allows (arrays or objects inside each other). */
  CODEC_TOO_DEEP: 'CODEC_TOO_DEEP',
  /** Stored text is not a value this codec wrote (corrupt or foreign data). */
  CODEC_MALFORMED: 'CODEC_MALFORMED',
  /** Thrown by user code to stop retries at once. */
  NON_RETRYABLE: 'NON_RETRYABLE',
  /** No flow with this id exists in the store. */
  FLOW_NOT_FOUND: 'FLOW_NOT_FOUND',
  /** The flow already reached a terminal state; the operation needs a live flow. */
  FLOW_FINISHED: 'FLOW_FINISHED',
  /** Only a failed or cancelled flow can be retried; this one is not. */
  FLOW_NOT_RETRYABLE: 'FLOW_NOT_RETRYABLE',
  /** The flow failed; `cause` carries the recorded error. */
  FLOW_FAILED: 'FLOW_FAILED',
  /** The flow was cancelled. */
  FLOW_CANCELLED: 'FLOW_CANCELLED',
  /** The flow's type is not registered with any worker asked to run it. */
  UNKNOWN_FLOW_TYPE: 'UNKNOWN_FLOW_TYPE',
  /** The flow code called a different operation than history recorded at a position. */
  NON_DETERMINISM: 'NON_DETERMINISM',
  /**
   * A flow was recorded under a version of its code that the worker claiming it does not serve:
   * released for a worker that does (retried, never failed for it).
   */
  VERSION_NOT_SERVED: 'VERSION_NOT_SERVED',
  /** A write carried a fencing token older than the current lease. */
  LEASE_LOST: 'LEASE_LOST',
  /** A step attempt ran past its timeout. */
  STEP_TIMEOUT: 'STEP_TIMEOUT',
  /** A signal wait reached its timeout before a signal arrived. */
  SIGNAL_TIMEOUT: 'SIGNAL_TIMEOUT',
  /** A child flow failed; `cause` carries the child's error. */
  CHILD_FLOW_FAILED: 'CHILD_FLOW_FAILED',
  /** A DAG definition is invalid: a cycle, an unknown dependency or a duplicate name. */
  DAG_INVALID: 'DAG_INVALID',
  /** One or more DAG nodes failed; details name them. */
  DAG_FAILED: 'DAG_FAILED',
  /**
   * A value the engine stored could not be read back: data of the wrong shape, or a value
   * whose checksum no longer matches (altered at rest). Only the flows it belongs to fail.
   */
  STORE_CORRUPT: 'STORE_CORRUPT',
  /** The store is unreachable or refused the operation; usually transient. */
  STORE_UNAVAILABLE: 'STORE_UNAVAILABLE',
  /** The store's data was written by a newer schema than this code understands. */
  STORE_SCHEMA_TOO_NEW: 'STORE_SCHEMA_TOO_NEW',
  /** The file or database is not an Ergon store. */
  STORE_FOREIGN: 'STORE_FOREIGN',
  /** The store's configuration would lose data (e.g. Redis eviction policy). */
  STORE_UNSAFE_CONFIG: 'STORE_UNSAFE_CONFIG',
  /** A flow's encoded progress value is over the size limit (`MAX_PROGRESS_BYTES`). */
  PROGRESS_TOO_LARGE: 'PROGRESS_TOO_LARGE',
  /**
   * A schedule's configuration is refused: a cron expression that is malformed or never fires,
   * an unknown time zone, a bad overlap or catch-up policy, or an unknown flow type.
   */
  INVALID_SCHEDULE: 'INVALID_SCHEDULE',
  /** No schedule with this id exists in the store. */
  SCHEDULE_NOT_FOUND: 'SCHEDULE_NOT_FOUND',
  /** A schedule with this id exists with another definition; update it instead. */
  SCHEDULE_EXISTS: 'SCHEDULE_EXISTS',
  /** An operation was aborted by its AbortSignal. */
  ABORTED: 'ABORTED',
  /** A timeout elapsed (task stage, shutdown deadline). */
  TIMEOUT: 'TIMEOUT',
  /** A connector or service failed to talk to its transport. */
  CONNECTOR_ERROR: 'CONNECTOR_ERROR',
  /** Anything not covered above; `cause` carries the original. */
  INTERNAL: 'INTERNAL',
} as const;

/** One of the stable codes in {@link ErrorCode}. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * The codes no retry can fix: another attempt would fail the same way. An
 * {@link ErgonError}'s retryability derives from its code through this one set
 * (DESIGN §2.3); everything else (timeouts, an unreachable store or broker,
 * internal errors) is worth another attempt.
 */
export const NON_RETRYABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCode.INVALID_ARGUMENT,
  ErrorCode.INVALID_DURATION,
  ErrorCode.INVALID_RETRY_POLICY,
  ErrorCode.INVALID_FLOW_CONTROL,
  ErrorCode.INVALID_ID,
  ErrorCode.CODEC_FUNCTION,
  ErrorCode.CODEC_SYMBOL,
  ErrorCode.CODEC_CYCLE,
  ErrorCode.CODEC_UNSUPPORTED_TYPE,
  ErrorCode.CODEC_UNSAFE_KEY,
  ErrorCode.CODEC_TOO_LARGE,
  ErrorCode.CODEC_TOO_DEEP,
  ErrorCode.CODEC_MALFORMED,
  ErrorCode.NON_RETRYABLE,
  ErrorCode.FLOW_NOT_FOUND,
  ErrorCode.FLOW_FINISHED,
  ErrorCode.FLOW_NOT_RETRYABLE,
  ErrorCode.FLOW_FAILED,
  ErrorCode.FLOW_CANCELLED,
  ErrorCode.UNKNOWN_FLOW_TYPE,
  ErrorCode.NON_DETERMINISM,
  ErrorCode.LEASE_LOST,
  ErrorCode.SIGNAL_TIMEOUT,
  ErrorCode.CHILD_FLOW_FAILED,
  ErrorCode.DAG_INVALID,
  ErrorCode.STORE_CORRUPT,
  ErrorCode.STORE_SCHEMA_TOO_NEW,
  ErrorCode.STORE_FOREIGN,
  ErrorCode.STORE_UNSAFE_CONFIG,
  ErrorCode.PROGRESS_TOO_LARGE,
  ErrorCode.INVALID_SCHEDULE,
  ErrorCode.SCHEDULE_NOT_FOUND,
  ErrorCode.SCHEDULE_EXISTS,
  ErrorCode.ABORTED,
]);

/** True when errors with this code may succeed on another attempt. */
export function isRetryableCode(code: ErrorCode): boolean {
  return !NON_RETRYABLE_CODES.has(code);
}

const BRAND = Symbol.for('@ergon/core/ErgonError');
/** Static key under which a marked class keeps its own brand symbol. */
const CLASS_BRAND: unique symbol = Symbol.for('@ergon/core/class-brand') as never;

/** Options accepted by every {@link ErgonError} constructor. */
export interface ErgonErrorOptions {
  /** The underlying error, kept as `cause`. */
  cause?: unknown;
  /** Structured, encodable details for logs and tools. */
  details?: Readonly<Record<string, unknown>>;
}

/**
 * Base of every error Ergon throws. `code` is stable; `message` says what to
 * do. `instanceof ErgonError` works across duplicate package copies because
 * the check looks for a `Symbol.for` brand rather than the class identity.
 */
export class ErgonError extends Error {
  /** The stable code. */
  readonly code: ErrorCode;
  /** Structured details (ids, positions, limits) for logs and tools. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: ErgonErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = Object.freeze({ ...options.details });
    this.name = new.target.name;
  }

  /**
   * Whether an attempt failing with this error may be retried. Derived from
   * the code ({@link NON_RETRYABLE_CODES}); a user subclass may override it.
   */
  isRetryable(): boolean {
    return !NON_RETRYABLE_CODES.has(this.code);
  }

  /**
   * `instanceof` that holds across duplicate copies of a package (two versions
   * of `@ergon/core` in one `node_modules`): a class marked with
   * {@link markErrorClass} matches any value whose prototype chain carries its
   * `Symbol.for` brand; an unmarked subclass (a user's own) uses the ordinary check.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (!isErgonError(value)) return false;
    const brand = Object.hasOwn(this, CLASS_BRAND)
      ? (this as unknown as Record<symbol, symbol>)[CLASS_BRAND]
      : undefined;
    if (brand !== undefined) return (value as unknown as Record<symbol, unknown>)[brand] === true;
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

/**
 * Gives an error class its own `instanceof` brand: `Symbol.for(key)` on its
 * prototype (so decoded errors, built with `Object.create(prototype)`, carry
 * it too) and on the class. `key` must be unique and stable across versions,
 * by convention `'<package>/<ClassName>'`.
 */
export function markErrorClass(cls: abstract new (...args: never[]) => ErgonError, key: string): void {
  const brand = key === '@ergon/core/ErgonError' ? BRAND : Symbol.for(key);
  Object.defineProperty(cls.prototype, brand, { value: true });
  Object.defineProperty(cls, CLASS_BRAND, { value: brand });
}

markErrorClass(ErgonError, '@ergon/core/ErgonError');

/** True for any {@link ErgonError}, even one from another copy of this package. */
export function isErgonError(value: unknown): value is ErgonError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/** True when `value` is an {@link ErgonError} with the given code. */
export function hasErrorCode(value: unknown, code: ErrorCode): value is ErgonError {
  return isErgonError(value) && value.code === code;
}

/** An argument or option was malformed. Never retryable. */
export class InvalidArgumentError extends ErgonError {
  constructor(message: string, options: ErgonErrorOptions & { code?: ErrorCode } = {}) {
    super(options.code ?? ErrorCode.INVALID_ARGUMENT, message, options);
  }
}
markErrorClass(InvalidArgumentError, '@ergon/core/InvalidArgumentError');

/** A value could not be encoded or decoded by the codec. Never retryable. */
export class SerializationError extends ErgonError {
  /** Where in the value the problem is, as a path like `$.items[3].at`. */
  readonly path: string;
  constructor(code: ErrorCode, message: string, options: ErgonErrorOptions & { path?: string } = {}) {
    super(code, message, { ...options, details: { ...options.details, path: options.path ?? '$' } });
    this.path = options.path ?? '$';
  }
}
markErrorClass(SerializationError, '@ergon/core/SerializationError');

/** Turns anything thrown into an `Error`, keeping the original as `cause`. */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new ErgonError(ErrorCode.INTERNAL, `non-error thrown: ${describe(value)}`, { cause: value });
}

function describe(value: unknown): string {
  try {
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    return String(value);
  }
}
