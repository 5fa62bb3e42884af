--[[
  Moves a running flow to a terminal state, releasing the lease, and wakes
  its parent if the parent waits on it.

  Input:
    KEYS[1]  flow hash

    ARGV[1]  key base "{prefix}:"
    ARGV[2]  request id (a resent copy answers the first reply)
    ARGV[3]  flow id
    ARGV[4]  fencing token
    ARGV[5]  status: completed | failed | cancelled
    ARGV[6]  encoded result (optional)
    ARGV[7]  encoded error (optional)
    ARGV[8]  now (ms)

  Output:
    "1", or "w" when it woke the parent

  Errors: ERGON_FLOW_NOT_FOUND, ERGON_LEASE_LOST
  Events: finished; ready for a woken parent.
]]
--- @include "includes/op-finish"

return finishOp(KEYS[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], opt(ARGV[6]), opt(ARGV[7]), ARGV[8])
