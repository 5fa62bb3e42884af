/**
 * `ergon retry`: a failed or cancelled flow scheduled again as a new flow
 * (`client.retry`); the refusal of any other flow is the command's one-line error.
 *
 * @module
 */
import { ErrorCode, hasErrorCode } from '@ergon/core';
import type { Client, RetriedFlow } from '@ergon/executor';
import { CliError } from './errors.js';

/** Schedules flow `id` again. @throws FlowNotFoundError; CliError when it is not failed or cancelled. */
export async function retryFlow(client: Client, id: string): Promise<RetriedFlow> {
  try {
    return await client.retry(id);
  } catch (error) {
    if (hasErrorCode(error, ErrorCode.FLOW_NOT_RETRYABLE)) throw new CliError(error.message, { cause: error });
    throw error;
  }
}
