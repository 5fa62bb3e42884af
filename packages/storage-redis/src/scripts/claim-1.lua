--[[
  Claims up to `limit` ready flows of the given queues and types, each with a
  lease and a new fencing token.

  A flow is ready when it is pending or suspended with runAt <= now, or
  running with a lease that expired at or before now. Due flows are first
  moved from each (queue, type) due set into its ready set (at most 1000 per
  set and call, so one call stays short under a large backlog); the ready
  sets are ordered by priority descending, then runAt ascending, then id.

  Input:
    KEYS[1]  the store's created index, for routing only: Redis Cluster sends
             the script to the node of its slot, which every key of the
             store shares; the (queue, type) index keys are derived from ARGV[1]

    ARGV[1]  key base "{prefix}:"
    ARGV[2]  worker id
    ARGV[3]  limit
    ARGV[4]  lease expiry (now + leaseMs)
    ARGV[5]  now (ms)
    ARGV[6]  number of queues, n
    ARGV[7 .. 6+n]    queues
    ARGV[7+n .. #ARGV] types

  Output:
    a list of claimed flows, each its hash as a flat field/value list (the
    new token is the "token" field)
]]
--- @include "includes/args"
--- @include "includes/keys"
--- @include "includes/index"
--- @include "includes/claim"

local PROMOTE_MAX = 1000
local worker, limit, leaseUntil, now = ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local nQueues = tonumber(ARGV[6])
local queues, types = {}, {}
for i = 7, 6 + nQueues do
  queues[#queues + 1] = ARGV[i]
end
for i = 7 + nQueues, #ARGV do
  types[#types + 1] = ARGV[i]
end

local candidates = {}
for _, queue in ipairs(queues) do
  for _, ftype in ipairs(types) do
    local due, ready = dueKey(queue, ftype), readyKey(queue, ftype)
    local ids = redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, PROMOTE_MAX)
    for _, id in ipairs(ids) do
      local fkey = flowKey(id)
      local f = redis.call('HMGET', fkey, 'priority', 'runAt')
      local member = orderPart(f[2] or 0) .. id
      redis.call('ZADD', ready, -(tonumber(f[1]) or 0), member)
      redis.call('HSET', fkey, 'rm', member)
      redis.call('ZREM', due, id)
    end
    local top = redis.call('ZRANGE', ready, 0, limit - 1, 'WITHSCORES')
    for i = 1, #top, 2 do
      candidates[#candidates + 1] = { tonumber(top[i + 1]), top[i], ready }
    end
  end
end

table.sort(candidates, function(a, b)
  if a[1] ~= b[1] then
    return a[1] < b[1]
  end
  return a[2] < b[2]
end)

local claimed = {}
for i = 1, math.min(limit, #candidates) do
  local member, ready = candidates[i][2], candidates[i][3]
  local id = string.sub(member, 17)
  local fkey = flowKey(id)
  local status = redis.call('HGET', fkey, 'status')
  if status == 'pending' or status == 'suspended' or status == 'running' then
    claimed[#claimed + 1] = claimFlow(fkey, id, worker, leaseUntil, now)
  else
    -- Defensive: an entry whose flow vanished or finished is dropped, not claimed.
    redis.call('ZREM', ready, member)
  end
end
return claimed
