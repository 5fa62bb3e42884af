--[[
  finish-flow for a finish that carries its worker's next claim (core's FinishRequest.next): the
  finish (includes/op-finish), then, once it is written, the claim as claim-1.lua would make it
  (includes/claim-ready, claim-body), in one call. A finish refused (a stale token: an error) claims nothing.
  finish-flow leaves the claim's includes out: a script's every call makes its functions anew.

  Input:
    KEYS[1]  flow hash

    ARGV[1]  key base "{prefix}:"
    ARGV[2 .. 8]  as finish-flow (finish-flow-1.lua): request id, flow id, token, status,
             result, error, now
    ARGV[9 .. #ARGV]  the claim's arguments as claim-1.lua takes them from its ARGV[2]: worker,
             limit, lease expiry, now, flags (without "r": no report), queue count n, n queue
             and quota pairs, types

  Output:
    { finish-flow's reply ("1", or "w" when it woke the parent), claimed flow, ... }: each
    claimed flow as claim-1.lua returns it

  Errors: ERGON_FLOW_NOT_FOUND, ERGON_LEASE_LOST
  Events: as finish-flow.
]]
--- @include "includes/op-finish"
--- @include "includes/claim-ready"

local reply = finishOp(KEYS[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], opt(ARGV[6]), opt(ARGV[7]), ARGV[8])
worker, limit, leaseUntil, now, flags, queues, quotas, types = claimArgsAt(ARGV, 9, #ARGV)
--- @include "includes/claim-body"
table.insert(claimed, 1, reply)
return claimed
