-- Moves a flow to a terminal state and wakes its parent if it waits on it.
--- @include "args"
--- @include "keys"
--- @include "index"
--- @include "events"
--- @include "waits"
--- @include "wake"
--- @include "owner"

-- The fields `finish` reads, in the order it reads them: a caller that reads the hash anyway
-- asks for these too (HMGET fkey, ..., unpack(FINISH_FIELDS)) and passes them as `pre`.
local FINISH_FIELDS = { 'owner', 'queue', 'type', 'rm', 'parentId', 'error' }

-- `result` replaces the stored result (nil clears it). A completed flow has
-- no error; a failed one gets `err`; a cancelled one keeps the reason its
-- cancel request stored, else gets `err`. `pre`, when given, is the hash's
-- FINISH_FIELDS already read (from index `from`); `extra` are more field/value
-- pairs to set in the same write. Returns true when it woke the parent.
local function finish(fkey, id, status, result, err, now, pre, from, extra)
  -- One read, one write and one delete of the hash (the hot end of every flow).
  -- f[o + 1] .. f[o + 6]: FINISH_FIELDS, read here or by the caller (no copy of its list).
  local f, o = pre, (from or 1) - 1
  if not pre then
    f, o = redis.call('HMGET', fkey, unpack(FINISH_FIELDS)), 0
  end
  local set = { 'status', status, 'waits', '[]', 'finishedAt', now, 'updatedAt', now }
  if extra then
    for i = 1, #extra do
      set[#set + 1] = extra[i]
    end
  end
  -- Owner and ready-set member only when the hash has them (`f` read them): each field HDEL
  -- looks for is a scan of the hash.
  local del = { 'abandons', 'lastError', 'runAt', 'lease' }
  if f[o + 1] then
    del[#del + 1] = 'owner'
  end
  if f[o + 4] then
    del[#del + 1] = 'rm'
  end
  if result then
    set[#set + 1] = 'result'
    set[#set + 1] = result
  else
    del[#del + 1] = 'result'
  end
  if status == 'completed' then
    del[#del + 1] = 'error'
  elseif err and not (status == 'cancelled' and f[o + 6]) then
    set[#set + 1] = 'error'
    set[#set + 1] = err
  end
  redis.call('HSET', fkey, unpack(set))
  redis.call('HDEL', fkey, unpack(del))
  if f[o + 1] then
    redis.call('SREM', heldKey(f[o + 1]), id)
  end
  -- Out of the claim indexes (what `reindex` does for a terminal flow).
  redis.call('ZREM', dueKey(f[o + 2], f[o + 3]), id)
  if f[o + 4] then
    redis.call('ZREM', readyKey(f[o + 2], f[o + 3]), f[o + 4])
  end
  redis.call('ZADD', FINISHED_KEY, now, id)
  publishFinished(id, status)
  local parentId = f[o + 5]
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
