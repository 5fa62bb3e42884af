-- Takes a flow under a new lease: status running, token + 1, runs + 1,
-- waits cleared, filed in its due set at the lease expiry. Taking over an
-- expired lease (the flow is still running) counts that run as abandoned.
--- @include "keys"
--- @include "index"
--- @include "owner"

-- Returns the flow hash as a flat field/value list.
local function claimFlow(fkey, id, worker, leaseUntil, now)
  if redis.call('HGET', fkey, 'status') == 'running' then
    redis.call('HINCRBY', fkey, 'abandons', 1)
  end
  redis.call('HINCRBY', fkey, 'token', 1)
  redis.call('HINCRBY', fkey, 'runs', 1)
  setOwner(fkey, id, worker)
  redis.call('HSET', fkey, 'status', 'running', 'lease', leaseUntil, 'waits', '[]', 'updatedAt', now)
  reindex(fkey, id)
  return redis.call('HGETALL', fkey)
end
