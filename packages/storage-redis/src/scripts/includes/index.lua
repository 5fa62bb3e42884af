-- Keeps the claim indexes in step with a flow's state.
--- @include "keys"

-- A ready-set entry's score: -priority (none, nil or false, is 0). Priority 0 (nearly every
-- flow) as the string "0": a number handed to redis.call goes through the floating-point printer
-- ("%.17g").
local function readyScore(priority)
  if not priority or priority == '0' then
    return '0'
  end
  return -(tonumber(priority) or 0)
end

-- Files the flow where its current state says, after any change of status,
-- runAt or lease: running → due at the lease expiry; pending or suspended with
-- a runAt → due at runAt; anything else (terminal, suspended on signals or
-- children only) → in no claim index. Removes it from the ready set if a claim
-- had promoted it there.
local function reindex(fkey, id)
  local f = redis.call('HMGET', fkey, 'queue', 'type', 'status', 'runAt', 'lease', 'rm')
  local due = dueKey(f[1], f[2])
  redis.call('ZREM', due, id)
  -- "rm": "" when the flow is in no ready set (includes/claim.lua).
  if f[6] and f[6] ~= '' then
    redis.call('ZREM', readyKey(f[1], f[2]), f[6])
    redis.call('HDEL', fkey, 'rm')
  end
  local status = f[3]
  if status == 'running' and f[5] then
    redis.call('ZADD', due, f[5], id)
  elseif (status == 'pending' or status == 'suspended') and f[4] then
    redis.call('ZADD', due, f[4], id)
  else
    dueLeft(due)
  end
end
