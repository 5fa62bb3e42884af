/**
 * Checks of call arguments the scripts rely on, and the error context of a
 * lease holder's call.
 *
 * @module
 */
import { InvalidArgumentError, type LeaseRef } from '@ergon/core';
import type { ErrorContext } from './errors.js';

/** The error context of a call made under a lease. */
export function leaseContext(action: string, lease: LeaseRef): ErrorContext {
  return { action, flowId: lease.flowId, token: lease.token };
}

/** A non-empty string. @throws InvalidArgumentError */
export function requireText(value: string, what: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(`${what} must be a non-empty string (got ${JSON.stringify(value)})`);
  }
  return value;
}

/** A history position argument: a whole number ≥ 0. @throws InvalidArgumentError */
export function positionArg(position: number): string {
  if (!Number.isInteger(position) || position < 0) {
    throw new InvalidArgumentError(`history position must be a whole number ≥ 0 (got ${position})`);
  }
  return String(position);
}

/** A record must belong to the flow of the lease it is written under. @throws InvalidArgumentError */
export function sameFlow(lease: LeaseRef, record: { readonly flowId: string }): void {
  if (record.flowId !== lease.flowId) {
    throw new InvalidArgumentError(
      `record of flow ${JSON.stringify(record.flowId)} written under the lease of ${JSON.stringify(lease.flowId)}`,
    );
  }
}
