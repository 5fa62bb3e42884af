--[[
  Registers or refreshes a worker and declares dead, in the same step, every
  worker not heard from since the cut-off: removes it and expires the leases
  it holds, so its flows are claimable at once.

  Input:
    KEYS[1]  workers hash (id → JSON record)
    KEYS[2]  workers' last-seen sorted set (score: last heartbeat ms)

    ARGV[1]  key base "{prefix}:"
    ARGV[2]  worker id
    ARGV[3]  the worker's JSON record (lastSeenAt included)
    ARGV[4]  now (ms)
    ARGV[5]  cut-off (ms): workers last seen before it are dead

  Output:
    the ids of the workers declared dead (none on a late beat, or when this
    worker's own previous beat is older than the cut-off)

  Events: ready, per expired lease.
]]
--- @include "includes/keys"
--- @include "includes/reap"

local workers, seen, id, now = KEYS[1], KEYS[2], ARGV[2], ARGV[4]
-- Never back in time (a resent copy of an earlier beat); a worker that lapsed
-- itself judges no one this beat: its silence says it stalled, and so may theirs.
local previous = redis.call('ZSCORE', seen, id)
if previous and tonumber(previous) > tonumber(now) then
  return {}
end
redis.call('HSET', workers, id, ARGV[3])
redis.call('ZADD', seen, now, id)
if previous and tonumber(previous) < tonumber(ARGV[5]) then
  return {}
end
local dead = redis.call('ZRANGEBYSCORE', seen, '-inf', '(' .. ARGV[5])
for _, worker in ipairs(dead) do
  redis.call('HDEL', workers, worker)
  redis.call('ZREM', seen, worker)
  expireLeases(worker, now)
end
return dead
