/**
 * The error context of a lease holder's call. (Arguments are checked once, by
 * core's runtime wrapper, before a store sees them.)
 *
 * @module
 */
import type { LeaseRef } from '@ergon/core';
import type { ErrorContext } from './errors.js';

/** The error context of a call made under a lease. */
export function leaseContext(action: string, lease: LeaseRef): ErrorContext {
  return { action, flowId: lease.flowId, token: lease.token };
}
