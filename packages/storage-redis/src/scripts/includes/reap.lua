-- Expiring the leases of a worker declared dead.
--- @include "keys"
--- @include "index"
--- @include "events"
--- @include "owner"

-- Every flow `worker` still runs gets `lease = now`: claimable at once by any
-- worker (a claim bumps the token, so the dead one's late writes are refused).
-- Returns how many leases were expired. Runs admitted by the home partition
-- (field "adm") are appended to `admitted` as queue, "<id>:<token>", for the
-- caller to free their slots there.
local function expireLeases(worker, now, admitted)
  local held = heldKey(worker)
  local expired = 0
  for _, id in ipairs(redis.call('SMEMBERS', held)) do
    local fkey = flowKey(id)
    local f = redis.call('HMGET', fkey, 'status', 'owner', 'lease', 'queue', 'adm', 'token')
    if f[1] == 'running' and f[2] == worker and tonumber(f[3] or '0') > tonumber(now) then
      redis.call('HSET', fkey, 'lease', now)
      reindex(fkey, id)
      publishReady(f[4], nil, fkey, id)
      expired = expired + 1
      if admitted and f[5] then
        admitted[#admitted + 1] = f[5]
        admitted[#admitted + 1] = id .. ':' .. (f[6] or '0')
      end
    end
  end
  redis.call('DEL', held)
  -- Nothing is handed to it any more (park.lua).
  redis.call('HDEL', PARKED_KEY, worker)
  return expired
end
