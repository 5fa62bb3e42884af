-- Takes a flow under a new lease: status running, token + 1, runs + 1,
-- waits cleared, filed in its due set at the lease expiry. Taking over an
-- expired lease (the flow is still running) counts that run as abandoned.
--- @include "keys"
--- @include "index"
--- @include "owner"

-- `adm`: the queue whose limits the home partition admitted this run under (a flow outside
-- the home partition, see claim-1.lua), kept in the hash's "adm" field while it runs.
-- Returns the flow hash as a flat field/value list.
local function claimFlow(fkey, id, worker, leaseUntil, now, adm)
  -- One read and one write of the hash (what setOwner and reindex do, for a claim).
  local f = redis.call('HMGET', fkey, 'status', 'token', 'runs', 'abandons', 'owner', 'queue', 'type', 'rm', 'adm')
  local set = {
    'status', 'running', 'lease', leaseUntil, 'waits', '[]', 'updatedAt', now,
    'token', (tonumber(f[2]) or 0) + 1, 'runs', (tonumber(f[3]) or 0) + 1, 'owner', worker,
  }
  if f[1] == 'running' then
    set[#set + 1] = 'abandons'
    set[#set + 1] = (tonumber(f[4]) or 0) + 1
  end
  if adm then
    set[#set + 1] = 'adm'
    set[#set + 1] = adm
  elseif f[9] then
    redis.call('HDEL', fkey, 'adm')
  end
  redis.call('HSET', fkey, unpack(set))
  if f[5] and f[5] ~= worker then
    redis.call('SREM', heldKey(f[5]), id)
  end
  redis.call('SADD', heldKey(worker), id)
  if f[8] then
    redis.call('ZREM', readyKey(f[6], f[7]), f[8])
    redis.call('HDEL', fkey, 'rm')
  end
  -- Running: due again at the lease expiry (ZADD moves it if it is there already).
  redis.call('ZADD', dueKey(f[6], f[7]), leaseUntil, id)
  return redis.call('HGETALL', fkey)
end
