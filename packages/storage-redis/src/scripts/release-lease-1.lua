--[[
  Gives a running flow back: pending, runAt = retry time (default now), no
  lease. With an error (a run abandoned on a failure), the flow's lastError
  becomes it and its abandoned runs grow by one. A stale token or a flow that
  is not running is ignored: someone else owns it already.

  Input:
    KEYS[1]  flow hash

    ARGV[1]  key base "{prefix}:"
    ARGV[2]  flow id
    ARGV[3]  fencing token
    ARGV[4]  now (ms)
    ARGV[5]  encoded error (optional)
    ARGV[6]  retry time (ms, optional; default now)

  Output:
    1 when released, 0 when ignored

  Events: ready (at the retry time when later), when released.
]]
--- @include "includes/args"
--- @include "includes/keys"
--- @include "includes/index"
--- @include "includes/events"
--- @include "includes/owner"

local fkey = KEYS[1]
local f = redis.call('HMGET', fkey, 'status', 'token', 'queue')
if f[1] ~= 'running' or f[2] ~= ARGV[3] then
  return 0
end
local err, retryAt = opt(ARGV[5]), opt(ARGV[6])
local runAt = retryAt or ARGV[4]
redis.call('HSET', fkey, 'status', 'pending', 'runAt', runAt, 'updatedAt', ARGV[4])
if err then
  redis.call('HSET', fkey, 'lastError', err)
  redis.call('HINCRBY', fkey, 'abandons', 1)
end
clearOwner(fkey, ARGV[2])
reindex(fkey, ARGV[2])
if tonumber(runAt) > tonumber(ARGV[4]) then
  publishReady(f[3], runAt, fkey, ARGV[2])
else
  publishReady(f[3], nil, fkey, ARGV[2])
end
return 1
