-- Request ids make a state change safe to send twice. ioredis resends a
-- command that was in flight when the connection dropped; if the first copy
-- had run, the second finds its own request id and returns the first reply
-- instead of failing the fence or buffering a signal twice.

-- The stored reply when the flow's last change was request `rid`, else false.
local function replayed(fkey, rid)
  local r = redis.call('HMGET', fkey, 'rid', 'rep')
  if r[1] == rid then
    return r[2]
  end
  return false
end

local function remember(fkey, rid, reply)
  redis.call('HSET', fkey, 'rid', rid, 'rep', reply)
end
