/**
 * The batch statement (`applyWrites`): many flows' history records and
 * finishes in one call of the function `ergon_batch` (`batch-function.ts`),
 * each list passed as one JSON array (`toBatchValues`: serialising one JSON
 * text cost the driver half what escaping 19 arrays element by element did);
 * and the create statement of `createFlows`.
 *
 * @module
 */
import type { FinishRequest, RecordRequest } from '@ergon/core';
import { sql } from 'kysely';
import { BATCH_FUNCTION } from './batch-function.js';
import { BATCH_NOTIFY_FUNCTION } from './batch-notify.js';
import { param } from './db.js';
import type { Builder } from './queries.js';
import type { FlowRow } from './rows.js';

const arr = (name: string) => param<unknown[]>(name);
const num = (name: string) => param<number>(name);

/** A write the batch statement did not make: `r` the record, `f` the finish, `n`-th of its list (from 1). */
export interface BatchRow {
  op: 'r' | 'f';
  n: number;
}

/**
 * The batch statement's values: the records and the finishes, each a JSON array of objects with
 * one-letter keys (those of the statement's column lists; an undefined field is left out, and
 * reads as null).
 */
export function toBatchValues(
  records: readonly RecordRequest[],
  finishes: readonly FinishRequest[],
): { records: string; finishes: string; recordCount: number; finishCount: number } {
  // Each flow's record tokens: one token, or NaN when its records carry different ones.
  const tokens = new Map<string, number>();
  for (const { record, token } of records) {
    const seen = tokens.get(record.flowId);
    tokens.set(record.flowId, seen === undefined || seen === token ? token : Number.NaN);
  }
  return {
    recordCount: records.length,
    finishCount: finishes.length,
    records: jsonText(
      records.map(({ record: r, token }) => ({
        f: r.flowId,
        t: token,
        p: r.position,
        k: r.key,
        d: r.kind,
        s: r.status,
        a: r.attempts,
        q: r.seq,
        w: r.wakeAt,
        b: r.startedAt,
        e: r.finishedAt,
        x: r.error,
        r: r.result,
      })),
    ),
    finishes: jsonText(
      finishes.map((w) => ({
        f: w.flowId,
        t: w.token,
        s: w.status,
        r: w.result,
        x: w.error,
        m: w.now,
        h: recordsOf(w, tokens),
      })),
    ),
  };
}

/**
 * What a finish's flow has among the records of its batch (`h` in the statement): 0 none, 1 records
 * of the finish's lease only (the finish then applies only without a pending cancel: their check),
 * 2 records of another lease (the statement leaves the finish to the single path).
 */
function recordsOf(finish: FinishRequest, tokens: ReadonlyMap<string, number>): 0 | 1 | 2 {
  const token = tokens.get(finish.flowId);
  if (token === undefined) return 0;
  return token === finish.token ? 1 : 2;
}

/** A lone UTF-16 surrogate, written out by `JSON.stringify` as a `\\ud800`–`\\udfff` escape. */
const LONE_ESCAPE = /\\ud[89a-f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * `value` as JSON text for the server. A lone surrogate in a string becomes U+FFFD, as pg's UTF-8
 * encoding of a text parameter makes it: PostgreSQL refuses its `\\ud800` escape in JSON, which
 * would fail the whole batch. (The test can match an escaped backslash followed by such text:
 * that costs a second pass, nothing else.)
 */
function jsonText(value: unknown): string {
  const text = JSON.stringify(value);
  if (!LONE_ESCAPE.test(text)) return text;
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'string' ? v.replace(LONE_SURROGATE, '\ufffd') : v,
  );
}

/** The batch statements of a store. */
export function batchQueries(b: Builder) {
  const { t, raw } = b;
  return {
    batch: raw<BatchRow>(
      'batch',
      sql`select o_op as op, o_n as n from ${t(BATCH_FUNCTION as never)}(${param('records')}::json,
            ${num('recordCount')}::int, ${param('finishes')}::json, ${num('finishCount')}::int)`,
    ),
    // The same, notifying `payloads` on `channel` in its transaction when it made every write (`batch-notify.ts`).
    batchNotify: raw<BatchRow>(
      'batch_notify',
      sql`select o_op as op, o_n as n from ${t(BATCH_NOTIFY_FUNCTION as never)}(${param('records')}::json,
            ${num('recordCount')}::int, ${param('finishes')}::json, ${num('finishCount')}::int,
            ${param('channel')}::text, ${param('payloads')}::text[])`,
    ),
  };
}

/** The create statement of a store (`createFlows`): many new flows, some already claimed. */
export function createQueries(b: Builder) {
  const { t, raw } = b;
  return {
    // A row per new flow; `cWorker` set: inserted running under that lease (fencing token 1,
    // first run), as a claim of it would leave it. Existing ids are left as they are.
    insertFlows: raw<FlowRow>(
      'insert_flows',
      sql`insert into ${t('flows')} (id, type, queue, status, priority, input, parent_id, run_at,
            trace_context, fencing_token, lease_owner, lease_expires_at, run_count, created_at, updated_at)
          select c.id, c.type, c.queue, case when c.worker is null then 'pending' else 'running' end,
            c.priority, c.input, c.parent_id, c.run_at, c.trace_context,
            case when c.worker is null then 0 else 1 end, c.worker, c.expires_at,
            case when c.worker is null then 0 else 1 end, c.now, c.now
          from unnest(${arr('cId')}::text[], ${arr('cType')}::text[], ${arr('cQueue')}::text[],
            ${arr('cPriority')}::bigint[], ${arr('cInput')}::text[], ${arr('cParent')}::text[],
            ${arr('cRunAt')}::bigint[], ${arr('cTrace')}::text[], ${arr('cWorker')}::text[],
            ${arr('cExpiresAt')}::bigint[], ${arr('cNow')}::bigint[])
            as c(id, type, queue, priority, input, parent_id, run_at, trace_context, worker, expires_at, now)
          on conflict (id) do nothing
          returning *`,
    ),
    flowsById: raw<FlowRow>(
      'flows_by_id',
      sql`select * from ${t('flows')} where id = any(${arr('ids')}::text[])`,
    ),
  };
}
