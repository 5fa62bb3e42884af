--[[
  Applies a batch of writes (records, suspensions, finishes of any flows) in
  one call, each exactly as its own script would, in order. A write that fails
  (a stale token) fails alone: its error is its outcome, the others go on.

  Input:
    KEYS[1]  the flow hash of the first write (routes the call to the store's slot)

    ARGV[1]  key base "{prefix}:"
    ARGV[2]  number of writes
    then per write its kind and its fields (a suspension: its kind, its field count n, and n fields):
      "r" flow id, token, position, record JSON          (as record-operation)
      "f" request id, flow id, token, status, result, error, now   (as finish-flow;
          optional ones as the scripts send them: "" or "=" .. value)
      "R" a record and then a finish of the same flow under the same token, two writes in one
          entry: flow id, token, position, record JSON, request id, status, result, error, now
      "q", "F", "P" as "r", "f", "R", of a plain flow: one its lease holder claimed without a
          parent, abandons, lastError or error (includes/finish.lua, internal/held.ts)
      "C" a "P" whose finish completes the flow with a result and no error (a step's end, then
          the flow's, the usual pair): flow id, token, position, record JSON, request id,
          result (the value itself), now
      "s" n, then n fields: request id, flow id, token, now, waits JSON, earliest timer or "",
          due "1"|"0", name count k, k names, then child ids       (as suspend)

  Output:
    the number of writes when every outcome is the common one; else
    per write, in order: 1 for the common outcome ({ 1, 0, "", 0 } of a record, { 1, "1" } of a
    finish), else { 1, outcome... } or { 0, error message }:
      "r" → { 1, existed, stored record JSON ("" when it is the one sent), cancelRequested }
      "f" → { 1, "1" | "w" (woke the parent) }
      "s" → { 1, "suspended" | "ready" | "cancelled" }

  Events: those of each write; the finishes' `finished` events in one message at the end
  (includes/events.lua, publishFinishedAll).

  A batch whose finishes carry their workers' next claims runs apply-claim instead: the same
  body (includes/apply-writes), then the claims (apply-claim-1.lua).
]]
--- @include "includes/apply-writes"
