-- Who holds a running flow's lease: the flow hash's `owner` field, mirrored in
-- the owner's held set (`held:<worker>`), so a worker declared dead has its
-- leases expired without scanning every flow. The set may keep an id whose
-- lease moved on; readers check `owner` again.
--- @include "keys"

local function heldKey(worker)
  return P .. 'held:' .. worker
end

-- The flow is now held by `worker` (a claim).
local function setOwner(fkey, id, worker)
  local previous = redis.call('HGET', fkey, 'owner')
  if previous and previous ~= worker then
    redis.call('SREM', heldKey(previous), id)
  end
  redis.call('SADD', heldKey(worker), id)
  redis.call('HSET', fkey, 'owner', worker)
end

-- Nobody holds the flow any more (suspend, release, finish).
local function clearOwner(fkey, id)
  local owner = redis.call('HGET', fkey, 'owner')
  if owner then
    redis.call('SREM', heldKey(owner), id)
  end
  redis.call('HDEL', fkey, 'owner', 'lease')
end
