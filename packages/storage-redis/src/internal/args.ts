/**
 * The error context of a lease holder's call. (Arguments are checked once, by
 * core's runtime wrapper, before a store sees them.)
 *
 * @module
 */
import type { LeaseRef, NewFlow } from '@ergon/core';
import type { ErrorContext } from './errors.js';

/** The error context of a call made under a lease. */
export function leaseContext(action: string, lease: LeaseRef): ErrorContext {
  return { action, flowId: lease.flowId, token: lease.token };
}

/** The flow-control arguments of create-flow (ARGV[12..18]), optional each. */
export function flowControlArgs(input: NewFlow): string[] {
  const opt = (value: string | number | undefined) => (value === undefined ? '' : `=${value}`);
  return [
    opt(input.concurrencyKey),
    opt(input.concurrencyLimit),
    opt(input.dedup?.key),
    opt(input.dedup?.forMs),
    opt(input.debounce?.key),
    opt(input.debounce?.delayMs),
    opt(input.debounce?.maxWaitMs),
  ];
}
