-- Suspending a flow (suspend, apply-writes).
--- @include "args"
--- @include "keys"
--- @include "fence"
--- @include "replay"
--- @include "finish"

-- Suspends the running flow on `waits` (JSON) and releases the lease, unless a
-- wait has resolved already: `due` is "1" when a timer is due now, `names` the
-- waited signal names, `children` the waited child ids. `runAt`: the earliest
-- timer, or nil. A resent copy of request `rid` answers the first reply.
-- Returns "suspended" | "ready" | "cancelled".
local function suspendOp(fkey, sigIndex, rid, id, token, now, waits, runAt, due, names, children)
  local previous = replayed(fkey, rid)
  if previous then
    return previous
  end
  if fence(fkey, id, token) then
    finish(fkey, id, 'cancelled', nil, nil, now)
    remember(fkey, rid, 'cancelled')
    return 'cancelled'
  end
  if due == '1' then
    return 'ready'
  end
  for _, name in ipairs(names) do
    local prefix = signalPrefix(name)
    if redis.call('ZRANGEBYLEX', sigIndex, '[' .. prefix, '[' .. prefix .. '\255', 'LIMIT', 0, 1)[1] then
      return 'ready'
    end
  end
  for _, child in ipairs(children) do
    if isTerminal(redis.call('HGET', flowKey(child), 'status')) then
      return 'ready'
    end
  end
  redis.call('HSET', fkey, 'status', 'suspended', 'waits', waits, 'updatedAt', now)
  clearOwner(fkey, id)
  if runAt then
    redis.call('HSET', fkey, 'runAt', runAt)
  else
    redis.call('HDEL', fkey, 'runAt')
  end
  redis.call('HDEL', fkey, 'abandons', 'lastError')
  reindex(fkey, id)
  if runAt then
    publishReady(redis.call('HGET', fkey, 'queue'), runAt, fkey, id)
  end
  remember(fkey, rid, 'suspended')
  return 'suspended'
end
