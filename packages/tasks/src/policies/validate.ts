/**
 * Validation helpers shared by the policies: every failure is an
 * `InvalidArgumentError` naming the policy, the field and what is accepted.
 *
 * @module
 */
import { type Duration, ErrorCode, InvalidArgumentError, RetryPolicy, toMillis } from '@ergon/core';

/** Throws `INVALID_ARGUMENT` for `policy.field`. */
export function invalid(policy: string, message: string): never {
  throw new InvalidArgumentError(`invalid ${policy}: ${message}`, { code: ErrorCode.INVALID_ARGUMENT });
}

/** A whole number in [min, max], or the default. */
export function integer(policy: string, field: string, value: unknown, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    invalid(policy, `${field} must be a whole number ≥ ${min} (got ${String(value)})`);
  }
  return value as number;
}

/** A positive duration in ms, or undefined when not given. */
export function positiveDuration(
  policy: string,
  field: string,
  value: Duration | undefined,
): number | undefined {
  if (value === undefined) return undefined;
  const ms = toMillis(value, `${policy} ${field}`);
  if (ms <= 0) invalid(policy, `${field} must be > 0 (got ${ms} ms); leave it out for none`);
  return ms;
}

/** A boolean, or the default. */
export function flag(policy: string, field: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') invalid(policy, `${field} must be true or false (got ${String(value)})`);
  return value as boolean;
}

/** One of `choices`, or the default. */
export function oneOf<T extends string>(
  policy: string,
  field: string,
  value: unknown,
  choices: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!choices.includes(value as T)) {
    invalid(
      policy,
      `${field} must be one of ${choices.map((c) => `'${c}'`).join(', ')} (got ${String(value)})`,
    );
  }
  return value as T;
}

/** Resolves per-stage retry policies over defaults; each given value must be a `RetryPolicy`. */
export function retries<K extends string>(
  policy: string,
  given: Partial<Record<K, RetryPolicy>> | undefined,
  defaults: Readonly<Record<K, RetryPolicy>>,
): Readonly<Record<K, RetryPolicy>> {
  if (given !== undefined && (typeof given !== 'object' || given === null)) {
    invalid(policy, 'retry must be an object of RetryPolicy per stage');
  }
  const out: Record<K, RetryPolicy> = { ...defaults };
  for (const [stage, value] of Object.entries(given ?? {}) as [string, unknown][]) {
    if (!(stage in defaults)) {
      invalid(policy, `retry.${stage} is not a stage; use ${Object.keys(defaults).join(', ')}`);
    }
    if (value === undefined) continue;
    if (!(value instanceof RetryPolicy)) {
      invalid(
        policy,
        `retry.${stage} must be a RetryPolicy (e.g. RetryPolicy.STANDARD or new RetryPolicy({...}))`,
      );
    }
    out[stage as K] = value as RetryPolicy;
  }
  return Object.freeze(out);
}
