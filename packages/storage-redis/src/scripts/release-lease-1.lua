--[[
  Gives a running flow back (graceful shutdown): pending, runAt = now, no
  lease. A stale token or a flow that is not running is ignored: someone else
  owns it already.

  Input:
    KEYS[1]  flow hash

    ARGV[1]  key base "{prefix}:"
    ARGV[2]  flow id
    ARGV[3]  fencing token
    ARGV[4]  now (ms)

  Output:
    1 when released, 0 when ignored

  Events: ready, when released.
]]
--- @include "includes/keys"
--- @include "includes/index"
--- @include "includes/events"

local fkey = KEYS[1]
local f = redis.call('HMGET', fkey, 'status', 'token', 'queue')
if f[1] ~= 'running' or f[2] ~= ARGV[3] then
  return 0
end
redis.call('HSET', fkey, 'status', 'pending', 'runAt', ARGV[4], 'updatedAt', ARGV[4])
redis.call('HDEL', fkey, 'owner', 'lease')
reindex(fkey, ARGV[2])
publishReady(f[3], nil)
return 1
