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
-- cancel request stored, else gets `err`. Returns true when it woke the parent.
local function finish(fkey, id, status, result, err, now)
  -- One read, one write and one delete of the hash (the hot end of every flow).
  local f = redis.call('HMGET', fkey, 'owner', 'queue', 'type', 'rm', 'parentId', 'error')
  local set = { 'status', status, 'waits', '[]', 'finishedAt', now, 'updatedAt', now }
  local del = { 'abandons', 'lastError', 'runAt', 'owner', 'lease', 'rm' }
  if result then
    set[#set + 1] = 'result'
    set[#set + 1] = result
  else
    del[#del + 1] = 'result'
  end
  if status == 'completed' then
    del[#del + 1] = 'error'
  elseif err and not (status == 'cancelled' and f[6]) then
    set[#set + 1] = 'error'
    set[#set + 1] = err
  end
  redis.call('HSET', fkey, unpack(set))
  redis.call('HDEL', fkey, unpack(del))
  if f[1] then
    redis.call('SREM', heldKey(f[1]), id)
  end
  -- Out of the claim indexes (what `reindex` does for a terminal flow).
  redis.call('ZREM', dueKey(f[2], f[3]), id)
  if f[4] then
    redis.call('ZREM', readyKey(f[2], f[3]), f[4])
  end
  redis.call('ZADD', FINISHED_KEY, now, id)
  publishFinished(id, status)
  local parentId = f[5]
  if parentId then
    local pkey = flowKey(parentId)
    local parent = redis.call('HMGET', pkey, 'status', 'waits')
    if parent[1] == 'suspended' and waitsOn(parent[2], 'child', 'flowId', id) then
      wake(pkey, parentId, now)
      return true
    end
  end
  return false
end
