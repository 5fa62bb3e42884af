--[[
  Creates a flow, or returns the existing one with that id (idempotent).

  Input:
    KEYS[1]  flow hash

    ARGV[1]  key base "{prefix}:"
    ARGV[2]  request id (a resent copy of the creating request still answers created = 1)
    ARGV[3]  flow id
    ARGV[4]  type
    ARGV[5]  queue
    ARGV[6]  encoded input
    ARGV[7]  priority
    ARGV[8]  runAt (ms)
    ARGV[9]  parent id (optional)
    ARGV[10] trace context (optional)
    ARGV[11] now (ms)
    ARGV[12] concurrency key (optional)
    ARGV[13] concurrency limit (optional)
    ARGV[14] dedup key (optional)
    ARGV[15] dedup period, ms (optional: without it, while the flow is not finished)
    ARGV[16] debounce key (optional)
    ARGV[17] debounce delay, ms (optional)
    ARGV[18] debounce max wait, ms (optional)
    ARGV[19] worker id to claim the new flow for (NewFlow.claim; optional)
    ARGV[20] its lease expiry (now + leaseMs), with ARGV[19]
    ARGV[21] "h" when this partition keeps the queues' limits (the home partition), else ""

  Output:
    { created: 0 | 1, flow hash as a flat field/value list, claimed }; with a
    dedup or debounce key held by a live flow, { 0, that flow, 0 } (a debounce
    moves its input to this one's and its start to now + delay, capped by max
    wait). claimed: 1 when the new flow was claimed for ARGV[19] (the hash is
    then the claimed flow's), "admit" when its queue's limits are kept in the
    home partition and this is another (the caller claims it by id, under
    admission), else 0. The flow hash is false (none sent) for a flow filed straight in its ready
    set without flow control or debounce: it is the flow as the caller sent it.

  A create that asks for a claim (ARGV[19]) runs create-flow-claim instead: the same body
  (includes/create) with includes/claim, which the claim of a flow of a queue with limits needs.

  Events: ready (with "at" when runAt is after now), when created and not claimed; handed
  instead, when a parked worker took it (includes/park.lua: claimed is then 0, and the hash
  is the claimed flow's).
]]
--- @include "includes/create"
