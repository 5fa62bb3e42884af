--[[
  Deletes terminal flows finished before a cut-off, oldest first, with their
  history, signals and index entries.

  Input:
    KEYS[1]  finished index (score finishedAt, member id)
    KEYS[2]  created index

    Each flow's own keys are derived from ARGV[1].

    ARGV[1]  key base "{prefix}:"
    ARGV[2]  cut-off: finishedAt must be strictly before it (ms)
    ARGV[3]  limit

  Output:
    the ids of the flows deleted
]]
--- @include "includes/keys"

local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do
  local fkey = flowKey(id)
  local createdAt = redis.call('HGET', fkey, 'createdAt')
  if createdAt then
    redis.call('ZREM', KEYS[2], orderPart(createdAt) .. id)
  end
  redis.call('DEL', fkey, histKey(id), sigKey(id), sigIndexKey(id), sigRidKey(id))
  redis.call('ZREM', KEYS[1], id)
end
return ids
