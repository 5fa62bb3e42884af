-- Moves a flow to a terminal state and wakes its parent if it waits on it.
--- @include "args"
--- @include "keys"
--- @include "index"
--- @include "events"
--- @include "waits"
--- @include "wake"
--- @include "owner"

-- `result` replaces the stored result (nil clears it). A completed flow has
-- no error; a failed one gets `err`; a cancelled one keeps the reason its
-- cancel request stored, else gets `err`.
local function finish(fkey, id, status, result, err, now)
  redis.call('HSET', fkey, 'status', status, 'waits', '[]', 'finishedAt', now, 'updatedAt', now)
  redis.call('HDEL', fkey, 'abandons', 'lastError')
  if result then
    redis.call('HSET', fkey, 'result', result)
  else
    redis.call('HDEL', fkey, 'result')
  end
  if status == 'completed' then
    redis.call('HDEL', fkey, 'error')
  elseif err and not (status == 'cancelled' and redis.call('HEXISTS', fkey, 'error') == 1) then
    redis.call('HSET', fkey, 'error', err)
  end
  redis.call('HDEL', fkey, 'runAt')
  clearOwner(fkey, id)
  reindex(fkey, id)
  redis.call('ZADD', FINISHED_KEY, now, id)
  publishFinished(id, status)
  local parentId = redis.call('HGET', fkey, 'parentId')
  if parentId then
    local pkey = flowKey(parentId)
    local parent = redis.call('HMGET', pkey, 'status', 'waits')
    if parent[1] == 'suspended' and waitsOn(parent[2], 'child', 'flowId', id) then
      wake(pkey, parentId, now)
    end
  end
end
