--[[
  Suspends a running flow on its waits and releases the lease, unless a wait
  has resolved already (a timer due, a waited signal buffered, a waited child
  terminal): then nothing changes and the answer is "ready". If cancellation
  was requested the flow is cancelled instead.

  Input:
    KEYS[1]  flow hash
    KEYS[2]  signal index of the flow

    ARGV[1]  key base "{prefix}:"
    ARGV[2]  request id (a resent copy answers the first reply)
    ARGV[3]  flow id
    ARGV[4]  fencing token
    ARGV[5]  now (ms)
    ARGV[6]  waits JSON
    ARGV[7]  earliest timer (optional): the new runAt
    ARGV[8]  "1" when a timer is due at now already, else "0"
    ARGV[9]  number of waited signal names, n
    ARGV[10 .. 9+n]     waited signal names
    ARGV[10+n .. #ARGV] waited child flow ids

  Output:
    "suspended" | "ready" | "cancelled"

  Errors: ERGON_FLOW_NOT_FOUND, ERGON_LEASE_LOST
  Events: ready with "at" (suspended on a timer); finished (cancelled).
]]
--- @include "includes/op-suspend"

local nNames = tonumber(ARGV[9])
local names, children = {}, {}
for i = 10, 9 + nNames do
  names[#names + 1] = ARGV[i]
end
for i = 10 + nNames, #ARGV do
  children[#children + 1] = ARGV[i]
end
return suspendOp(KEYS[1], KEYS[2], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], opt(ARGV[7]), ARGV[8], names, children)
