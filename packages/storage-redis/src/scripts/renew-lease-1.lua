--[[
  Extends the lease of a running flow held under this token.

  Input:
    KEYS[1]  flow hash

    ARGV[1]  key base "{prefix}:"
    ARGV[2]  flow id
    ARGV[3]  fencing token
    ARGV[4]  new lease expiry (now + leaseMs)

  Output:
    1 when cancellation was requested, else 0

  Errors: ERGON_FLOW_NOT_FOUND, ERGON_LEASE_LOST
]]
--- @include "includes/keys"
--- @include "includes/index"
--- @include "includes/fence"

local fkey = KEYS[1]
local cancel = fence(fkey, ARGV[2], ARGV[3])
-- Never shortened: a renewal that runs after a later one (a resend, or one
-- the client gave up waiting for) leaves the later expiry.
if tonumber(ARGV[4]) > tonumber(redis.call('HGET', fkey, 'lease') or '0') then
  redis.call('HSET', fkey, 'lease', ARGV[4])
  -- Re-files the lease expiry, and takes the flow back out of the ready set if
  -- a claim had promoted it there after the old expiry.
  reindex(fkey, ARGV[2])
end
if cancel then
  return 1
end
return 0
