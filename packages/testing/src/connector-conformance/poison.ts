/**
 * Connector conformance: messages that cannot become transactions. Each is
 * dead-lettered with a reason carrying a stable code, never returned, never
 * redelivered, and never stops the consumer: the next good message arrives.
 *
 * @module
 */
import { ErrorCode } from '@ergon/core';
import { describe, expect } from 'vitest';
import type { ConnectorCapability, PoisonKind } from './harness.js';
import type { CaseRegistry } from './registry.js';
import {
  type ConformanceTransaction,
  type ConnectorSuiteContext,
  collect,
  deadLetters,
  expectNothing,
  numbers,
  publish,
  startedMain,
} from './support.js';

const KINDS: readonly { kind: PoisonKind; needs: ConnectorCapability; code: string; title: string }[] = [
  {
    kind: 'undecodable',
    needs: 'undecodableMessages',
    code: ErrorCode.CODEC_MALFORMED,
    title: 'a message that cannot be decoded is dead-lettered (CODEC_MALFORMED) and the consumer goes on',
  },
  {
    kind: 'missing-id',
    needs: 'messagesWithoutId',
    code: ErrorCode.INVALID_ID,
    title:
      'a message without the id a transaction needs is dead-lettered (INVALID_ID) and the consumer goes on',
  },
  {
    kind: 'too-large',
    needs: 'oversizedMessages',
    code: ErrorCode.CODEC_TOO_LARGE,
    title: 'a message over the size limit is dead-lettered (CODEC_TOO_LARGE) and the consumer goes on',
  },
];

export function poisonCases(ctx: ConnectorSuiteContext, cases: CaseRegistry): void {
  describe('messages that cannot become transactions', () => {
    for (const { kind, needs, code, title } of KINDS) {
      cases.test(
        title,
        async () => {
          const main = await startedMain(ctx);
          if (!ctx.harness.publishRaw) throw new Error(`capability ${needs} needs harness.publishRaw`);
          await ctx.harness.publishRaw(kind);
          await publish(ctx, 0, 1);
          const txs = await collect(main, 1);
          expect(numbers(txs), 'only the good message is returned').toEqual([0]);
          await main.ack?.(txs[0] as ConformanceTransaction);
          const dead = await deadLetters(ctx);
          expect(dead).toHaveLength(1);
          expect(dead[0]?.reason.code).toBe(code);
          expect(dead[0]?.reason.message.length, 'the reason says what is wrong').toBeGreaterThan(10);
          await expectNothing(main, 500);
          expect(await ctx.harness.readDeadLetters()).toHaveLength(1);
        },
        { needs },
      );
    }
  });
}
