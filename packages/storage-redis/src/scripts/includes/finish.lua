-- Moves a flow to a terminal state and wakes its parent if it waits on it.
--- @include "args"
--- @include "keys"
--- @include "index"
--- @include "events"
--- @include "waits"
--- @include "wake"

-- `result` replaces the stored result (nil clears it); `err` replaces the
-- stored error only when given (a cancellation reason survives a later
-- finish without one).
local function finish(fkey, id, status, result, err, now)
  redis.call('HSET', fkey, 'status', status, 'waits', '[]', 'finishedAt', now, 'updatedAt', now)
  if result then
    redis.call('HSET', fkey, 'result', result)
  else
    redis.call('HDEL', fkey, 'result')
  end
  if err then
    redis.call('HSET', fkey, 'error', err)
  end
  redis.call('HDEL', fkey, 'runAt', 'owner', 'lease')
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
