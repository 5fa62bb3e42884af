--[[
  apply-writes for a batch whose finishes carry their workers' next claims (core's
  FinishRequest.next): the same body (includes/apply-writes), then, once every write is made,
  each claim as claim-1.lua would make it (includes/claim-ready, claim-body). The client merges the next
  claims of one worker with the same types, queues and lease into one claim (internal/next.ts):
  its limit is the sum of those of its finishes that succeeded here (a finish refused claims
  nothing), and the worker parks once, with the slots the whole claim leaves free.
  apply-writes leaves the claim's includes out: a script's every call makes its functions anew.

  Input:
    KEYS[1]  the flow hash of the first write (routes the call to the store's slot)

    ARGV[1]  key base "{prefix}:"
    ARGV[2 .. k]  as apply-writes (apply-writes-1.lua), its writes ending at ARGV[k]
    ARGV[k+1]  number of claims
    then per claim: its finish count m, m pairs (the finish's place among the writes, its
               limit), the claim's argument count n, and n arguments as claim-1.lua takes them
               from its ARGV[2] (worker, limit (unused: the sum above is), lease expiry, now,
               flags without "r", queue count, queue and quota pairs, types)

  Output:
    { apply-writes' reply, then per claim its claimed flows: { claimed flow, ... } }, each
    claimed flow as claim-1.lua returns it

  Events: as apply-writes.
]]
--- @include "includes/claim-ready"
--- @include "includes/apply-writes"

-- The claims after the writes, from ARGV[at] (the writes' outcomes in `out`, their reply `result`).
local reply = { result }
local nClaims = tonumber(ARGV[at])
at = at + 1
for c = 1, nClaims do
  local m = tonumber(ARGV[at])
  local lim = 0
  for i = at + 1, at + 2 * m, 2 do
    -- A finish's outcome: 1 (the common one), { 1, reply } or { 0, error }.
    local o = out[tonumber(ARGV[i])]
    if o == 1 or (type(o) == 'table' and o[1] == 1) then
      lim = lim + tonumber(ARGV[i + 1])
    end
  end
  at = at + 1 + 2 * m
  local n = tonumber(ARGV[at])
  reply[c + 1] = {}
  if lim > 0 then
    worker, limit, leaseUntil, now, flags, queues, quotas, types = claimArgsAt(ARGV, at + 1, at + n)
    limit = lim
--- @include "includes/claim-body"
    reply[c + 1] = claimed
  end
  at = at + 1 + n
end
return reply
