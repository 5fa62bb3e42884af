import type { OperationRecord } from '@ergon/core';
import { describe, expect, it } from 'vitest';
import { NonDeterminismError } from '../errors.js';
import { HistoryCursor } from './history-cursor.js';

const record = (position: number, key: string): OperationRecord => ({
  flowId: 'f',
  position,
  key,
  kind: 'step',
  status: 'completed',
  attempts: 1,
  startedAt: 0,
  finishedAt: 0,
});

describe('HistoryCursor', () => {
  it('numbers each name by its own earlier calls, however the names interleave', () => {
    const cursor = new HistoryCursor('f', []);
    const keys = ['a', 'b', 'a', 'c', 'b', 'a'].map((name) => cursor.take('step', name).key);
    expect(keys).toEqual(['a#0', 'b#0', 'a#1', 'c#0', 'b#1', 'a#2']);
    expect(cursor.next).toBe(6);
  });

  it('finds each recorded operation at its position and refuses another one there', () => {
    const history = [record(0, 'a#0'), record(1, 'b#0'), record(2, 'a#1')];
    const cursor = new HistoryCursor('f', history);
    expect(cursor.take('step', 'a').record).toBe(history[0]);
    expect(cursor.take('step', 'b').record).toBe(history[1]);
    expect(cursor.replaying).toBe(true);
    expect(() => cursor.take('step', 'b')).toThrow(NonDeterminismError);
  });
});
